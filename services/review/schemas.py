"""Input schemas of the review service's RPCs."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.fields import WholeNumber

REMARK = validate.Length(max=4000)


def needs_reasons(data: dict[str, Any], *decisions: str) -> None:
    """A return or a rejection states its reasons: reported with every other bad field at once."""
    if data.get("decision") in decisions and not data.get("reasons"):
        raise ValidationError({"reasons": ["state the reasons / 须说明理由"]})


class ItemSchema(Schema):
    confirmed = fields.Boolean(required=True)
    remark = fields.String(load_default="", validate=REMARK)


class ProviderItemsSchema(Schema):
    """The items the notice asks the provider to confirm (上云时间、上云内容、上云成效、相关合同及金额)."""

    first_cloud_date = fields.Nested(ItemSchema, required=True)
    content = fields.Nested(ItemSchema, required=True)  # categories and scenarios
    results = fields.Nested(ItemSchema, required=True)
    contracts = fields.Dict(keys=fields.String(), values=fields.Nested(ItemSchema), required=True)  # with amount and fee


class ProviderAnswerSchema(Schema):
    items = fields.Nested(ProviderItemsSchema, required=True)
    decision = fields.String(load_default="answer", validate=validate.OneOf(["answer", "reject"]))
    reasons = fields.List(fields.String(validate=validate.Length(min=1, max=2000)), load_default=list)
    remarks = fields.String(load_default="", validate=REMARK)

    @validates_schema(skip_on_field_errors=False)
    def reasons_given(self, data: dict[str, Any], **_: Any) -> None:
        needs_reasons(data, "reject")


class ChecklistEntrySchema(Schema):
    matches_original = fields.Boolean(required=True)
    remark = fields.String(load_default="", validate=REMARK)


class CountyReviewSchema(Schema):
    """县级审核 as the form's county box has it: each copy against its original, the materials complete,
    and 此企业确系我县（区、市）工业企业 (`local_industrial_enterprise`, required; a pass needs it true)."""

    checklist = fields.Dict(keys=fields.String(), values=fields.Nested(ChecklistEntrySchema), required=True)
    complete = fields.Boolean(required=True)
    local_industrial_enterprise = fields.Boolean(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(["pass", "return", "reject"]))
    reasons = fields.List(fields.String(validate=validate.Length(min=1, max=2000)), load_default=list)
    remarks = fields.String(load_default="", validate=REMARK)

    @validates_schema(skip_on_field_errors=False)
    def reasons_given(self, data: dict[str, Any], **_: Any) -> None:
        needs_reasons(data, "return", "reject")


class CityReviewSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["recommend", "decline", "return"]))
    opinion = fields.String(required=True, validate=validate.Length(min=2, max=4000))
    reasons = fields.List(fields.String(validate=validate.Length(min=1, max=2000)), load_default=list)

    @validates_schema(skip_on_field_errors=False)
    def reasons_given(self, data: dict[str, Any], **_: Any) -> None:
        needs_reasons(data, "return")


class RankingSchema(Schema):
    campaign_code = fields.String(required=True)
    application_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1))

    @validates_schema
    def distinct(self, data: dict[str, Any], **_: Any) -> None:
        ids = data.get("application_ids", [])
        if len(ids) != len(set(ids)):
            raise ValidationError({"application_ids": ["each application once / 每个申报只能出现一次"]})


class WorklistSchema(Schema):
    view = fields.String(load_default="pending", validate=validate.OneOf(["pending", "overdue", "done"]))
    campaign_code = fields.String(load_default=None)
    page = WholeNumber(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = WholeNumber(load_default=50, validate=validate.Range(min=1, max=200))
