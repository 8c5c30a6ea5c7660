"""Typed errors: a stable code, a message in Chinese and in English, and details.

They cross RPC as the same classes (shared/nameko_service.py registers them with nameko), so a
Python caller can `except NotFound:`; any other caller reads the same payload as JSON text from
nameko's error reply (docs/rpc.md, "The wire")."""
from __future__ import annotations

import json
from typing import Any, ClassVar


class ServiceError(Exception):
    code: ClassVar[str] = "error"
    message_zh: ClassVar[str] = "操作失败"
    message_en: ClassVar[str] = "The operation failed"

    def __init__(
        self,
        details: dict[str, Any] | str | None = None,
        *,
        zh: str | None = None,
        en: str | None = None,
    ) -> None:
        if isinstance(details, str):
            payload = _from_wire(details, self.code)  # rebuilt on the caller's side
        else:
            payload = {
                "code": self.code,
                "message_zh": zh or self.message_zh,
                "message_en": en or self.message_en,
                "details": details or {},
            }
        self.payload = payload
        # The only argument is the payload as JSON text: nameko carries string arguments unchanged
        # (it stringifies any other value), so every caller, in any language, reads the same JSON.
        super().__init__(json.dumps(payload, ensure_ascii=False, default=str))

    @property
    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = self.payload["details"]
        return details

    @property
    def message(self) -> str:
        return f"{self.payload['message_zh']} / {self.payload['message_en']}"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.payload)

    def __str__(self) -> str:
        return str(self.args[0])


def _from_wire(text: str, code: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or payload.get("code") != code:
        return {"code": code, "message_zh": ServiceError.message_zh, "message_en": ServiceError.message_en,
                "details": {"raw": text}}
    return payload


class InvalidInput(ServiceError):
    """details: {"fields": {field path: [messages]}}"""

    code = "invalid_input"
    message_zh = "输入有误"
    message_en = "The input is invalid"

    @classmethod
    def fields(cls, errors: dict[Any, Any]) -> "InvalidInput":
        # The wire form (JSON: list indexes become string keys), the same in-process and remote.
        return cls({"fields": json.loads(json.dumps(errors, ensure_ascii=False, default=str))})


class NotAuthenticated(ServiceError):
    code = "not_authenticated"
    message_zh = "未登录或登录已失效"
    message_en = "Not signed in, or the session has expired"


class Forbidden(ServiceError):
    code = "forbidden"
    message_zh = "无权执行此操作"
    message_en = "You are not allowed to do this"


class NotFound(ServiceError):
    """Also what a caller outside its jurisdiction sees: it learns nothing of the object."""

    code = "not_found"
    message_zh = "未找到"
    message_en = "Not found"


class Conflict(ServiceError):
    code = "conflict"
    message_zh = "与现有记录冲突"
    message_en = "Conflicts with an existing record"


class InvalidState(ServiceError):
    code = "invalid_state"
    message_zh = "当前状态下不能执行此操作"
    message_en = "Not possible in the current state"


class DeadlinePassed(ServiceError):
    code = "deadline_passed"
    message_zh = "已超过截止时间"
    message_en = "The deadline has passed"


class Ineligible(ServiceError):
    """details: {"rules": [{"rule", "message_zh", "message_en"}], "rule_set_version"}"""

    code = "ineligible"
    message_zh = "不符合申报条件"
    message_en = "The application does not meet the conditions"


class RateLimited(ServiceError):
    """details: {"retry_after": ISO 8601 instant}"""

    code = "rate_limited"
    message_zh = "请求过于频繁，请稍后再试"
    message_en = "Too many requests; try again later"


class IntegrityFailure(ServiceError):
    """A stored record its own service cannot read: details name the source and the position."""

    code = "integrity_failure"
    message_zh = "存储的记录无法读取（数据完整性错误）"
    message_en = "A stored record cannot be read (integrity failure)"


class InternalError(ServiceError):
    code = "internal_error"
    message_zh = "系统内部错误"
    message_en = "Internal error"


ALL_ERRORS: tuple[type[ServiceError], ...] = (
    ServiceError,
    InvalidInput,
    NotAuthenticated,
    Forbidden,
    NotFound,
    Conflict,
    InvalidState,
    DeadlinePassed,
    Ineligible,
    RateLimited,
    IntegrityFailure,
    InternalError,
)
