"""The scoring service, declared: evaluators and their declarations, the seeded draw, score sheets,
the experts' ranking, the department's decision, the public notice with its objections, and the
announcement. It follows the application service (campaign settings, the supply pool, evaluator
accounts) and the review service (the cities' recommendations). The kit builds the running service
from this (docs/architecture.md)."""
from __future__ import annotations

from shared.config import Settings
from shared.definition import ANYONE, ServiceDefinition, operation
from shared.fields import identifier
from shared.identity import SEES_ALL_APPLICATIONS, Role

from services.scoring import projections as rm
from services.scoring import schemas as s
from services.scoring.events import contract
from services.scoring.handlers import assignment, evaluators, exports, following, progress, selection, sheets
from services.scoring.store import ScoringStore

PROVINCE = frozenset({Role.PROVINCE})
EVALUATOR = frozenset({Role.EXPERT})
OVERSIGHT = SEES_ALL_APPLICATIONS  # the province and auditors
CAMPAIGN = {"campaign_code": s.CAMPAIGN}
APP_ID = identifier()


def make_store(settings: Settings) -> ScoringStore:
    return ScoringStore(settings.store_url("scoring"), settings.clock())


DEFINITION = ServiceDefinition(
    name="scoring",
    make_store=make_store,
    contract=contract,
    operations=[
        # evaluators
        operation("declare_interests", evaluators.declare_interests, EVALUATOR, {"declaration": s.DeclarationSchema()},
                  idempotent=True),
        operation("my_declaration", evaluators.my_declaration, EVALUATOR),
        operation("list_evaluators", evaluators.list_evaluators, PROVINCE, CAMPAIGN),
        # assignment and sheets
        operation("draw_evaluators", assignment.draw_evaluators, PROVINCE, {"data": s.DrawSchema()}, idempotent=True),
        operation("decline_assignment", assignment.decline_assignment, EVALUATOR,
                  {"application_id": APP_ID, "data": s.DeclineSchema()}, idempotent=True, locate=assignment.locate_candidate),
        operation("replace_evaluator", assignment.replace_evaluator, PROVINCE,
                  {"application_id": APP_ID, "data": s.ReopenSchema()}, idempotent=True, locate=assignment.locate_candidate),
        operation("my_assignments", assignment.my_assignments, EVALUATOR, {"query": s.AssignmentQuerySchema()}),
        operation("get_assignment", assignment.get_assignment, EVALUATOR | OVERSIGHT, {"application_id": APP_ID}),
        operation("save_sheet", sheets.save_sheet, EVALUATOR, {"application_id": APP_ID, "sheet": s.SheetSchema()},
                  idempotent=True, locate=assignment.locate_candidate),
        operation("reopen_sheet", sheets.reopen_sheet, PROVINCE, {"application_id": APP_ID, "data": s.ReopenSchema()},
                  idempotent=True, locate=assignment.locate_candidate),
        operation("scoring_progress", progress.scoring_progress, OVERSIGHT, CAMPAIGN),
        # ranking, decision, notice, announcement
        operation("rank_candidates", selection.rank_candidates, PROVINCE, CAMPAIGN, idempotent=True),
        operation("get_ranking", selection.get_ranking, OVERSIGHT, CAMPAIGN),
        operation("adopt_list", selection.adopt_list, PROVINCE, {"data": s.AdoptSchema()}, idempotent=True),
        operation("publish_notice", selection.publish_notice, PROVINCE, CAMPAIGN, idempotent=True),
        operation("public_notice", selection.public_notice, ANYONE, CAMPAIGN, rate_limit=600),
        operation("lodge_objection", selection.lodge_objection, ANYONE, {"objection": s.ObjectionSchema()},
                  idempotent=True, rate_limit=30),
        operation("objection_status", selection.objection_status, ANYONE, {"objection_id": APP_ID}, rate_limit=120),
        operation("list_objections", selection.list_objections, OVERSIGHT, CAMPAIGN),
        operation("decide_objection", selection.decide_objection, PROVINCE,
                  {"objection_id": APP_ID, "decision": s.DecisionSchema()}, idempotent=True),
        operation("announce", selection.announce, PROVINCE, {"data": s.AnnounceSchema()}, idempotent=True),
        operation("announced_list", selection.announced_list, ANYONE, CAMPAIGN, rate_limit=600),
        operation("export_list", exports.export_list, OVERSIGHT, {"query": s.ExportSchema()}),
    ],
    follows={
        "application": {
            "application.campaign_opened": rm.campaign_book.on_opened,
            "application.provider_added_to_pool": following.on_provider_added,
            "application.account_provisioned": following.on_account_provisioned,
        },
        "review": {
            "review.recommended": following.on_recommended,
            "review.case_withdrawn": following.on_withdrawn,
        },
        "audit": {"audit.fraud_found": following.on_fraud_found},
    },
    projections=[rm.project_candidate, rm.project_declaration, rm.project_ranking, rm.project_selection,
                 rm.project_objection],
)
