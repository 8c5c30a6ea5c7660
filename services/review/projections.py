"""Read models of the review service, written in the same transaction as the events: the campaigns
and supply pool it learned from the application service, the cases, and who acted when."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, and_, exists, func, insert, select
from sqlalchemy.orm import Session

from shared.campaign_settings import CampaignSettings
from shared.readmodels import Projection, Row, upsert

from services.review.domain import ReviewCase, Status

metadata = MetaData()

campaign_book = CampaignSettings(metadata, "review")  # from application.campaign_opened
campaigns = campaign_book.table

pool = Table(
    "review_rm_pool", metadata,
    Column("provider_id", String(64), primary_key=True),
    Column("in_pool", Integer, nullable=False),
)

cases = Table(
    "review_rm_cases", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("application_id", String(36), nullable=False, unique=True),
    Column("campaign_code", String(32), nullable=False, index=True),
    Column("enterprise_name", String(200), nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("county_code", String(6), nullable=False, index=True),
    Column("unit_code", String(6), nullable=False, index=True),
    Column("provider_id", String(64), nullable=False, index=True),
    Column("round", Integer, nullable=False),
    Column("stage", String(16), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("overdue", Integer, nullable=False),
    Column("due", String(10), index=True),
    Column("system_close", String(10), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("version", Integer, nullable=False),
)

actions = Table(
    "review_rm_actions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_id", String(36), nullable=False, index=True),
    Column("round", Integer, nullable=False),
    Column("stage", String(16), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("at", String(40), nullable=False),
)



campaign_settings = campaign_book.get


def set_pool_member(session: Session, provider_id: str, in_pool: bool) -> None:
    upsert(session, pool, "provider_id", {"provider_id": provider_id, "in_pool": int(in_pool)})


def in_pool(session: Session, provider_id: str) -> bool:
    return bool(session.execute(select(pool.c.in_pool).where(pool.c.provider_id == provider_id)).scalar())


def case_row(case: ReviewCase) -> Row:
    due = case.terms.due(case.stage).isoformat() if case.status == Status.OPEN else None
    return {
        "case_id": str(case.id), "application_id": case.application_id, "campaign_code": case.campaign_code,
        "enterprise_name": case.content.get("enterprise_name", ""), "uscc": case.content.get("uscc", ""),
        "county_code": case.county_code, "unit_code": case.unit_code, "provider_id": case.provider_id,
        "round": case.round, "stage": case.stage, "status": case.status,
        "overdue": int(case.status == Status.OPEN and case.stage in case.overdue_stages), "due": due,
        "system_close": case.deadlines["system_close"],
        "updated_at": case.modified_on.isoformat(), "version": case.version,
    }


project_case = Projection(ReviewCase, cases, case_row)


def record_action(session: Session, case: ReviewCase, stage: str, decision: str, actor: dict[str, str]) -> None:
    session.execute(insert(actions).values(
        application_id=case.application_id, round=case.round, stage=stage, decision=decision,
        actor_id=actor["id"], actor_role=actor["role"], at=case.modified_on.isoformat()))


def cases_due(session: Session, today: str) -> list[str]:
    """Cases with something for the clock to do on `today` (ISO, Asia/Shanghai): a stage date passed
    and not yet flagged, or the system close passed while unfinished. "Before day D" lasts to the
    end of D, so a date is past once it is earlier than today."""
    unfinished = cases.c.status.in_([Status.OPEN, Status.RETURNED])
    overdue = and_(cases.c.status == Status.OPEN, cases.c.overdue == 0, cases.c.due < today)
    rows = session.execute(select(cases.c.case_id).where(unfinished, overdue | (cases.c.system_close < today)))
    return [r[0] for r in rows]


def page(session: Session, where: Any, number: int, size: int) -> dict[str, Any]:
    query = select(cases).where(where)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(cases.c.due, cases.c.unit_code, cases.c.county_code, cases.c.application_id)
                           .limit(size).offset((number - 1) * size)).mappings().all()
    return {"items": [dict(r) | {"overdue": bool(r["overdue"])} for r in rows], "total": total, "page": number,
            "page_size": size}


def acted_at(stage: str) -> Any:
    """Cases where someone acted at `stage` (any round): a reviewer's done list."""
    return exists().where(and_(actions.c.application_id == cases.c.application_id, actions.c.stage == stage))


def progress(session: Session, campaign_code: str | None) -> list[dict[str, Any]]:
    query = select(cases.c.unit_code, cases.c.county_code, cases.c.stage, cases.c.status,
                   func.count().label("cases"), func.sum(cases.c.overdue).label("overdue"))
    if campaign_code:
        query = query.where(cases.c.campaign_code == campaign_code)
    query = query.group_by(cases.c.unit_code, cases.c.county_code, cases.c.stage, cases.c.status)
    return [dict(r) | {"overdue": int(r["overdue"] or 0)} for r in session.execute(query).mappings()]
