"""The review service's public event contract."""
from __future__ import annotations

from marshmallow import Schema, fields

from shared.contract import Contract

from services.review.domain import CityRanking, ReviewCase

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
    round = fields.Integer()
    checklist = fields.Dict()
    remarks = fields.String()


class RecommendedData(Schema):
    """What the experts need: the application as confirmed, and the review opinions."""

    round = fields.Integer()
    opinion = fields.String()
    content = fields.Dict()
    provider_confirmation = fields.Dict()
    county_checklist = fields.Dict()


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
for cls, name, schema in (
    (ReviewCase.Restarted, "review.case_restarted", CaseRestartedData),
    (ReviewCase.ProviderConfirmed, "review.provider_confirmed", ProviderConfirmedData),
    (ReviewCase.CountyPassed, "review.county_passed", CountyPassedData),
    (ReviewCase.Recommended, "review.recommended", RecommendedData),
    (ReviewCase.Declined, "review.declined", DeclinedData),
    (ReviewCase.ReturnedForCorrection, "review.returned_for_correction", ReturnedData),
    (ReviewCase.Rejected, "review.rejected", RejectedData),
    (ReviewCase.Withdrawn, "review.case_withdrawn", WithdrawnData),
    (ReviewCase.StageOverdue, "review.stage_overdue", OverdueData),
    (ReviewCase.Lapsed, "review.case_lapsed", LapsedData),
):
    publish(cls, name, schema, application_id=application_of)
publish(CityRanking.Set, "review.city_ranking_set", RankingData)
publish(CityRanking.Changed, "review.city_ranking_changed", RankingChangedData)
