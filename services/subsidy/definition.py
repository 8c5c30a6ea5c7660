"""The subsidy service, declared: the printed dossier and its check, the filing (county and city
stamps, the province's record), the calculation, finance's approval and payment, and the reclaim of
a subsidy paid on a revoked award. It follows the application service (campaign settings, whose
application is whose) and the scoring service (awards, revocations). The kit builds the running
service from this (docs/architecture.md)."""
from __future__ import annotations

from shared.config import Settings
from shared.definition import EVERY_ROLE, ServiceDefinition, operation
from shared.fields import identifier
from shared.identity import Role

from services.subsidy import projections as rm
from services.subsidy import schemas as s
from services.subsidy.events import contract
from services.subsidy.handlers import cases, dossiers, exports, following
from services.subsidy.store import SubsidyStore

PROVINCE = frozenset({Role.PROVINCE})
FINANCE = frozenset({Role.FINANCE})
ENTERPRISE = frozenset({Role.ENTERPRISE})
BUREAUS = frozenset({Role.COUNTY, Role.CITY})
OVERSIGHT = frozenset({Role.PROVINCE, Role.AUDITOR, Role.FINANCE})
IN_SCOPE = EVERY_ROLE  # jurisdiction decides: outside it a case does not exist
APP_ID = identifier()
ONE_CASE = {"application_id": APP_ID}


def make_store(settings: Settings) -> SubsidyStore:
    return SubsidyStore(settings.store_url("subsidy"), settings.clock())


DEFINITION = ServiceDefinition(
    name="subsidy",
    make_store=make_store,
    contract=contract,
    operations=[
        operation("get_subsidy_case", cases.get_subsidy_case, IN_SCOPE, ONE_CASE),
        operation("subsidy_case_history", cases.subsidy_case_history, IN_SCOPE, ONE_CASE),
        operation("list_subsidy_cases", cases.list_subsidy_cases, OVERSIGHT | BUREAUS, {"query": s.CaseQuerySchema()}),
        operation("print_dossier", dossiers.print_dossier, ENTERPRISE | BUREAUS | OVERSIGHT, ONE_CASE),
        operation("verify_dossier", dossiers.verify_dossier, ENTERPRISE | BUREAUS | OVERSIGHT,
                  {"printed": s.VerifySchema()}),
        operation("give_filing_details", cases.give_details, ENTERPRISE, {"application_id": APP_ID, "details": s.DetailsSchema()},
                  idempotent=True, locate=cases.locate_case),
        operation("stamp", cases.stamp, BUREAUS, {"application_id": APP_ID, "data": s.StampSchema()},
                  idempotent=True, locate=cases.locate_case),
        operation("file_case", cases.file_case, PROVINCE, {"application_id": APP_ID, "data": s.StampSchema()},
                  idempotent=True, locate=cases.locate_case),
        operation("send_back", cases.send_back, PROVINCE, {"application_id": APP_ID, "data": s.SendBackSchema()},
                  idempotent=True, locate=cases.locate_case),
        operation("calculate", cases.calculate, PROVINCE, ONE_CASE, idempotent=True, locate=cases.locate_case),
        operation("approve", cases.approve, FINANCE, {"application_id": APP_ID, "data": s.ApproveSchema()},
                  idempotent=True, locate=cases.locate_case),
        operation("record_payment", cases.record_payment, FINANCE, {"application_id": APP_ID, "payment": s.PaymentSchema()},
                  idempotent=True, locate=cases.locate_case),
        operation("record_recovery", cases.record_recovery, FINANCE,
                  {"application_id": APP_ID, "recovery": s.RecoverySchema()}, idempotent=True, locate=cases.locate_case),
        operation("export_subsidy_list", exports.export_subsidy_list, OVERSIGHT, {"query": s.ExportSchema()}),
    ],
    follows={
        "application": {
            "application.campaign_opened": rm.campaign_book.on_opened,
            "application.started": following.on_application_started,
            "application.provider_added_to_pool": following.on_provider_added,
        },
        "scoring": {
            "scoring.awarded": following.on_awarded,
            "scoring.award_revoked": following.on_award_revoked,
        },
    },
    projections=[rm.project_case],
)
