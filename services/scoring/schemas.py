"""Input schemas of the scoring service's RPCs. Every invalid field is reported at once."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared import refdata
from shared.fields import CAMPAIGN_CODE, CRITERION_CODE, PROVIDER_ID, Base64Content, CreditCode, WholeNumber, identifier

from services.scoring.domain import EvaluatorKind, Outcome

CAMPAIGN = fields.String(required=True, validate=CAMPAIGN_CODE)
REASON = fields.String(required=True, validate=validate.Length(min=2, max=2000))
CRITERION = fields.String(validate=CRITERION_CODE)
ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENTS_MAX = 3


def distinct(values: list[str], field: str) -> None:
    if len(values) != len(set(values)):
        raise ValidationError({field: ["each once / 不得重复"]})


class DeclarationSchema(Schema):
    """利益关系申报: employers and enterprises by credit code, providers by supply-pool id."""

    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in EvaluatorKind]))
    employers = fields.List(CreditCode(), required=True, validate=validate.Length(max=20))
    enterprises = fields.List(CreditCode(), load_default=list, validate=validate.Length(max=500))
    providers = fields.List(fields.String(validate=PROVIDER_ID), load_default=list, validate=validate.Length(max=200))


class DrawSchema(Schema):
    campaign_code = CAMPAIGN
    unit_code = fields.String(load_default=None)  # one city's batch; none: every candidate of the campaign
    seed = fields.String(load_default=None, validate=validate.Length(min=1, max=64))  # none: a random one, recorded

    @validates_schema
    def known_unit(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("unit_code") is not None and data["unit_code"] not in refdata.divisions().units:
            raise ValidationError({"unit_code": ["one of the 14 city-level units / 须为14个市级单位之一"]})


class DeclineSchema(Schema):
    reason = REASON


class SheetSchema(Schema):
    """A score sheet: {criterion code: integer} and {criterion code: justification}; `final` submits it."""

    scores = fields.Dict(keys=CRITERION, values=WholeNumber(validate=validate.Range(min=0, max=100)), required=True,
                         validate=validate.Length(max=20))
    justifications = fields.Dict(keys=CRITERION, values=fields.String(validate=validate.Length(max=4000)),
                                 load_default=dict, validate=validate.Length(max=20))
    final = fields.Boolean(load_default=False)


class ReopenSchema(Schema):
    """An evaluator on an application (`reopen_sheet`, `replace_evaluator`), and why."""

    evaluator_id = identifier()
    reason = REASON


class Change_(Schema):
    application_id = identifier()
    reason = REASON


class AdoptSchema(Schema):
    """研究: adopt the ranking `ranking_id` (the latest), with any additions or removals and their reasons."""

    campaign_code = CAMPAIGN
    ranking_id = identifier()
    add = fields.List(fields.Nested(Change_), load_default=list, validate=validate.Length(max=200))
    remove = fields.List(fields.Nested(Change_), load_default=list, validate=validate.Length(max=200))

    @validates_schema
    def each_once(self, data: dict[str, Any], **_: Any) -> None:
        ids = [c["application_id"] for c in data.get("add", []) + data.get("remove", [])]
        distinct(ids, "add")


class AttachmentSchema(Schema):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=200))
    content_type = fields.String(required=True, validate=validate.OneOf(ATTACHMENT_TYPES))
    content_base64 = Base64Content(required=True, validate=validate.Length(max=ATTACHMENT_MAX_BYTES))


class ObjectionSchema(Schema):
    """异议: anyone, while the notice is open. `contact` (phone or e-mail) is seen by the province only."""

    campaign_code = CAMPAIGN
    application_id = identifier()
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    contact = fields.String(required=True, validate=validate.Length(min=3, max=200))
    grounds = fields.String(required=True, validate=validate.Length(min=5, max=4000))
    attachments = fields.List(fields.Nested(AttachmentSchema), load_default=list, validate=validate.Length(max=ATTACHMENTS_MAX))


class DecisionSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf([o.value for o in Outcome]))
    reasons = fields.List(fields.String(validate=validate.Length(min=2, max=2000)), required=True,
                          validate=validate.Length(min=1, max=20))


class AnnounceSchema(Schema):
    campaign_code = CAMPAIGN
    document_number = fields.String(required=True, validate=validate.Length(min=2, max=100))


class ExportSchema(Schema):
    campaign_code = CAMPAIGN
    list = fields.String(required=True, validate=validate.OneOf(["ranking", "adopted", "announced"]))
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))


class AssignmentQuerySchema(Schema):
    campaign_code = fields.String(load_default=None, validate=validate.Length(min=1, max=32))
    pending_only = fields.Boolean(load_default=False)
