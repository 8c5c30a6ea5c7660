"""The review service, declared: review cases (provider → county → city), city rankings and the
deadline scan. It follows the application service. The kit builds the running service from this
(docs/architecture.md)."""
from __future__ import annotations

from marshmallow import fields, validate

from shared.config import Settings
from shared.definition import EVERY_ROLE, ServiceDefinition, Timer, operation
from shared.fields import identifier
from shared.identity import SEES_ALL_APPLICATIONS, Role

from services.review import projections as rm
from services.review import schemas as s
from services.review.domain import CITY, COUNTY, PROVIDER
from services.review.events import contract
from services.review.handlers import cases, deadlines, following, rankings
from services.review.store import ReviewStore

REVIEWERS = frozenset({Role.PROVIDER, Role.COUNTY, Role.CITY})
IN_SCOPE = EVERY_ROLE  # jurisdiction decides (shared/access.py): outside it a case does not exist
APP_ID = identifier()


def make_store(settings: Settings) -> ReviewStore:
    return ReviewStore(settings.store_url("review"), settings.clock())


DEFINITION = ServiceDefinition(
    name="review",
    make_store=make_store,
    contract=contract,
    operations=[
        operation("provider_answer", cases.provider_answer, frozenset({Role.PROVIDER}),
                  {"application_id": APP_ID, "data": s.ProviderAnswerSchema()},
                  idempotent=True, locate=cases.locate_step(PROVIDER)),
        operation("county_review", cases.county_review, frozenset({Role.COUNTY, Role.CITY}),
                  {"application_id": APP_ID, "data": s.CountyReviewSchema()},
                  idempotent=True, locate=cases.locate_step(COUNTY)),
        operation("city_review", cases.city_review, frozenset({Role.CITY}),
                  {"application_id": APP_ID, "data": s.CityReviewSchema()},
                  idempotent=True, locate=cases.locate_step(CITY)),
        operation("rank_recommendations", rankings.rank_recommendations, frozenset({Role.CITY}),
                  {"data": s.RankingSchema()}, idempotent=True),
        operation("get_case", cases.get_case, IN_SCOPE, {"application_id": APP_ID}),
        operation("case_history", cases.case_history, IN_SCOPE, {"application_id": APP_ID}),
        operation("worklist", cases.worklist, REVIEWERS | SEES_ALL_APPLICATIONS, {"query": s.WorklistSchema()}),
        operation("progress", cases.progress, SEES_ALL_APPLICATIONS,
                  {"campaign_code": fields.String(load_default=None, validate=validate.Length(min=1, max=32))}),
    ],
    follows={
        "application": {
            "application.campaign_opened": rm.campaign_book.on_opened,
            "application.provider_added_to_pool": following.on_provider_added,
            "application.provider_removed_from_pool": following.on_provider_removed,
            "application.submitted": following.on_submitted,
            "application.resubmitted": following.on_submitted,
            "application.withdrawn": following.on_withdrawn,
        },
    },
    timers=[Timer("deadline scan", deadlines.check_deadlines, lambda settings: settings.deadline_scan_seconds)],
    projections=[rm.project_case],
)
