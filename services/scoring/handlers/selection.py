"""From the final sheets to the announced list: the experts' ranking (打分排序), the department's
decision (研究), the public notice and its objections (公示), and the announcement (正式公布)."""
from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.orm import Session

from shared import evidence
from shared.clock import end_of_day, local_date
from shared.definition import Change, Context
from shared.errors import DeadlinePassed, InvalidInput, InvalidState, NotFound
from shared.identity import Role

from services.scoring import projections as rm
from services.scoring import rules as r
from services.scoring.domain import (Candidate, Objection, Outcome, Ranking, Selection, Stage, candidate_id_for,
                                     selection_id_for)
from services.scoring.handlers.assignment import scores_open
from services.scoring.schemas import ATTACHMENT_MAX_BYTES, ATTACHMENT_TYPES
from services.scoring.store import ScoringStore

Ctx = Context[ScoringStore]


def candidates_of(ctx: Ctx, campaign_code: str) -> list[Candidate]:
    with ctx.store.reading() as session:
        ids = rm.candidate_ids(session, campaign_code)
    return [ctx.store.get(Candidate, candidate_id_for(a)) for a in ids]


def selection_of(ctx: Ctx, campaign_code: str) -> Selection:
    found = ctx.store.find(Selection, selection_id_for(campaign_code))
    if found is None:
        raise InvalidState({"campaign_code": campaign_code, "stage": None}, zh="名单尚未研究确定",
                           en="No list has been adopted for this campaign")
    return found


def names(ctx: Ctx, campaign_code: str) -> dict[str, dict[str, Any]]:
    with ctx.store.reading() as session:
        return {c["application_id"]: c for c in rm.candidate_rows(session, campaign_code)}


def listing(ctx: Ctx, campaign_code: str, application_ids: list[str]) -> list[dict[str, Any]]:
    """What may be published of each listed enterprise."""
    known = names(ctx, campaign_code)
    return [{"application_id": a, "enterprise_name": known[a]["enterprise_name"], "uscc": known[a]["uscc"],
             "unit_code": known[a]["unit_code"], "county_code": known[a]["county_code"]} for a in application_ids]


def ranking_of(ctx: Ctx, ranking_id: str) -> Ranking:
    try:
        found = ctx.store.find(Ranking, UUID(ranking_id))
    except ValueError:
        found = None
    if found is None:
        raise NotFound({"ranking_id": ranking_id}, zh="排名不存在", en="No such ranking")
    return found


def still_current(ctx: Ctx, ranking: Ranking) -> None:
    """A ranking stands for the sheets it read: refuse it when a candidate's sheets changed since
    (a sheet reopened or scored again) or a candidate arrived that it did not rank."""
    read = ranking.versions()
    now = {c.application_id: c for c in candidates_of(ctx, ranking.campaign_code)}
    changed = sorted(a for a, c in now.items() if read.get(a) != c.version)
    if changed:
        raise InvalidState({"ranking_id": str(ranking.id), "changed_since": changed},
                           zh="排名后评分有变动，请重新排名", en="Sheets changed since this ranking: rank again")


# ------------------------------------------------------------------ ranking
def rank_candidates(ctx: Ctx, campaign_code: str) -> Change:
    rules = ctx.store.rules(campaign_code)
    scores_open(ctx, campaign_code)
    candidates = candidates_of(ctx, campaign_code)
    if not candidates:
        raise InvalidState({"campaign_code": campaign_code}, zh="没有推荐的申报", en="No recommended applications")
    incomplete = sorted(c.application_id for c in candidates if not c.fully_scored(rules.experts_per_application))
    if incomplete:
        raise InvalidState({"incomplete": incomplete}, zh="尚有申报评分未完成",
                           en="Every application needs all its final sheets before ranking")
    inputs = [{"application_id": c.application_id, "version": c.version, "submitted_at": c.submitted_at,
               "sheets": [{"evaluator_id": e, "total": s["total"], "scores": s["scores"]}
                          for e, s in sorted(c.final_sheets().items())]} for c in candidates]
    rows = r.rank(inputs, rules)
    ranking = Ranking.make(ctx.now, ctx.actor(), uuid4(), campaign_code=campaign_code, rule=r.AGGREGATION_RULE,
                           settings=rules.aggregation(), inputs=inputs, rows=rows, cut_at=ctx.store.max_position())
    return Change([ranking], lambda s: rm.project_ranking(s, ranking),
                  {"ranking_id": str(ranking.id), "rule": r.AGGREGATION_RULE, "settings": rules.aggregation(),
                   "rows": rows})


def get_ranking(ctx: Ctx, campaign_code: str) -> dict[str, Any]:
    with ctx.store.reading() as session:
        latest = rm.latest_ranking(session, campaign_code)
    if latest is None:
        raise NotFound({"campaign_code": campaign_code}, zh="尚无排名", en="No ranking yet")
    known = names(ctx, campaign_code)
    rows = [row | {"enterprise_name": known[row["application_id"]]["enterprise_name"],
                   "unit_code": known[row["application_id"]]["unit_code"]} for row in latest["rows"]]
    return {"ranking_id": latest["ranking_id"], "made_at": latest["made_at"], "cut_at": latest["cut_at"], "rows": rows}


# ------------------------------------------------------------------ the department's decision
def adopt_list(ctx: Ctx, data: dict[str, Any]) -> Change:
    campaign = data["campaign_code"]
    with ctx.store.reading() as session:
        latest = rm.latest_ranking(session, campaign)
        known = set(rm.candidate_ids(session, campaign))
    if latest is None or latest["ranking_id"] != data["ranking_id"]:
        raise InvalidState({"ranking_id": data["ranking_id"], "latest": latest and latest["ranking_id"]},
                           zh="只能采纳最新的排名", en="Adopt the latest ranking")
    still_current(ctx, ranking_of(ctx, data["ranking_id"]))
    listed = [row["application_id"] for row in latest["rows"] if row["listed"]]
    errors: dict[str, list[str]] = {}
    for i, change in enumerate(data["add"]):
        if change["application_id"] not in known or change["application_id"] in listed:
            errors[f"add.{i}.application_id"] = ["a recommended application not on the experts' list / 须为专家名单外的推荐申报"]
    for i, change in enumerate(data["remove"]):
        if change["application_id"] not in listed:
            errors[f"remove.{i}.application_id"] = ["not on the experts' list / 不在专家推荐名单中"]
    if errors:
        raise InvalidInput.fields(errors)
    removed = {c["application_id"] for c in data["remove"]}
    entries = [a for a in listed if a not in removed] + [c["application_id"] for c in data["add"]]
    selection = ctx.store.find(Selection, selection_id_for(campaign)) or Selection.start(ctx.now, ctx.actor(), campaign)
    selection.adopt(ctx.now, ctx.actor(), data["ranking_id"], entries, data["add"], data["remove"])
    return Change([selection], lambda s: rm.project_selection(s, selection),
                  {"campaign_code": campaign, "entries": entries, "stage": selection.stage})


# ------------------------------------------------------------------ the public notice
def publish_notice(ctx: Ctx, campaign_code: str) -> Change:
    """公示 for the campaign's notice period: from today to the end of the period's last day."""
    selection = selection_of(ctx, campaign_code)
    if selection.stage == Stage.ADOPTED:
        still_current(ctx, ranking_of(ctx, selection.ranking_id))  # nothing reopened since the decision
    with ctx.store.reading() as session:
        settings = rm.campaign_settings(session, campaign_code) or {}
    days = int(settings.get("notice_period_days", 7))
    closes_at = end_of_day(local_date(ctx.now) + timedelta(days=days - 1))
    selection.publish_notice(ctx.now, ctx.actor(), closes_at)
    return Change([selection], lambda s: rm.project_selection(s, selection),
                  {"campaign_code": campaign_code, "opens_at": selection.opens_at, "closes_at": selection.closes_at,
                   "entries": list(selection.entries)})


def public_notice(ctx: Ctx, campaign_code: str) -> dict[str, Any]:
    """What the department's portal shows: the list on notice (or announced) and the period."""
    selection = ctx.store.find(Selection, selection_id_for(campaign_code))
    if selection is None or selection.stage is None or selection.opens_at is None:
        raise NotFound({"campaign_code": campaign_code}, zh="尚未公示", en="Nothing is on public notice")
    return {"campaign_code": campaign_code, "stage": selection.stage, "opens_at": selection.opens_at,
            "closes_at": selection.closes_at, "open_for_objections": selection.notice_open(ctx.now),
            "entries": listing(ctx, campaign_code, selection.entries)}


def lodge_objection(ctx: Ctx, objection: dict[str, Any]) -> Change:
    """Anyone, no account needed, while the notice is open, against an enterprise on the list."""
    campaign = objection["campaign_code"]
    # The files are input (docs/rpc.md, "Order of checks"): judged before the notice's dates.
    errors: dict[str, list[str]] = {}
    attachments = []
    for i, a in enumerate(objection["attachments"]):
        name, problems = evidence.check(a["filename"], a["content_type"], a["content_base64"], ATTACHMENT_TYPES,
                                        ATTACHMENT_MAX_BYTES)
        errors.update({f"attachments.{i}.{field}": messages for field, messages in problems.items()})
        attachments.append({"filename": name, "content_type": a["content_type"], "size": len(a["content_base64"]),
                            "sha256": hashlib.sha256(a["content_base64"]).hexdigest(),
                            "content_base64": base64.b64encode(a["content_base64"]).decode()})
    if errors:
        raise InvalidInput.fields(errors)
    selection = ctx.store.find(Selection, selection_id_for(campaign))
    if selection is None or not selection.notice_open(ctx.now):
        raise DeadlinePassed({"campaign_code": campaign, "closes_at": selection and selection.closes_at},
                             zh="不在公示期内，不受理异议", en="Objections are taken only while the notice is open")
    if objection["application_id"] not in selection.entries:
        raise InvalidInput.fields({"application_id": ["not on the list under notice / 不在公示名单中"]})
    lodged = Objection.lodge(ctx.now, {"id": "public", "role": "public"}, uuid4(), campaign_code=campaign,
                             application_id=objection["application_id"], name=objection["name"],
                             contact=objection["contact"], grounds=objection["grounds"], attachments=attachments)
    return Change([lodged], lambda s: rm.project_objection(s, lodged),
                  {"objection_id": str(lodged.id), "closes_at": selection.closes_at})


def objection_status(ctx: Ctx, objection_id: str) -> dict[str, Any]:
    """The objector follows its objection by the id it was given (unguessable): the outcome only."""
    found = find_objection(ctx, objection_id)
    return {"objection_id": objection_id, "decided": found.outcome is not None, "outcome": found.outcome,
            "reasons": found.reasons}


def find_objection(ctx: Ctx, objection_id: str) -> Objection:
    try:
        found = ctx.store.find(Objection, UUID(objection_id))
    except ValueError:
        found = None
    if found is None:
        raise NotFound({"objection_id": objection_id}, zh="异议不存在", en="No such objection")
    return found


def list_objections(ctx: Ctx, campaign_code: str) -> dict[str, Any]:
    """The province sees who objected and how to reach them; an auditor sees the rest."""
    ctx.store.rules(campaign_code)  # not_found for a campaign it does not know
    with ctx.store.reading() as session:
        rows = rm.objection_rows(session, campaign_code)
    if ctx.me.role is not Role.PROVINCE:
        rows = [{k: v for k, v in row.items() if k not in ("name", "contact")} for row in rows]
    return {"campaign_code": campaign_code, "items": rows}


def decide_objection(ctx: Ctx, objection_id: str, decision: dict[str, Any]) -> Change:
    objection = find_objection(ctx, objection_id)
    selection = selection_of(ctx, objection.campaign_code)
    objection.decide(ctx.now, ctx.actor(), decision["outcome"], decision["reasons"])
    changed: list[Any] = [objection]
    if decision["outcome"] == Outcome.UPHELD:
        selection.remove_entry(ctx.now, ctx.actor(), objection.application_id, objection_id, "; ".join(decision["reasons"]))
        changed.append(selection)

    def project(session: Session) -> None:
        rm.project_objection(session, objection)
        rm.project_selection(session, selection)

    return Change(changed, project, {"objection_id": objection_id, "outcome": decision["outcome"],
                                     "entries": list(selection.entries)})


# ------------------------------------------------------------------ the announcement
def announce(ctx: Ctx, data: dict[str, Any]) -> Change:
    """正式公布: once the notice has closed and every objection is decided; one award per enterprise."""
    campaign = data["campaign_code"]
    selection = selection_of(ctx, campaign)
    with ctx.store.reading() as session:
        undecided = rm.undecided_objections(session, campaign)
    selection.announce(ctx.now, ctx.actor(), data["document_number"], undecided)
    adopted = ranking_of(ctx, selection.ranking_id)  # the scores the published list stands on
    awarded = []
    for application_id in selection.entries:
        candidate = ctx.store.get(Candidate, candidate_id_for(application_id))
        row = adopted.row(application_id) or {"score": "", "rank": 0}
        candidate.grant(ctx.now, ctx.actor(), data["document_number"], row["score"], row["rank"])
        awarded.append(candidate)

    def project(session: Session) -> None:
        rm.project_selection(session, selection)
        for c in awarded:
            rm.project_candidate(session, c)

    return Change([selection, *awarded], project, {"campaign_code": campaign, "document_number": data["document_number"],
                                                   "awarded": [c.application_id for c in awarded]})


def announced_list(ctx: Ctx, campaign_code: str) -> dict[str, Any]:
    """The published list of benchmark enterprises, with any award revoked since."""
    selection = ctx.store.find(Selection, selection_id_for(campaign_code))
    if selection is None or selection.document_number is None:
        raise NotFound({"campaign_code": campaign_code}, zh="名单尚未正式公布", en="The list has not been announced")
    known = names(ctx, campaign_code)
    return {"campaign_code": campaign_code, "document_number": selection.document_number,
            "entries": [item | {"revoked": known[item["application_id"]]["revoked"]}
                        for item in listing(ctx, campaign_code, selection.entries)]}
