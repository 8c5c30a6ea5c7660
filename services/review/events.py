"""The review service's public event contract."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from shared.contract import Contract, register_upcaster

from services.review.domain import CityRanking, ReviewCase, confirmed_contracts

contract = Contract("review")


class CaseOpenedData(Schema):
    """A submitted application opened a review case at the provider step."""

    application_id = fields.String()
    campaign_code = fields.String()
    round = fields.Integer()
    county_code = fields.String()
    unit_code = fields.String()
    provider_id = fields.String()
    deadlines = fields.Dict()


class CaseRestartedData(Schema):
    """The enterprise resubmitted after a return: round `round` starts again at the provider step."""

    round = fields.Integer()
    provider_id = fields.String()


class ProviderConfirmedData(Schema):
    round = fields.Integer()
    items = fields.Dict()
    remarks = fields.String()


class CountyPassedData(Schema):
    """县级审核 passed: `checklist` {document_id: {matches_original, remark}}, `remarks`, and the county's
    attestation 此企业确系我县（区、市）工业企业, `local_industrial_enterprise`: `true` (`null` for a pass
    recorded before schema_version 2, which had no such field; its upcaster adds it as `null`)."""

    round = fields.Integer()
    checklist = fields.Dict()
    remarks = fields.String()
    local_industrial_enterprise = fields.Boolean(allow_none=True)


class RecommendedData(Schema):
    """What the experts need: the application as confirmed, and the review opinions. `submitted_at`:
    when the application was first submitted (ISO instant, UTC; ties in the experts' ranking go to the
    earlier one). `confirmed_contracts`: [{contract_id, provider_id}], each contract the provider
    confirmed with the id of that provider (the one named on the application, who answers for it), for
    conflict-of-interest checks. schema_version 2 added both; the upcaster from 1 derives
    `confirmed_contracts` from `content` and `provider_confirmation` and sets `submitted_at` to `null`
    (also `null` for a case opened before the review service kept it): the first submission is then
    the `occurred_at` of the application's `application.submitted` event."""

    round = fields.Integer()
    opinion = fields.String()
    content = fields.Dict()
    provider_confirmation = fields.Dict()
    county_checklist = fields.Dict()
    submitted_at = fields.String(allow_none=True)
    confirmed_contracts = fields.List(fields.Dict())


class DeclinedData(Schema):
    round = fields.Integer()
    opinion = fields.String()


class ReturnedData(Schema):
    """Back to the enterprise for correction; the application service reopens it for editing."""

    round = fields.Integer()
    stage = fields.String()
    reasons = fields.List(fields.String())
    details = fields.Dict()


class RejectedData(Schema):
    round = fields.Integer()
    stage = fields.String()
    reasons = fields.List(fields.String())


class WithdrawnData(Schema):
    """The enterprise withdrew its application: the case closes, whether unfinished or recommended
    (a recommendation withdrawn leaves the expert review)."""

    reason = fields.String()


class OverdueData(Schema):
    round = fields.Integer()
    stage = fields.String()
    due = fields.String()


class LapsedData(Schema):
    round = fields.Integer()
    stage = fields.String()
    status_before = fields.String()


class RankingData(Schema):
    campaign_code = fields.String()
    unit_code = fields.String()
    application_ids = fields.List(fields.String())


class RankingChangedData(Schema):
    application_ids = fields.List(fields.String())


def application_of(event: ReviewCase.CaseEvent | ReviewCase.Opened) -> str:
    return event.application_id


publish = contract.register  # stored event class -> public type and the schema of its data
publish(ReviewCase.Opened, "review.case_opened", CaseOpenedData, application_id=application_of)
for cls, name, schema, version in (
    (ReviewCase.Restarted, "review.case_restarted", CaseRestartedData, 1),
    (ReviewCase.ProviderConfirmed, "review.provider_confirmed", ProviderConfirmedData, 1),
    (ReviewCase.CountyPassed, "review.county_passed", CountyPassedData, 2),
    (ReviewCase.Recommended, "review.recommended", RecommendedData, 2),
    (ReviewCase.Declined, "review.declined", DeclinedData, 1),
    (ReviewCase.ReturnedForCorrection, "review.returned_for_correction", ReturnedData, 1),
    (ReviewCase.Rejected, "review.rejected", RejectedData, 1),
    (ReviewCase.Withdrawn, "review.case_withdrawn", WithdrawnData, 1),
    (ReviewCase.StageOverdue, "review.stage_overdue", OverdueData, 1),
    (ReviewCase.Lapsed, "review.case_lapsed", LapsedData, 1),
):
    publish(cls, name, schema, version=version, application_id=application_of)
publish(CityRanking.Set, "review.city_ranking_set", RankingData)
publish(CityRanking.Changed, "review.city_ranking_changed", RankingChangedData)


# Older shapes, brought to the newest for any consumer that meets them (docs/events.md, "Versioning").
# Plain functions of the `data` dict: a consumer in another language does the same.
def county_passed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return data | {"local_industrial_enterprise": None}


def recommended_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return data | {"submitted_at": None,
                   "confirmed_contracts": confirmed_contracts(data.get("content", {}), data.get("provider_confirmation", {}))}


register_upcaster("review.county_passed", 1, county_passed_v1_to_v2)
register_upcaster("review.recommended", 1, recommended_v1_to_v2)
