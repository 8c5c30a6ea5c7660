"""Review cases: the provider's confirmation, the county's review and the city's recommendation,
each by an account whose jurisdiction covers the case; and the queries on cases."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_
from sqlalchemy.orm import Session

from shared.access import Subject, may_see, scope
from shared.definition import Change, Context
from shared.errors import Forbidden, NotFound
from shared.identity import Principal, Role

from services.review import projections as rm
from services.review.domain import CITY, COUNTY, PROVIDER, ReviewCase, Status, case_id_for
from services.review.events import contract
from services.review.store import ReviewStore

Ctx = Context[ReviewStore]
STAGE_OF_ROLE = {Role.PROVIDER: PROVIDER, Role.COUNTY: COUNTY, Role.CITY: CITY}


def saved(case: ReviewCase, stage: str | None = None, decision: str | None = None,
          actor: dict[str, str] | None = None, answer: dict[str, Any] | None = None) -> Change:
    def project(session: Session) -> None:
        rm.project_case(session, case)
        if stage and decision and actor:
            rm.record_action(session, case, stage, decision, actor)

    return Change([case], project, answer or {})


def state(case: ReviewCase) -> dict[str, Any]:
    return {"application_id": case.application_id, "round": case.round, "stage": case.stage, "status": case.status}


# ------------------------------------------------------------------ jurisdiction
def subject(case: ReviewCase) -> Subject:
    return Subject(enterprise_id=None, county_code=case.county_code, unit_code=case.unit_code,
                   provider_ids=frozenset({case.provider_id}), submitted=True)


def may_act(principal: Principal, case: ReviewCase, stage: str) -> bool:
    if not may_see(principal, subject(case)):
        return False
    if stage == COUNTY and principal.role is Role.CITY:
        # 定州 and 辛集: the one bureau records the county step too, as its own step.
        return case.unit_code == case.county_code
    return STAGE_OF_ROLE.get(principal.role) == stage


def visible_case(ctx: Ctx, application_id: str) -> ReviewCase:
    case = ctx.store.get(ReviewCase, case_id_for(application_id))
    if not may_see(ctx.me, subject(case)):
        raise NotFound()  # outside the caller's jurisdiction it does not exist
    return case


def case_to_act_on(ctx: Ctx, application_id: str, stage: str) -> ReviewCase:
    case = visible_case(ctx, application_id)
    if not may_act(ctx.me, case, stage):
        raise Forbidden({"stage": stage}, zh="无权在此环节审核", en=f"You may not act at the {stage} step")
    return case


def locate_case(ctx: Ctx, application_id: str) -> None:
    """Jurisdiction before input (the pipeline's `locate`): outside it the case does not exist."""
    visible_case(ctx, application_id)


def locate_step(stage: str) -> Any:
    def locate(ctx: Ctx, application_id: str) -> None:
        """Jurisdiction and the caller's step, before the rest of the input is looked at."""
        case_to_act_on(ctx, application_id, stage)

    return locate


# ------------------------------------------------------------------ reviewers' commands
def provider_answer(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    case = case_to_act_on(ctx, application_id, PROVIDER)
    with ctx.store.reading() as session:
        if not rm.in_pool(session, case.provider_id):
            raise Forbidden({"provider_id": case.provider_id}, zh="服务商不在供给资源池中，不能确认",
                            en="The provider is not in the supply pool and cannot confirm")
    case.provider_answer(ctx.now, ctx.actor(), data["items"], data["decision"], data["reasons"], data["remarks"])
    decision = {Status.OPEN: "confirm", Status.RETURNED: "dispute", Status.REJECTED: "reject"}[case.status]
    return saved(case, PROVIDER, decision, ctx.actor(), state(case))


def county_review(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    case = case_to_act_on(ctx, application_id, COUNTY)
    case.county_review(ctx.now, ctx.actor(), data["checklist"], data["complete"], data["decision"], data["reasons"],
                       data["remarks"], local_industrial_enterprise=data["local_industrial_enterprise"])
    return saved(case, COUNTY, data["decision"], ctx.actor(), state(case))


def city_review(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    case = case_to_act_on(ctx, application_id, CITY)
    case.city_review(ctx.now, ctx.actor(), data["decision"], data["opinion"], data["reasons"])
    return saved(case, CITY, data["decision"], ctx.actor(), state(case))


# ------------------------------------------------------------------ queries
def get_case(ctx: Ctx, application_id: str) -> dict[str, Any]:
    case = visible_case(ctx, application_id)
    return {"application_id": case.application_id, "campaign_code": case.campaign_code, "round": case.round,
            "stage": case.stage, "status": case.status, "county_code": case.county_code, "unit_code": case.unit_code,
            "provider_id": case.provider_id, "submitted_at": case.submitted_at, "deadlines": case.deadlines,
            "overdue_stages": case.overdue_stages,
            "step_results": case.step_results, "returns": case.returns, "content": case.content,
            "version": case.version}


def case_history(ctx: Ctx, application_id: str) -> list[dict[str, Any]]:
    case = visible_case(ctx, application_id)
    return contract.history(ctx.store.events.get(case.id), ctx.store.installation_id)


def worklist(ctx: Ctx, query: dict[str, Any]) -> dict[str, Any]:
    c, me = rm.cases, ctx.me
    allowed = scope(me)
    stage = STAGE_OF_ROLE.get(me.role)
    where: Any = c.c.case_id.isnot(None) if allowed.everything else c.c[allowed.column] == allowed.value
    if query.get("campaign_code"):
        where = and_(where, c.c.campaign_code == query["campaign_code"])
    view = query["view"]
    if view == "done":
        where = and_(where, rm.acted_at(stage)) if stage else and_(where, c.c.status.in_(
            [Status.RECOMMENDED, Status.DECLINED, Status.REJECTED, Status.WITHDRAWN, Status.LAPSED]))
    else:
        pending = and_(c.c.status == Status.OPEN, c.c.stage == stage) if stage else c.c.status == Status.OPEN
        if me.role is Role.CITY:
            # 定州/辛集: their bureau also holds the county step of their own cases.
            pending = and_(c.c.status == Status.OPEN, (c.c.stage == CITY) | (and_(c.c.stage == COUNTY, c.c.county_code == c.c.unit_code)))
        where = and_(where, pending, c.c.overdue == 1) if view == "overdue" else and_(where, pending)
    with ctx.store.reading() as session:
        return rm.page(session, where, query["page"], query["page_size"])


def progress(ctx: Ctx, campaign_code: str | None) -> dict[str, Any]:
    with ctx.store.reading() as session:
        rows = rm.progress(session, campaign_code)
    return {"rows": rows, "overdue_total": sum(r["overdue"] for r in rows), "cases_total": sum(r["cases"] for r in rows)}
