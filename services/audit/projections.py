"""Tables of the audit service. The ledger (entries, tree nodes, the index by application) is its
record of every other service's events, written only by appending (services/audit/ledger.py). The
read models (what it learned of each application, spot checks, decisions, inspectors' evidence) are
written in the same transaction as the events they follow from."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, Text, UniqueConstraint,
                        select)
from sqlalchemy.orm import Session

from shared.campaign_settings import CampaignSettings
from shared.readmodels import Projection, Row, upsert

from services.audit.domain import Checkpoint, FraudDecision, SpotCheck

metadata = MetaData()

campaign_book = CampaignSettings(metadata, "audit")  # from application.campaign_opened: ban_years

# ---------------------------------------------------------------- the ledger (append only)
ledger = Table(
    "audit_ledger", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # 1, 2, 3 … (leaf seq - 1)
    Column("source", String(32), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(80), nullable=False, index=True),
    Column("occurred_at", String(40), nullable=False),
    Column("application_id", String(36), index=True),
    Column("actor_id", String(64), nullable=False, index=True),
    Column("actor_role", String(16), nullable=False),
    Column("refers_to", String(36), index=True),  # the event_id this one names as its cause
    Column("canonical", Text, nullable=False),  # the entry's canonical bytes, as text (UTF-8)
    Column("leaf_hash", String(64), nullable=False),
    Column("chain_hash", String(64), nullable=False),
    UniqueConstraint("source", "position", name="audit_ledger_source_position"),
)

checkpoints = Table(  # the root over the first `tree_size` entries, every `checkpoint_interval` entries
    "audit_checkpoints", metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(64), nullable=False),
    Column("chain_head", String(64), nullable=False),  # the chain value of entry `tree_size`
    Column("recorded_at", String(40), nullable=False),
)

nodes = Table(  # RFC 6962 perfect subtrees: (level, index) covers leaves [index·2^level, (index+1)·2^level)
    "audit_ledger_nodes", metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

ledger_applications = Table(  # every application an entry names, in the envelope or in its data
    "audit_ledger_applications", metadata,
    Column("application_id", String(36), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
)

# ---------------------------------------------------------------- read models
applications = Table(  # what the audit service knows of each submitted application
    "audit_rm_applications", metadata,
    Column("application_id", String(36), primary_key=True),
    Column("campaign_code", String(32), nullable=False, index=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("enterprise_name", String(200), nullable=False),
    Column("county_code", String(6), nullable=False),
    Column("unit_code", String(6), nullable=False),
    Column("provider_id", String(64)),
    Column("awarded", Integer, nullable=False, default=0),
    Column("revoked", Integer, nullable=False, default=0),
)

inspectors = Table(  # expert accounts (专家、第三方服务机构), from application.account_provisioned
    "audit_rm_inspectors", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("display_name", String(200), nullable=False),
)

spot_checks = Table(
    "audit_rm_spot_checks", metadata,
    Column("spot_check_id", String(36), primary_key=True),
    Column("campaign_code", String(32), nullable=False, index=True),
    Column("drawn_at", String(40), nullable=False),
    Column("state", Text, nullable=False),  # the check as get_spot_check answers it (JSON)
)

decisions = Table(
    "audit_rm_decisions", metadata,
    Column("decision_id", String(36), primary_key=True),
    Column("application_id", String(36), index=True),
    Column("provider_id", String(64), index=True),
    Column("outcome", String(16), nullable=False),
    Column("decided_at", String(40), nullable=False),
    Column("state", Text, nullable=False),
)

evidence = Table(  # inspectors' files; events carry their names and digests, never their bytes
    "audit_rm_evidence", metadata,
    Column("document_id", String(36), primary_key=True),
    Column("spot_check_id", String(36), nullable=False, index=True),
    Column("application_id", String(36), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(80), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)


def save_application(session: Session, row: dict[str, Any]) -> None:
    upsert(session, applications, "application_id", row)


def application(session: Session, application_id: str) -> dict[str, Any] | None:
    row = session.execute(select(applications).where(applications.c.application_id == application_id)).mappings().first()
    return dict(row) if row else None


def benchmarks(session: Session, campaign_code: str) -> list[dict[str, Any]]:
    """The campaign's benchmark enterprises whose title stands, by application id."""
    rows = session.execute(select(applications).where(applications.c.campaign_code == campaign_code,
                                                      applications.c.awarded == 1, applications.c.revoked == 0)
                           .order_by(applications.c.application_id)).mappings().all()
    return [dict(r) for r in rows]


def checkpoint_row(checkpoint: Checkpoint) -> Row:
    return {"tree_size": checkpoint.tree_size, "root": checkpoint.root, "chain_head": checkpoint.chain_head,
            "recorded_at": checkpoint.created_on.isoformat()}


def spot_check_row(check: SpotCheck) -> Row:
    return {"spot_check_id": str(check.id), "campaign_code": check.campaign_code, "drawn_at": check.drawn_at,
            "state": json.dumps(check.view(), ensure_ascii=False)}


def decision_row(decision: FraudDecision) -> Row:
    return {"decision_id": str(decision.id), "application_id": decision.application_id,
            "provider_id": decision.provider_id, "outcome": decision.outcome, "decided_at": decision.decided_at,
            "state": json.dumps(decision.view(), ensure_ascii=False)}


project_checkpoint = Projection(Checkpoint, checkpoints, checkpoint_row)
project_spot_check = Projection(SpotCheck, spot_checks, spot_check_row)
project_decision = Projection(FraudDecision, decisions, decision_row)


def spot_check(session: Session, spot_check_id: str) -> dict[str, Any] | None:
    raw = session.execute(select(spot_checks.c.state).where(spot_checks.c.spot_check_id == spot_check_id)).scalar()
    return json.loads(raw) if raw else None


def list_spot_checks(session: Session, campaign_code: str | None) -> list[dict[str, Any]]:
    query = select(spot_checks.c.state).order_by(spot_checks.c.drawn_at, spot_checks.c.spot_check_id)
    if campaign_code:
        query = query.where(spot_checks.c.campaign_code == campaign_code)
    return [json.loads(raw) for raw in session.execute(query).scalars()]


def decision(session: Session, decision_id: str) -> dict[str, Any] | None:
    raw = session.execute(select(decisions.c.state).where(decisions.c.decision_id == decision_id)).scalar()
    return json.loads(raw) if raw else None


def list_decisions(session: Session, application_id: str | None = None, provider_id: str | None = None,
                   outcome: str | None = None) -> list[dict[str, Any]]:
    query = select(decisions.c.state).order_by(decisions.c.decided_at, decisions.c.decision_id)
    if application_id:
        query = query.where(decisions.c.application_id == application_id)
    if provider_id:
        query = query.where(decisions.c.provider_id == provider_id)
    if outcome:
        query = query.where(decisions.c.outcome == outcome)
    return [json.loads(raw) for raw in session.execute(query).scalars()]
