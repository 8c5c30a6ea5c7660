"""Read models of the scoring service, written in the same transaction as the events: what it
learned upstream (campaign settings, the supply pool's credit codes, the evaluator accounts) and
its own candidates, assignments, declarations, rankings, selections and objections."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, func, select
from sqlalchemy.orm import Session

from shared.campaign_settings import CampaignSettings
from shared.readmodels import Owned, Projection, Row, upsert

from services.scoring.domain import Candidate, Evaluator, Objection, Ranking, Selection, SheetStatus

metadata = MetaData()

campaign_book = CampaignSettings(metadata, "scoring")  # from application.campaign_opened
campaigns = campaign_book.table

providers = Table(
    "scoring_rm_providers", metadata,
    Column("provider_id", String(64), primary_key=True),
    Column("uscc", String(18), nullable=False),
)

barred = Table(  # applications audit found fraudulent before they were candidates (audit.fraud_found)
    "scoring_rm_barred", metadata,
    Column("application_id", String(36), primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("reason", Text, nullable=False),
)

accounts = Table(  # evaluator accounts issued by the province (role expert)
    "scoring_rm_evaluator_accounts", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("display_name", String(200), nullable=False),
)

declarations = Table(
    "scoring_rm_declarations", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("interests", Text, nullable=False),
    Column("declared_on", String(10), nullable=False),
    Column("version", Integer, nullable=False),
)

candidates = Table(
    "scoring_rm_candidates", metadata,
    Column("application_id", String(36), primary_key=True),
    Column("campaign_code", String(32), nullable=False, index=True),
    Column("unit_code", String(6), nullable=False, index=True),
    Column("county_code", String(6), nullable=False),
    Column("enterprise_name", String(200), nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("submitted_at", String(40)),
    Column("assigned", Integer, nullable=False),
    Column("final_sheets", Integer, nullable=False),
    Column("awarded", String(200)),  # the document number, once announced
    Column("revoked", Text),
    Column("withdrawn", Integer, nullable=False),
    Column("version", Integer, nullable=False),
)

assignments = Table(
    "scoring_rm_assignments", metadata,
    Column("application_id", String(36), primary_key=True),
    Column("evaluator_id", String(64), primary_key=True),
    Column("campaign_code", String(32), nullable=False, index=True),
    Column("sheet_status", String(8)),  # null: nothing saved yet
    Column("total", Integer),
)

rankings = Table(
    "scoring_rm_rankings", metadata,
    Column("ranking_id", String(36), primary_key=True),
    Column("campaign_code", String(32), nullable=False, index=True),
    Column("made_at", String(40), nullable=False),
    Column("cut_at", Integer, nullable=False),
    Column("rows", Text, nullable=False),
)

selections = Table(
    "scoring_rm_selections", metadata,
    Column("campaign_code", String(32), primary_key=True),
    Column("stage", String(16)),
    Column("ranking_id", String(36), nullable=False),
    Column("entries", Text, nullable=False),
    Column("opens_at", String(40)),
    Column("closes_at", String(40)),
    Column("document_number", String(200)),
    Column("version", Integer, nullable=False),
)

objections = Table(
    "scoring_rm_objections", metadata,
    Column("objection_id", String(36), primary_key=True),
    Column("campaign_code", String(32), nullable=False, index=True),
    Column("application_id", String(36), nullable=False),
    Column("name", String(200), nullable=False),
    Column("contact", String(200), nullable=False),
    Column("grounds", Text, nullable=False),
    Column("attachments", Text, nullable=False),
    Column("lodged_at", String(40), nullable=False),
    Column("outcome", String(16)),
    Column("reasons", Text, nullable=False),
)


# ------------------------------------------------------------------ learned upstream
campaign_settings = campaign_book.get


def bar(session: Session, application_id: str, event_id: str, reason: str) -> None:
    upsert(session, barred, "application_id", {"application_id": application_id, "event_id": event_id, "reason": reason})


def barred_reason(session: Session, application_id: str) -> str | None:
    found: str | None = session.execute(select(barred.c.reason).where(barred.c.application_id == application_id)).scalar()
    return found


def save_provider(session: Session, provider_id: str, uscc: str) -> None:
    upsert(session, providers, "provider_id", {"provider_id": provider_id, "uscc": uscc})


def provider_usccs(session: Session, provider_ids: frozenset[str]) -> frozenset[str]:
    return frozenset(r[0] for r in session.execute(select(providers.c.uscc).where(providers.c.provider_id.in_(provider_ids))))


def save_evaluator_account(session: Session, account_id: str, username: str, display_name: str) -> None:
    upsert(session, accounts, "account_id", {"account_id": account_id, "username": username, "display_name": display_name})


# ------------------------------------------------------------------ own aggregates
def declaration_row(e: Evaluator) -> Row:
    return {
        "account_id": e.account_id, "kind": e.kind, "declared_on": e.declared_on, "version": e.version,
        "interests": json.dumps({"employers": e.employers, "enterprises": e.enterprises, "providers": e.providers},
                                ensure_ascii=False)}


def candidate_row(c: Candidate) -> Row:
    return {
        "application_id": c.application_id, "campaign_code": c.campaign_code, "unit_code": c.unit_code,
        "county_code": c.county_code, "enterprise_name": c.enterprise_name, "uscc": c.uscc,
        "submitted_at": c.submitted_at, "assigned": len(c.assigned), "final_sheets": len(c.final_sheets()),
        "awarded": c.award["document_number"] if c.award else None,
        "revoked": c.award["revoked"] if c.award else None, "withdrawn": int(c.withdrawn), "version": c.version}


def assignments_of(c: Candidate) -> list[Row]:
    """The candidate's evaluators, each with the state of its sheet."""
    rows = []
    for evaluator_id in sorted(c.assigned):
        sheet = c.sheets.get(evaluator_id)
        rows.append({"application_id": c.application_id, "evaluator_id": evaluator_id, "campaign_code": c.campaign_code,
                     "sheet_status": sheet["status"] if sheet else None, "total": sheet["total"] if sheet else None})
    return rows


def ranking_row(r: Ranking) -> Row:
    return {"ranking_id": str(r.id), "campaign_code": r.campaign_code, "made_at": r.created_on.isoformat(),
            "cut_at": r.cut_at, "rows": json.dumps(r.rows, ensure_ascii=False)}


def selection_row(s: Selection) -> Row:
    return {
        "campaign_code": s.campaign_code, "stage": s.stage, "ranking_id": s.ranking_id,
        "entries": json.dumps(s.entries), "opens_at": s.opens_at, "closes_at": s.closes_at,
        "document_number": s.document_number, "version": s.version}


def objection_row(o: Objection) -> Row:
    return {
        "objection_id": str(o.id), "campaign_code": o.campaign_code, "application_id": o.application_id,
        "name": o.name, "contact": o.contact, "grounds": o.grounds, "lodged_at": o.created_on.isoformat(),
        "attachments": json.dumps([{k: a[k] for k in ("filename", "content_type", "size", "sha256")} for a in o.attachments],
                                  ensure_ascii=False),
        "outcome": o.outcome, "reasons": json.dumps(o.reasons, ensure_ascii=False)}


project_declaration = Projection(Evaluator, declarations, declaration_row)
project_candidate = Projection(Candidate, candidates, candidate_row,
                               owned=[Owned(assignments, "application_id", assignments_of)])
project_ranking = Projection(Ranking, rankings, ranking_row)
project_selection = Projection(Selection, selections, selection_row)
project_objection = Projection(Objection, objections, objection_row)


# ------------------------------------------------------------------ queries
def evaluator_pool(session: Session) -> list[dict[str, Any]]:
    """Every evaluator account with its declaration (None when it has not declared yet)."""
    rows = session.execute(select(accounts, declarations.c.kind, declarations.c.interests, declarations.c.declared_on)
                           .outerjoin(declarations, declarations.c.account_id == accounts.c.account_id)
                           .order_by(accounts.c.account_id)).mappings()
    return [dict(r) | {"interests": json.loads(r["interests"]) if r["interests"] else None} for r in rows]


def loads(session: Session, campaign_code: str) -> dict[str, int]:
    rows = session.execute(select(assignments.c.evaluator_id, func.count()).where(assignments.c.campaign_code == campaign_code)
                           .group_by(assignments.c.evaluator_id))
    return {r[0]: int(r[1]) for r in rows}


def candidate_ids(session: Session, campaign_code: str, unit_code: str | None = None) -> list[str]:
    """The campaign's candidates still in the expert review (not withdrawn)."""
    query = select(candidates.c.application_id).where(candidates.c.campaign_code == campaign_code,
                                                      candidates.c.withdrawn == 0)
    if unit_code:
        query = query.where(candidates.c.unit_code == unit_code)
    return [r[0] for r in session.execute(query.order_by(candidates.c.application_id))]


def latest_ranking(session: Session, campaign_code: str) -> dict[str, Any] | None:
    row = session.execute(select(rankings).where(rankings.c.campaign_code == campaign_code)
                          .order_by(rankings.c.made_at.desc(), rankings.c.cut_at.desc()).limit(1)).mappings().first()
    return dict(row) | {"rows": json.loads(row["rows"])} if row else None


def undecided_objections(session: Session, campaign_code: str) -> int:
    return int(session.execute(select(func.count()).select_from(objections).where(
        objections.c.campaign_code == campaign_code, objections.c.outcome.is_(None))).scalar_one())


def objection_rows(session: Session, campaign_code: str) -> list[dict[str, Any]]:
    rows = session.execute(select(objections).where(objections.c.campaign_code == campaign_code)
                           .order_by(objections.c.lodged_at, objections.c.objection_id)).mappings()
    return [dict(r) | {"attachments": json.loads(r["attachments"]), "reasons": json.loads(r["reasons"])} for r in rows]


def assignment_rows(session: Session, where: Any) -> list[dict[str, Any]]:
    query = (select(assignments, candidates.c.enterprise_name, candidates.c.unit_code, candidates.c.awarded)
             .join(candidates, candidates.c.application_id == assignments.c.application_id).where(where)
             .order_by(candidates.c.unit_code, assignments.c.application_id, assignments.c.evaluator_id))
    return [dict(r) for r in session.execute(query).mappings()]


def candidate_rows(session: Session, campaign_code: str) -> list[dict[str, Any]]:
    rows = session.execute(select(candidates).where(candidates.c.campaign_code == campaign_code)
                           .order_by(candidates.c.unit_code, candidates.c.application_id)).mappings()
    return [dict(r) for r in rows]


FINAL = SheetStatus.FINAL.value
