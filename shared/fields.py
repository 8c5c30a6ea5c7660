"""marshmallow fields shared by every service's input schemas. Values come out in the form events
store and publish: money as a decimal string in yuan with two places, dates as ISO strings."""
from __future__ import annotations

import base64
import re
import binascii
from datetime import date
from decimal import Decimal
from typing import Any, cast

from marshmallow import ValidationError, fields, validate
from stdnum.cn import uscc as stdnum_uscc

import shared.messages  # noqa: F401  (bilingual field messages for every schema)


class Money(fields.Field):
    """Yuan, at most two decimal places, not negative: '12500' -> '12500.00'. Given as a JSON integer
    or as a string of plain digits with an optional decimal point and one or two decimals: no sign,
    no exponent, no spaces, no other digits than 0–9 (what Python's Decimal would also accept, e.g.
    "1e3", " 17000" or "１７０００", is refused: an amount reads the same in every language)."""

    MAX = Decimal("999999999999.99")  # a trillion yuan: beyond any contract, and within NUMERIC(14, 2)
    FORM = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, float) or isinstance(value, bool):
            raise ValidationError("give money as a string or integer, e.g. \"12500.00\" / 金额请用字符串表示")
        if isinstance(value, int):
            if value < 0:
                raise ValidationError("must be a non-negative amount / 金额不能为负")
            text = str(value)
        elif isinstance(value, str):
            text = value
        else:
            raise ValidationError("not an amount / 不是有效金额")
        if self.FORM.fullmatch(text) is None:
            raise ValidationError("digits with at most two decimals, e.g. \"12500.00\" / 金额须为数字，最多两位小数")
        amount = Decimal(text)
        if amount > self.MAX:
            raise ValidationError(f"at most {self.MAX} yuan / 金额超出上限")
        return str(amount.quantize(Decimal("0.01")))

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else str(value)


class IsoDate(fields.Date):
    """A calendar date written YYYY-MM-DD (not the other forms Python's parser also reads, such as
    20180510 or 2018-W19-4), kept as its ISO string."""

    FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:  # type: ignore[override]
        if not isinstance(value, str) or self.FORM.fullmatch(value) is None:
            raise ValidationError("a date written YYYY-MM-DD / 日期格式须为YYYY-MM-DD")
        parsed: date = super()._deserialize(value, attr, data, **kwargs)
        return parsed.isoformat()

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class CreditCode(fields.String):
    """Unified social credit code (GB 32100), check digit verified by python-stdnum."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if not stdnum_uscc.is_valid(text):
            raise ValidationError("not a valid unified social credit code (check digit) / 统一社会信用代码无效")
        return text


class WholeNumber(fields.Integer):
    """An integer given as a JSON number: not a boolean, not a string, not a float, and within a
    64-bit column (PostgreSQL BIGINT) unless a narrower range is given."""

    INT64 = 2**63 - 1

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        number = super()._deserialize(value, attr, data, **kwargs)
        if not -self.INT64 - 1 <= number <= self.INT64:
            raise ValidationError("number too large / 数值过大")
        return number


class Base64Content(fields.String):
    """A file's bytes, given as standard base64 text: strictly decoded, never empty."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bytes:  # type: ignore[override]
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            content = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("not base64 / 不是base64编码") from None
        if not content:
            raise ValidationError("empty file / 文件为空")
        return content


class Pattern(validate.Regexp):
    """A regular expression the whole value must match. marshmallow's Regexp uses `re.match`, where
    `$` also matches before a final newline: "cloudco\n" would pass `^[a-z]+$` and reach the
    events. `fullmatch` closes that; the pattern keeps the `^…$` form readers of any language know."""

    def __call__(self, value: Any) -> Any:
        regex = cast("re.Pattern[str]", self.regex)
        if not isinstance(value, str) or regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def not_blank(value: str) -> None:
    """Text that says something: not only spaces."""
    if not value.strip():
        raise ValidationError("must not be blank / 不能为空白")


# Identifiers more than one service validates.
PROVIDER_ID = Pattern(r"^[a-z0-9][a-z0-9_-]{1,63}$", error="2–64 of a-z 0-9 _ - / 服务商标识为2–64位小写字母、数字、_或-")
CAMPAIGN_CODE = Pattern(r"^[A-Za-z0-9_-]{2,32}$")
CRITERION_CODE = Pattern(r"^[a-z0-9_]{1,32}$", error="1–32 of a-z 0-9 _ / 评分项目代码为1–32位小写字母、数字或_")


def reasons() -> fields.List:
    """Reasons given for a decision: 1–20 of them, each 2–2000 characters, not blank."""
    return fields.List(fields.String(validate=[validate.Length(min=2, max=2000), not_blank]), required=True,
                       validate=validate.Length(min=1, max=20))


def identifier(**kwargs: Any) -> fields.String:
    """An id argument (application, contract, document...): a non-empty string of bounded length."""
    return fields.String(required=True, validate=validate.Length(min=1, max=64), **kwargs)
