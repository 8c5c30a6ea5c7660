"""Read models of the application service, written in the same transaction as the events that
change them (so a query right after a command already sees it), plus the evidence content store."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, Text, func, insert, select
from sqlalchemy.orm import Session

from shared.readmodels import upsert

from services.application.domain import Account, Application, Ban

metadata = MetaData()

applications = Table(
    "application_rm_applications", metadata,
    Column("application_id", String(36), primary_key=True),
    Column("campaign_code", String(32), nullable=False, index=True),
    Column("enterprise_id", String(36), nullable=False, index=True),
    Column("account_id", String(36), nullable=False, index=True),
    Column("uscc", String(18), nullable=False),
    Column("enterprise_name", String(200), nullable=False),
    Column("county_code", String(6), nullable=False, index=True),
    Column("unit_code", String(6), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("round", Integer, nullable=False),
    Column("provider_id", String(64)),
    Column("categories", String(200), nullable=False),  # " infrastructure business " for LIKE filters
    Column("submitted_at", String(40)),
    Column("updated_at", String(40), nullable=False),
    Column("version", Integer, nullable=False),
)

accounts = Table(
    "application_rm_accounts", metadata,
    Column("account_id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False, index=True),
    Column("display_name", String(200), nullable=False),
    Column("division_code", String(6)),
    Column("provider_id", String(64)),
    Column("active", Integer, nullable=False),
)

bans = Table(
    "application_rm_bans", metadata,
    Column("ban_id", String(36), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("starts_on", String(10), nullable=False),
    Column("ends_on", String(10), nullable=False),
    Column("source", String(16), nullable=False),
    Column("lifted", Integer, nullable=False),
)

login_failures = Table(
    "application_rm_login_failures", metadata,
    Column("username", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", String(40), nullable=False),
    Column("locked_until", String(40)),
)

# Sign-in throttling: this many failures within the window lock the name for the lock-out time.
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_LOCKOUT = timedelta(minutes=15)

documents = Table(
    "application_documents", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
)



def project_application(session: Session, app: Application) -> None:
    categories = sorted({s["category"] for s in app.scenarios})
    upsert(session, applications, "application_id", {
        "application_id": str(app.id), "campaign_code": app.campaign_code, "enterprise_id": app.enterprise_id,
        "account_id": app.account_id, "uscc": app.uscc, "enterprise_name": app.enterprise_name,
        "county_code": app.county_code, "unit_code": app.unit_code, "status": app.status, "round": app.round,
        "provider_id": app.sections.get("cloud", {}).get("provider_id"),
        "categories": " " + " ".join(categories) + " ", "submitted_at": app.submitted_at,
        "updated_at": app.modified_on.isoformat(), "version": app.version,
    })


def project_account(session: Session, account: Account) -> None:
    upsert(session, accounts, "account_id", {
        "account_id": str(account.id), "username": account.username, "role": account.role,
        "display_name": account.display_name, "division_code": account.division_code,
        "provider_id": account.provider_id, "active": int(account.active),
    })


def project_ban(session: Session, ban: Ban) -> None:
    upsert(session, bans, "ban_id", {
        "ban_id": str(ban.id), "uscc": ban.uscc, "reason": ban.reason, "starts_on": ban.starts_on,
        "ends_on": ban.ends_on, "source": ban.source, "lifted": int(ban.lifted),
    })


def failed_logins(session: Session, username: str) -> dict[str, Any] | None:
    row = session.execute(select(login_failures).where(login_failures.c.username == username)).mappings().first()
    return dict(row) if row else None


def locked_until(failures: dict[str, Any] | None, now: datetime) -> str | None:
    until = failures and failures["locked_until"]
    return until if until and datetime.fromisoformat(until) > now else None


def count_failed_login(session: Session, username: str, now: datetime) -> None:
    row = session.execute(select(login_failures).where(login_failures.c.username == username)).mappings().first()
    if row is None or datetime.fromisoformat(row["window_start"]) + LOGIN_WINDOW <= now:
        failures, start = 1, now
    else:
        failures, start = row["failures"] + 1, datetime.fromisoformat(row["window_start"])
    locked = (now + LOGIN_LOCKOUT).isoformat() if failures >= LOGIN_MAX_FAILURES else None
    upsert(session, login_failures, "username", {"username": username, "failures": 0 if locked else failures,
                                                 "window_start": start.isoformat(), "locked_until": locked})


def clear_failed_logins(session: Session, username: str) -> None:
    session.execute(login_failures.delete().where(login_failures.c.username == username))


def store_content(session: Session, sha256: str, content: bytes) -> None:
    """Content-addressed: the same file attached twice is kept once."""
    exists = session.execute(select(documents.c.sha256).where(documents.c.sha256 == sha256)).first()
    if not exists:
        session.execute(insert(documents).values(sha256=sha256, size=len(content), content=content))


def load_content(session: Session, sha256: str) -> bytes | None:
    return session.execute(select(documents.c.content).where(documents.c.sha256 == sha256)).scalar()


def bans_of(session: Session, uscc: str) -> list[dict[str, Any]]:
    rows = session.execute(select(bans).where(bans.c.uscc == uscc).order_by(bans.c.starts_on)).mappings().all()
    return [dict(r) | {"lifted": bool(r["lifted"])} for r in rows]


def page_of_applications(session: Session, filters: dict[str, Any], page: int, page_size: int) -> dict[str, Any]:
    query = select(applications)
    for column in ("campaign_code", "status", "unit_code", "county_code", "account_id", "provider_id"):
        if filters.get(column) is not None:
            query = query.where(applications.c[column] == filters[column])
    if filters.get("category"):
        query = query.where(applications.c.categories.like(f"% {filters['category']} %"))
    if filters.get("exclude_drafts"):
        query = query.where(applications.c.status != "draft")
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(applications.c.unit_code, applications.c.county_code, applications.c.application_id)
        .limit(page_size).offset((page - 1) * page_size)
    ).mappings().all()
    items = [dict(r) | {"categories": r["categories"].split()} for r in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}
