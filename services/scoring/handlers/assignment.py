"""Assigning evaluators: the province's seeded draw (per campaign or per city batch), an
evaluator's decline with a declared conflict and the replacement drawn for it; and what an
evaluator may see of the applications assigned to it."""
from __future__ import annotations

import secrets
from typing import Any
from uuid import uuid4

from sqlalchemy import and_
from sqlalchemy.orm import Session

from shared.clock import local_date
from shared.definition import Change, Context
from shared.errors import InvalidState, NotFound
from shared.identity import Role

from services.scoring import projections as rm
from services.scoring import rules as r
from services.scoring.domain import Candidate, Draw, Selection, SheetStatus, candidate_id_for, selection_id_for
from services.scoring.handlers.evaluators import date_of
from services.scoring.store import ScoringStore

Ctx = Context[ScoringStore]


# ------------------------------------------------------------------ who sees a candidate
def candidate_for(ctx: Ctx, application_id: str) -> Candidate:
    """The province and auditors see every candidate; an evaluator only those assigned to it. To
    anyone else the candidate does not exist."""
    candidate = ctx.store.find(Candidate, candidate_id_for(application_id))
    if candidate is None or (ctx.me.role is Role.EXPERT and ctx.me.account_id not in candidate.assigned):
        raise NotFound({"application_id": application_id}, zh="未找到该申报", en="No such application")
    return candidate


def scores_open(ctx: Ctx, campaign_code: str) -> None:
    """Sheets, assignments and rankings change until the list goes on public notice; from then on
    the published list stands on the scores it was adopted from."""
    selection = ctx.store.find(Selection, selection_id_for(campaign_code))
    if selection is not None and selection.scores_locked():
        raise InvalidState({"stage": selection.stage}, zh="名单已公示，评分不能再改",
                           en="The list is on public notice or announced: scores can no longer change")


def locate_candidate(ctx: Ctx, application_id: str) -> None:
    """Jurisdiction before input (the pipeline's `locate`)."""
    candidate_for(ctx, application_id)


def saved(*candidates: Candidate, also: list[Any] | None = None, answer: dict[str, Any] | None = None) -> Change:
    def project(session: Session) -> None:
        for c in candidates:
            rm.project_candidate(session, c)

    return Change([*(also or []), *candidates], project, answer or {})


# ------------------------------------------------------------------ the draw
def eligible_evaluators(ctx: Ctx, rules: r.ScoringRules) -> tuple[dict[str, r.Interests], list[str]]:
    """Active evaluators whose declaration is current, with their interests; and those whose
    declaration must be renewed (or was never made) first."""
    today, inactive = local_date(ctx.now), ctx.store.inactive_accounts()
    with ctx.store.reading() as session:
        pool = rm.evaluator_pool(session)
    eligible, renew = {}, []
    for e in pool:
        if e["account_id"] in inactive:
            continue
        if e["interests"] is None or not rules.declaration_current(date_of(e["declared_on"]), today):
            renew.append(e["account_id"])
            continue
        i = e["interests"]
        eligible[e["account_id"]] = r.Interests(frozenset(i["employers"]), frozenset(i["enterprises"]), frozenset(i["providers"]))
    return eligible, renew


def exclusions(session: Session, candidate: Candidate, evaluators: dict[str, r.Interests]) -> dict[str, list[str]]:
    """{evaluator: reasons} of everyone who may not be drawn for this candidate."""
    parties = r.Parties(candidate.uscc, candidate.provider_ids(), rm.provider_usccs(session, candidate.provider_ids()))
    out: dict[str, list[str]] = {}
    for evaluator, interests in evaluators.items():
        reasons = r.conflicts(interests, parties)
        if evaluator in candidate.assigned:
            reasons.append("assigned")
        if evaluator in candidate.declined:
            reasons.append("declined")
        if reasons:
            out[evaluator] = reasons
    return out


def run_draw(ctx: Ctx, campaign_code: str, unit_code: str | None, seed: str, candidates: list[Candidate],
             needed: dict[str, int], rules: r.ScoringRules, replacing: dict[str, str] | None = None,
             released: str | None = None) -> tuple[Draw, dict[str, Any]]:
    evaluators, renew = eligible_evaluators(ctx, rules)
    with ctx.store.reading() as session:
        excluded = {c.application_id: exclusions(session, c, evaluators) for c in candidates}
        loads = rm.loads(session, campaign_code)
    if released:
        loads[released] = max(0, loads.get(released, 0) - 1)  # the decliner's assignment is being given up
    loads = {e: loads.get(e, 0) for e in evaluators}
    applications = sorted(c.application_id for c in candidates)
    assignments = r.draw(seed, applications, sorted(evaluators), loads, needed, excluded)
    shortfalls = {a: needed[a] - len(assignments[a]) for a in applications if len(assignments[a]) < needed[a]}
    draw = Draw.make(ctx.now, ctx.actor(), uuid4(), campaign_code=campaign_code, unit_code=unit_code, rule=r.DRAW_RULE,
                     seed=seed, applications=applications, evaluators=sorted(evaluators), loads_before=loads,
                     needed=needed, excluded=excluded, assignments=assignments, shortfalls=shortfalls,
                     replacing=replacing)
    for c in candidates:
        c.assign(ctx.now, ctx.actor(), assignments[c.application_id], str(draw.id))
    return draw, {"draw_id": str(draw.id), "seed": seed, "assignments": assignments, "shortfalls": shortfalls,
                  "needs_renewal": renew}


def draw_evaluators(ctx: Ctx, data: dict[str, Any]) -> Change:
    """Assign every candidate of the campaign (or of one city's batch) that still lacks evaluators."""
    campaign, unit = data["campaign_code"], data["unit_code"]
    rules = ctx.store.rules(campaign)
    scores_open(ctx, campaign)
    with ctx.store.reading() as session:
        ids = rm.candidate_ids(session, campaign, unit)
    candidates = [c for c in (ctx.store.get(Candidate, candidate_id_for(a)) for a in ids)
                  if c.award is None and len(c.assigned) < rules.experts_per_application]
    if not candidates:
        raise InvalidState({"campaign_code": campaign, "unit_code": unit}, zh="没有待分配专家的申报",
                           en="No recommended application is waiting for evaluators")
    needed = {c.application_id: rules.experts_per_application - len(c.assigned) for c in candidates}
    draw, answer = run_draw(ctx, campaign, unit, data["seed"] or secrets.token_hex(16), candidates, needed, rules)
    return saved(*candidates, also=[draw], answer=answer)


def decline_assignment(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    """The evaluator declares a conflict; a replacement is drawn at once (a shortfall when nobody is
    left, which the province's next draw fills)."""
    return release(ctx, candidate_for(ctx, application_id), ctx.me.account_id, data["reason"])


def replace_evaluator(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    """The province takes an evaluator off an application (deactivated, unreachable, a conflict come
    to light) with a reason; a replacement is drawn as for a decline."""
    candidate = candidate_for(ctx, application_id)
    if data["evaluator_id"] not in candidate.assigned:
        raise NotFound({"evaluator_id": data["evaluator_id"]}, zh="该专家未分配评审此申报",
                       en="No such evaluator on this application")
    return release(ctx, candidate, data["evaluator_id"], data["reason"])


def release(ctx: Ctx, candidate: Candidate, evaluator_id: str, reason: str) -> Change:
    scores_open(ctx, candidate.campaign_code)
    application_id = candidate.application_id
    candidate.decline(ctx.now, ctx.actor(), evaluator_id, reason)
    rules = ctx.store.rules(candidate.campaign_code)
    draw, answer = run_draw(ctx, candidate.campaign_code, None, secrets.token_hex(16), [candidate],
                            {application_id: 1}, rules,
                            replacing={"application_id": application_id, "evaluator_id": evaluator_id},
                            released=evaluator_id)
    return saved(candidate, also=[draw], answer={"application_id": application_id, "released": evaluator_id,
                                                 "replacement": answer["assignments"][application_id],
                                                 "draw_id": answer["draw_id"]})


# ------------------------------------------------------------------ what an evaluator sees
def sheet_view(sheet: dict[str, Any]) -> dict[str, Any]:
    return {"status": sheet["status"], "scores": sheet["scores"], "justifications": sheet["justifications"],
            "total": sheet["total"]}


def get_assignment(ctx: Ctx, application_id: str) -> dict[str, Any]:
    """The application as the experts see it (content as confirmed, the provider's and the bureaus'
    opinions), the rubric and the sheets: an evaluator sees its own, and the others only once every
    sheet of the application is final."""
    c = candidate_for(ctx, application_id)
    rules = ctx.store.rules(c.campaign_code)
    all_final = c.fully_scored(rules.experts_per_application)  # the whole panel, every sheet final
    if ctx.me.role is Role.EXPERT and not all_final:
        sheets = {e: sheet_view(s) for e, s in c.sheets.items() if e == ctx.me.account_id}
    else:
        sheets = {e: sheet_view(s) for e, s in c.sheets.items() if e in c.assigned}
    return {"application_id": c.application_id, "campaign_code": c.campaign_code, "enterprise_name": c.enterprise_name,
            "uscc": c.uscc, "county_code": c.county_code, "unit_code": c.unit_code, "submitted_at": c.submitted_at,
            "content": c.content, "provider_confirmation": c.provider_confirmation,
            "county_checklist": c.county_checklist, "city_opinion": c.opinion,
            "rubric": [vars(k) for k in rules.rubric], "evaluators": len(c.assigned), "all_sheets_final": all_final,
            "sheets": sheets, "version": c.version}


def my_assignments(ctx: Ctx, query: dict[str, Any]) -> dict[str, Any]:
    a = rm.assignments
    where: Any = a.c.evaluator_id == ctx.me.account_id
    if query["campaign_code"]:
        where = and_(where, a.c.campaign_code == query["campaign_code"])
    if query["pending_only"]:
        where = and_(where, (a.c.sheet_status.is_(None)) | (a.c.sheet_status != SheetStatus.FINAL.value))
    with ctx.store.reading() as session:
        rows = rm.assignment_rows(session, where)
    return {"items": [{"application_id": x["application_id"], "campaign_code": x["campaign_code"],
                       "enterprise_name": x["enterprise_name"], "unit_code": x["unit_code"],
                       "sheet_status": x["sheet_status"], "total": x["total"]} for x in rows]}
