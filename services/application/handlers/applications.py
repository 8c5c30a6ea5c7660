"""Applications (申报): the form of 附件2 filled in any order, evidence, eligibility, submission,
withdrawal and the returns for correction that come from the review service."""
from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from shared import evidence, refdata
from shared.access import Subject, may_see, scope
from shared.contract import Envelope, actor_of
from shared.definition import Change, Context
from shared.errors import Ineligible, InvalidInput, NotFound
from shared.identity import Role

from services.application import projections as rm
from services.application.domain import Application, Enterprise, Status, application_id_for
from services.application.eligibility import RULE_SET_VERSION
from services.application.schemas import section_values
from services.application.events import contract
from services.application.store import ApplicationStore

Ctx = Context[ApplicationStore]

# ------------------------------------------------------------------ access
def subject(app: Application, evaluator_ids: frozenset[str] = frozenset()) -> Subject:
    provider = app.sections.get("cloud", {}).get("provider_id")
    return Subject(enterprise_id=app.enterprise_id, county_code=app.county_code, unit_code=app.unit_code,
                   provider_ids=frozenset({provider} if provider else ()), submitted=app.status != Status.DRAFT,
                   evaluator_ids=evaluator_ids)


def visible_application(ctx: Ctx, application_id: str, version: int | None = None) -> Application:
    """The application, if the caller's jurisdiction covers it; outside it, it does not exist."""
    try:
        app_id = UUID(application_id)
    except (ValueError, TypeError):
        raise NotFound() from None
    app = ctx.store.get(Application, app_id)
    assigned = frozenset[str]()
    if ctx.me.role is Role.EXPERT:
        with ctx.store.reading() as session:
            assigned = rm.evaluators_of(session, application_id)
    if not may_see(ctx.me, subject(app, assigned)):
        raise NotFound()
    return app if version is None else ctx.store.get(Application, app_id, version)


def locate_application(ctx: Ctx, application_id: str) -> None:
    """Jurisdiction before input (the pipeline's `locate`): outside it the application does not exist."""
    visible_application(ctx, application_id)


def own_open_application(ctx: Ctx, application_id: str) -> Application:
    app = visible_application(ctx, application_id)
    ctx.store.campaign(app.campaign_code).terms.check_open(ctx.now)
    return app


def saved(app: Application, extra: Any = None, **answer: Any) -> Change:
    def project(session: Session) -> None:
        if extra is not None:
            extra(session)
        rm.project_application(session, app)

    return Change([app], project, {"application_id": str(app.id), **answer})


# ------------------------------------------------------------------ commands
def start_application(ctx: Ctx, campaign_code: str) -> Change | dict[str, Any]:
    campaign = ctx.store.campaign(campaign_code)
    campaign.terms.check_can_submit(ctx.now)
    enterprise = ctx.store.get(Enterprise, UUID(ctx.me.enterprise_id or ""))
    existing = ctx.store.find(Application, application_id_for(campaign.id, enterprise.id))
    if existing is not None:
        # One application per enterprise per campaign: starting again answers the same one.
        return {"application_id": str(existing.id), "position": None, "existing": True}
    unit = refdata.divisions().unit_of(enterprise.county_code)
    app = Application.start(ctx.now, ctx.actor(), campaign, enterprise, unit)
    return saved(app, existing=False)


def update_section(ctx: Ctx, application_id: str, section: str, values: dict[str, Any]) -> Change:
    values = section_values(section, values)  # its schema depends on the section
    app = own_open_application(ctx, application_id)
    app.update_section(ctx.now, ctx.actor(), section, values)
    return saved(app)


def set_scenarios(ctx: Ctx, application_id: str, scenarios: list[dict[str, Any]]) -> Change:
    app = own_open_application(ctx, application_id)
    app.set_scenarios(ctx.now, ctx.actor(), scenarios)
    return saved(app)


def save_contract(ctx: Ctx, application_id: str, contract: dict[str, Any]) -> Change:
    app = own_open_application(ctx, application_id)
    contract = dict(contract)
    contract["contract_id"] = contract.get("contract_id") or f"c{len(app.contracts) + 1}-{secrets.token_hex(3)}"
    app.save_contract(ctx.now, ctx.actor(), contract)
    return saved(app, contract_id=contract["contract_id"])


def remove_contract(ctx: Ctx, application_id: str, contract_id: str) -> Change:
    app = own_open_application(ctx, application_id)
    app.remove_contract(ctx.now, ctx.actor(), contract_id)
    return saved(app)


def attach_document(ctx: Ctx, application_id: str, document: dict[str, Any]) -> Change:
    app = own_open_application(ctx, application_id)
    terms = ctx.store.campaign(app.campaign_code).terms
    content: bytes = document["content"]
    content_type = document["content_type"]
    filename, errors = evidence.check(document["filename"], content_type, content, terms.evidence_content_types,
                                      terms.evidence_max_bytes)
    if errors:
        raise InvalidInput.fields(errors)
    sha256 = hashlib.sha256(content).hexdigest()
    meta = {"document_id": f"d-{sha256[:12]}-{secrets.token_hex(2)}", "kind": document["kind"],
            "filename": filename, "content_type": content_type, "size": len(content),
            "sha256": sha256, "contract_id": document.get("contract_id")}
    app.attach_document(ctx.now, ctx.actor(), meta)
    return saved(app, lambda s: rm.store_content(s, sha256, content), document_id=meta["document_id"], sha256=sha256)


def remove_document(ctx: Ctx, application_id: str, document_id: str) -> Change:
    app = own_open_application(ctx, application_id)
    app.remove_document(ctx.now, ctx.actor(), document_id)
    return saved(app)


def give_pledge(ctx: Ctx, application_id: str, pledge: dict[str, Any]) -> Change:
    app = own_open_application(ctx, application_id)
    app.give_pledge(ctx.now, ctx.actor(), **pledge)
    return saved(app)


def check_eligibility(ctx: Ctx, application_id: str) -> dict[str, Any]:
    """What `submit` would say now, without submitting."""
    return {"failures": ctx.store.eligibility_failures(own_open_application(ctx, application_id), ctx.now)}


def submit(ctx: Ctx, application_id: str) -> Change:
    app = own_open_application(ctx, application_id)
    if app.status == Status.DRAFT:
        ctx.store.campaign(app.campaign_code).terms.check_can_submit(ctx.now)
    failures = ctx.store.eligibility_failures(app, ctx.now)
    if failures:
        raise Ineligible({"rules": failures, "rule_set_version": RULE_SET_VERSION})
    app.submit(ctx.now, ctx.actor(), RULE_SET_VERSION)
    return saved(app, round=app.round, status=app.status)


def withdraw(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    app = own_open_application(ctx, application_id)
    app.withdraw(ctx.now, ctx.actor(), data["reason"])
    return saved(app, status=app.status)


# ------------------------------------------------------------------ queries
def describe(app: Application) -> dict[str, Any]:
    return {"application_id": str(app.id), "version": app.version, "status": app.status, "round": app.round,
            "campaign_id": app.campaign_id, "enterprise_id": app.enterprise_id,
            "submitted_at": app.submitted_at, "last_submitted_at": app.last_submitted_at,
            "updated_at": app.modified_on.isoformat(), "returns": app.returns, **app.content()}


def get_application(ctx: Ctx, application_id: str, version: int | None) -> dict[str, Any]:
    """The application (as at `version`) and where its review stands now."""
    answer = describe(visible_application(ctx, application_id, version))
    with ctx.store.reading() as session:
        return answer | rm.review_outcome(session, answer["application_id"])


def application_history(ctx: Ctx, application_id: str) -> list[dict[str, Any]]:
    """Every event of the application, oldest first, as its public envelope."""
    app = visible_application(ctx, application_id)
    return contract.history(ctx.store.events.get(app.id), ctx.store.installation_id)


def my_applications(ctx: Ctx) -> list[dict[str, Any]]:
    with ctx.store.reading() as session:
        items: list[dict[str, Any]] = rm.page_of_applications(session, {"account_id": ctx.me.account_id}, 1, 200)["items"]
        return items


LIST_FILTERS = ("campaign_code", "status", "unit_code", "county_code", "category", "uscc", "enterprise_name",
                "review_status", "review_stage", "review_overdue")


def list_applications(ctx: Ctx, filters: dict[str, Any]) -> dict[str, Any]:
    """Province and auditors see all; a city its unit, a county its county, a provider the
    applications naming it (never drafts). The jurisdiction's filter is applied after the caller's,
    so a filter can only narrow what the caller may see."""
    query = {k: filters.get(k) for k in LIST_FILTERS}
    allowed = scope(ctx.me)
    if not allowed.everything:
        query[allowed.column] = allowed.value
        query["exclude_drafts"] = not allowed.drafts
    with ctx.store.reading() as session:
        return rm.page_of_applications(session, query, filters["page"], filters["page_size"])


def get_document(ctx: Ctx, application_id: str, document_id: str) -> dict[str, Any]:
    app = visible_application(ctx, application_id)
    meta = app.documents.get(document_id)
    if meta is None:
        raise NotFound({"document_id": document_id})
    with ctx.store.reading() as session:
        content = rm.load_content(session, meta["sha256"])
    intact = content is not None and hashlib.sha256(content).hexdigest() == meta["sha256"]
    return {**meta, "intact": intact, "content_base64": base64.b64encode(content or b"").decode()}


# ------------------------------------------------------------------ following the review service
# Where an application's review stands, from the review service's public events alone (docs/events.md):
# each type -> (the case's stage after it, its status after it). STAGE_OF_EVENT takes the event's own
# `stage`; None keeps what was there.
STAGE_OF_EVENT = "stage of the event"
REVIEW_STEPS: dict[str, tuple[str | None, str | None]] = {
    "review.case_opened": ("provider", "open"),
    "review.case_restarted": ("provider", "open"),  # a resubmission: the next round starts again
    "review.provider_confirmed": ("county", "open"),
    "review.county_passed": ("city", "open"),
    "review.recommended": ("city", "recommended"),
    "review.declined": ("city", "declined"),
    "review.returned_for_correction": (STAGE_OF_EVENT, "returned"),  # also the provider's dispute
    "review.rejected": (STAGE_OF_EVENT, "rejected"),
    "review.case_withdrawn": (None, "withdrawn"),
    "review.case_lapsed": (STAGE_OF_EVENT, "lapsed"),
    "review.stage_overdue": (None, None),  # a flag on the current stage
}


def review_step(envelope: Envelope, current: dict[str, Any]) -> dict[str, Any]:
    """The review fields after one review event, from the fields before it (empty before the case
    opened). `review_overdue`: the case is open and its current stage (of this round) passed its date."""
    data = envelope["data"]
    stage_after, status_after = REVIEW_STEPS[envelope["type"]]
    event_stage = data.get("stage") if data.get("stage") in rm.REVIEW_STAGES else None
    stage = current.get("review_stage")
    if stage_after == STAGE_OF_EVENT:
        stage = event_stage or stage
    elif stage_after is not None:
        stage = stage_after
    status = status_after or current.get("review_status") or "open"
    given_round = data.get("round")
    round_ = given_round if isinstance(given_round, int) and not isinstance(given_round, bool) else current.get("review_round")
    if envelope["type"] == "review.stage_overdue":
        overdue = status == "open" and event_stage == stage
    else:
        overdue = (bool(current.get("review_overdue")) and status == "open" and stage == current.get("review_stage")
                   and round_ == current.get("review_round"))
    return {"review_round": round_, "review_stage": stage, "review_status": status, "review_overdue": int(overdue),
            "review_updated_at": envelope["occurred_at"]}


def on_review_event(store: ApplicationStore, envelope: Envelope) -> Change | None:
    """Any review event that moves a case: record where the application's review stands now."""
    application_id = envelope.get("application_id")
    if not application_id or envelope["type"] not in REVIEW_STEPS:
        return None
    return Change(project=lambda s: rm.record_review_outcome(
        s, str(application_id), envelope["position"], lambda current: review_step(envelope, current)))


# ------------------------------------------------------------------ following the scoring service
def on_evaluators_assigned(store: ApplicationStore, envelope: Envelope) -> Change | None:
    """An expert assigned to an application may open it and its evidence (专家在线评审)."""
    application_id = envelope.get("application_id")
    if not application_id:
        return None
    ids = [str(e) for e in envelope["data"].get("evaluator_ids", [])]
    return Change(project=lambda s: rm.assign_evaluators(s, str(application_id), ids))


def on_assignment_declined(store: ApplicationStore, envelope: Envelope) -> Change | None:
    application_id = envelope.get("application_id")
    if not application_id:
        return None
    evaluator_id = str(envelope["data"].get("evaluator_id", ""))
    return Change(project=lambda s: rm.release_evaluator(s, str(application_id), evaluator_id))


def on_returned_for_correction(store: ApplicationStore, envelope: Envelope) -> Change | None:
    """review.returned_for_correction reopens the application for editing, and is a review outcome."""
    outcome = on_review_event(store, envelope)
    reopened = reopen_for_correction(store, envelope)
    if reopened is None or outcome is None:
        return reopened or outcome
    first, then = reopened.project, outcome.project

    def both(session: Session) -> None:
        for project in (first, then):
            if project is not None:
                project(session)

    return Change(reopened.aggregates, both)


def reopen_for_correction(store: ApplicationStore, envelope: Envelope) -> Change | None:
    if not envelope.get("application_id"):
        return None
    app = store.find(Application, UUID(envelope["application_id"]))
    if app is None:
        return None
    data = envelope["data"]
    when = datetime.fromisoformat(envelope["occurred_at"])
    if not app.return_for_correction(when, actor_of(envelope), int(data["round"]), data["stage"],
                                     list(data.get("reasons", [])), envelope["event_id"]):
        return None
    return Change([app], lambda s: rm.project_application(s, app))
