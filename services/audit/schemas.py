"""Input schemas of the audit service's RPCs. Every invalid field is reported at once."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.fields import CAMPAIGN_CODE, PROVIDER_ID, Base64Content, WholeNumber, identifier, not_blank, reasons

from services.audit.domain import FINDING_OUTCOMES

EVIDENCE_TYPES = ("application/pdf", "image/jpeg", "image/png")
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
SEQ = validate.Range(min=1, max=2**53)
REASONS = reasons()
GROUND_KINDS = ("spot_check", "county", "objection", "report")


def optional_id() -> fields.String:
    return fields.String(load_default=None, validate=validate.Length(min=1, max=64))


class DrawSchema(Schema):
    """抽查: `size` enterprises, or a `share` (0 < share ≤ 1) of the campaign's benchmark enterprises."""

    campaign_code = fields.String(required=True, validate=CAMPAIGN_CODE)
    size = WholeNumber(load_default=None, validate=validate.Range(min=1, max=100000))
    share = fields.Decimal(load_default=None, places=None, as_string=True, allow_nan=False,
                           validate=validate.Range(min=Decimal("0.0001"), max=Decimal(1)))
    stratify_by_city = fields.Boolean(load_default=True)
    inspectors = fields.List(identifier(), load_default=list, validate=validate.Length(max=50))

    @validates_schema
    def size_or_share(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("size") is None) == (data.get("share") is None):
            raise ValidationError({"size": ["give either size or share / size与share二选一"]})


class EvidenceSchema(Schema):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=200))
    content_type = fields.String(required=True, validate=validate.OneOf(EVIDENCE_TYPES))
    content_base64 = Base64Content(required=True, validate=validate.Length(max=EVIDENCE_MAX_BYTES))


class FindingSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(FINDING_OUTCOMES))
    summary = fields.String(required=True, validate=[validate.Length(min=2, max=20000), not_blank])
    evidence = fields.List(fields.Nested(EvidenceSchema), load_default=list, validate=validate.Length(max=20))


class GroundsSchema(Schema):
    """Where the suspicion came from: a spot check (its id), a county's review, an objection upheld
    in the public notice (its id), or another report."""

    kind = fields.String(required=True, validate=validate.OneOf(GROUND_KINDS))
    reference = fields.String(required=True, validate=[validate.Length(min=2, max=200), not_blank])


class DecisionSchema(Schema):
    """An enterprise's claims (`application_id`) or a provider's own confirmations (`provider_id`)."""

    application_id = optional_id()
    provider_id = fields.String(load_default=None, validate=PROVIDER_ID)
    outcome = fields.String(required=True, validate=validate.OneOf(["fraud", "no_fraud"]))
    reasons = REASONS
    grounds = fields.Nested(GroundsSchema, required=True)
    findings = fields.List(identifier(), load_default=list, validate=validate.Length(max=50))

    @validates_schema
    def one_subject(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("application_id") is None) == (data.get("provider_id") is None):
            raise ValidationError({"application_id": ["give either application_id or provider_id "
                                                      "/ application_id与provider_id二选一"]})


class EntryQuerySchema(Schema):
    after = WholeNumber(load_default=0, validate=validate.Range(min=0, max=2**53))
    limit = WholeNumber(load_default=100, validate=validate.Range(min=1, max=1000))
    source = fields.String(load_default=None, validate=validate.Length(min=1, max=32))
    application_id = optional_id()
    actor_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    type = fields.String(load_default=None, validate=validate.Length(min=3, max=80))


class InclusionSchema(Schema):
    """The entry by `event_id` or by `seq`; the tree by `tree_size` (default: the whole ledger now)."""

    event_id = optional_id()
    seq = WholeNumber(load_default=None, validate=SEQ)
    tree_size = WholeNumber(load_default=None, validate=SEQ)

    @validates_schema
    def one_entry(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("event_id") is None) == (data.get("seq") is None):
            raise ValidationError({"event_id": ["give either event_id or seq / event_id与seq二选一"]})



class AsOfSchema(Schema):
    """As the application stood at an instant (`at`), after a ledger entry (`seq`), or when a source's
    event happened (`source` and `position`)."""

    at = fields.AwareDateTime(load_default=None)
    seq = WholeNumber(load_default=None, validate=SEQ)
    source = fields.String(load_default=None, validate=validate.Length(min=1, max=32))
    position = WholeNumber(load_default=None, validate=SEQ)

    @validates_schema
    def one_point(self, data: dict[str, Any], **_: Any) -> None:
        given = [data.get("at") is not None, data.get("seq") is not None,
                 data.get("source") is not None or data.get("position") is not None]
        if sum(given) > 1:
            raise ValidationError({"at": ["give one of at, seq, or source with position / 只能指定一种时点"]})
        if (data.get("source") is None) != (data.get("position") is None):
            raise ValidationError({"position": ["source and position go together / source与position须同时给出"]})


class ListQuerySchema(Schema):
    campaign_code = fields.String(load_default=None, validate=CAMPAIGN_CODE)


class DecisionQuerySchema(Schema):
    application_id = optional_id()
    provider_id = fields.String(load_default=None, validate=PROVIDER_ID)
    outcome = fields.String(load_default=None, validate=validate.OneOf(["fraud", "no_fraud"]))
