"""Read models of the subsidy service, written in the same transaction as the events: what it
learned upstream (campaign settings, which enterprise each application belongs to) and its cases."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, select
from sqlalchemy.orm import Session

from shared.campaign_settings import CampaignSettings
from shared.readmodels import Projection, Row, upsert

from services.subsidy.domain import SubsidyCase

metadata = MetaData()

campaign_book = CampaignSettings(metadata, "subsidy")  # from application.campaign_opened
campaigns = campaign_book.table

owners = Table(  # application -> enterprise, from application.started: whose case it is
    "subsidy_rm_owners", metadata,
    Column("application_id", String(36), primary_key=True),
    Column("enterprise_id", String(36), nullable=False),
)

providers = Table(  # the supply pool's names, for the printed dossier
    "subsidy_rm_providers", metadata,
    Column("provider_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
)

cases = Table(
    "subsidy_rm_cases", metadata,
    Column("application_id", String(36), primary_key=True),
    Column("campaign_code", String(32), nullable=False, index=True),
    Column("enterprise_name", String(200), nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("county_code", String(6), nullable=False, index=True),
    Column("unit_code", String(6), nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("calculated", String(20)),
    Column("approved", String(20)),
    Column("paid", String(20)),
    Column("paid_on", String(10)),
    Column("voucher_reference", String(100), unique=True),  # one bank voucher pays one case
    Column("reclaim", String(20)),
    Column("recovered", String(20)),
    Column("flags", Text, nullable=False),
    Column("version", Integer, nullable=False),
)


campaign_settings = campaign_book.get


def save_owner(session: Session, application_id: str, enterprise_id: str) -> None:
    upsert(session, owners, "application_id", {"application_id": application_id, "enterprise_id": enterprise_id})


def owner_of(session: Session, application_id: str) -> str | None:
    found: str | None = session.execute(select(owners.c.enterprise_id).where(owners.c.application_id == application_id)).scalar()
    return found


def save_provider(session: Session, provider_id: str, name: str) -> None:
    upsert(session, providers, "provider_id", {"provider_id": provider_id, "name": name})


def provider_name(session: Session, provider_id: str) -> str | None:
    found: str | None = session.execute(select(providers.c.name).where(providers.c.provider_id == provider_id)).scalar()
    return found


def case_row(case: SubsidyCase) -> Row:
    calculation, payment, reclaim = case.calculation or {}, case.payment or {}, case.reclaim or {}
    return {
        "application_id": case.application_id, "campaign_code": case.campaign_code,
        "enterprise_name": case.enterprise_name, "uscc": case.uscc, "county_code": case.county_code,
        "unit_code": case.unit_code, "status": case.status, "calculated": calculation.get("amount"),
        "approved": case.approved, "paid": payment.get("amount"), "paid_on": payment.get("paid_on"),
        "voucher_reference": payment.get("voucher_reference"), "reclaim": reclaim.get("amount"),
        "recovered": reclaim.get("recovered"), "flags": json.dumps(calculation.get("flags", []), ensure_ascii=False),
        "version": case.version}


project_case = Projection(SubsidyCase, cases, case_row)


def voucher_used(session: Session, voucher_reference: str) -> str | None:
    """The case a bank voucher already paid, if any."""
    found: str | None = session.execute(select(cases.c.application_id)
                                        .where(cases.c.voucher_reference == voucher_reference)).scalar()
    return found


def case_rows(session: Session, where: Any) -> list[dict[str, Any]]:
    rows = session.execute(select(cases).where(where).order_by(cases.c.unit_code, cases.c.county_code,
                                                               cases.c.application_id)).mappings()
    return [dict(r) | {"flags": json.loads(r["flags"])} for r in rows]
