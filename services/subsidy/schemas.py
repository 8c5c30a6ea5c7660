"""Input schemas of the subsidy service's RPCs. Every invalid field is reported at once."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.fields import CAMPAIGN_CODE, IsoDate, Money, Pattern, identifier, not_blank, reasons

from services.subsidy.domain import Status

REASONS = reasons()
REFERENCE = fields.String(required=True, validate=[validate.Length(min=2, max=100), not_blank])


class PayeeSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=2, max=200), not_blank])
    bank = fields.String(required=True, validate=[validate.Length(min=2, max=200), not_blank])
    account = fields.String(required=True, validate=Pattern(r"^[0-9]{8,32}$", error="8–32 digits / 账号为8–32位数字"))


class InvoiceSchema(Schema):
    contract_id = identifier()
    kind = fields.String(required=True, validate=validate.OneOf(["invoice", "payment_voucher"]))
    number = fields.String(required=True, validate=[validate.Length(min=1, max=100), not_blank])
    date = IsoDate(required=True)
    amount = Money(required=True)


class DetailsSchema(Schema):
    payee = fields.Nested(PayeeSchema, required=True)
    invoices = fields.List(fields.Nested(InvoiceSchema), required=True, validate=validate.Length(min=1, max=100))

    @validates_schema
    def each_once(self, data: dict[str, Any], **_: Any) -> None:
        """The same invoice twice would count its amount twice against the contract's fee."""
        seen = [(i["contract_id"], i["kind"], i["number"].strip()) for i in data.get("invoices", [])]
        if len(seen) != len(set(seen)):
            raise ValidationError({"invoices": ["each invoice or voucher once (contract, kind, number) / 发票、凭证不得重复"]})


class StampSchema(Schema):
    remarks = fields.String(load_default="", validate=validate.Length(max=2000))


class SendBackSchema(Schema):
    reasons = REASONS


class ApproveSchema(Schema):
    amount = Money(required=True)


class PaymentSchema(Schema):
    paid_on = IsoDate(required=True)
    amount = Money(required=True)
    voucher_reference = REFERENCE


class RecoverySchema(Schema):
    recovered_on = IsoDate(required=True)
    amount = Money(required=True)
    reference = REFERENCE


class VerifySchema(Schema):
    """What a stamped paper copy shows on every page."""

    application_id = identifier()
    position = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**53))
    digest = fields.String(required=True, validate=Pattern(r"^[0-9a-f]{64}$"))


class CaseQuerySchema(Schema):
    campaign_code = fields.String(load_default=None, validate=CAMPAIGN_CODE)
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in Status]))


class ExportSchema(Schema):
    campaign_code = fields.String(required=True, validate=CAMPAIGN_CODE)
    list = fields.String(required=True, validate=validate.OneOf(["payments", "city_totals"]))
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))
