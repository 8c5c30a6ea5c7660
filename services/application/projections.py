"""Read models of the application service, written in the same transaction as the events that
change them (so a query right after a command already sees it), plus the evidence content store."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, Select, String, Table, Text, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from shared.bookkeeping import bookkeeping
from shared.readmodels import Owned, Projection, Row, upsert
from shared.sessions import record_provider, session_row

from services.application.domain import Account, Application, Ban, Campaign, Enterprise

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

# Where each application's review case stands, as the review service's events say (handlers/
# applications.py, "following the review service"). Kept apart from application_rm_applications on
# purpose: those rows are a projection of the application's own log, which rebuild_read_models empties
# and writes again; these come from the review service's log, so they are not a declared projection,
# a rebuild leaves them alone, and queries join them by application id.
review_outcomes = Table(
    "application_rm_review_outcomes", metadata,
    Column("application_id", String(36), primary_key=True),
    Column("review_round", Integer),
    Column("review_stage", String(16)),  # provider, county, city
    Column("review_status", String(16), nullable=False, index=True),  # open, returned, recommended, ...
    Column("review_overdue", Integer, nullable=False),  # open, and the current stage passed its target date
    Column("review_updated_at", String(40), nullable=False),
    Column("review_position", BigInteger, nullable=False),  # the review log position last applied
)

campaigns = Table(
    "application_rm_campaigns", metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("opens_on", String(10), nullable=False),
    Column("settings", Text, nullable=False),  # JSON, keys sorted
    Column("opened_at", String(40), nullable=False),
)

enterprises = Table(
    "application_rm_enterprises", metadata,
    Column("enterprise_id", String(36), primary_key=True),
    Column("uscc", String(18), nullable=False, unique=True),
    Column("name", String(200), nullable=False, index=True),
    Column("county_code", String(6), nullable=False, index=True),
    Column("account_id", String(36), nullable=False),
    Column("registered_at", String(40), nullable=False),
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



def application_row(app: Application) -> Row:
    categories = sorted({s["category"] for s in app.scenarios})
    return {
        "application_id": str(app.id), "campaign_code": app.campaign_code, "enterprise_id": app.enterprise_id,
        "account_id": app.account_id, "uscc": app.uscc, "enterprise_name": app.enterprise_name,
        "county_code": app.county_code, "unit_code": app.unit_code, "status": app.status, "round": app.round,
        "provider_id": app.sections.get("cloud", {}).get("provider_id"),
        "categories": " " + " ".join(categories) + " ", "submitted_at": app.submitted_at,
        "updated_at": app.modified_on.isoformat(), "version": app.version,
    }


def account_row(account: Account) -> Row:
    return {
        "account_id": str(account.id), "username": account.username, "role": account.role,
        "display_name": account.display_name, "division_code": account.division_code,
        "provider_id": account.provider_id, "active": int(account.active),
    }


def ban_row(ban: Ban) -> Row:
    return {
        "ban_id": str(ban.id), "uscc": ban.uscc, "reason": ban.reason, "starts_on": ban.starts_on,
        "ends_on": ban.ends_on, "source": ban.source, "lifted": int(ban.lifted),
    }


def campaign_row(campaign: Campaign) -> Row:
    return {
        "campaign_id": str(campaign.id), "code": campaign.code, "name": campaign.settings["name"],
        "opens_on": campaign.settings["opens_on"], "settings": json.dumps(campaign.settings, sort_keys=True),
        "opened_at": campaign.created_on.isoformat(),
    }


def enterprise_row(enterprise: Enterprise) -> Row:
    return {
        "enterprise_id": str(enterprise.id), "uscc": enterprise.uscc, "name": enterprise.name,
        "county_code": enterprise.county_code, "account_id": enterprise.account_id,
        "registered_at": enterprise.created_on.isoformat(),
    }


project_application = Projection(Application, applications, application_row)
# The account's session record is what every token of the account is checked against (shared/sessions.py).
project_account = Projection(Account, accounts, account_row, owned=[Owned(
    bookkeeping("application").sessions, "account_id",
    lambda a: [session_row(str(a.id), a.session, a.active)])])
project_ban = Projection(Ban, bans, ban_row)
project_campaign = Projection(Campaign, campaigns, campaign_row)
project_enterprise = Projection(Enterprise, enterprises, enterprise_row)


def project_provider(session: Session, provider_id: str, in_pool: bool) -> None:
    record_provider(session, bookkeeping("application"), provider_id, in_pool)


def all_campaigns(session: Session) -> list[dict[str, Any]]:
    """Every campaign, the latest first, with its settings."""
    rows = session.execute(select(campaigns).order_by(campaigns.c.opens_on.desc(), campaigns.c.code)).mappings().all()
    return [dict(r) | {"settings": json.loads(r["settings"])} for r in rows]


# ------------------------------------------------------------------ review outcomes
REVIEW_STAGES = ("provider", "county", "city")  # the review service's case stages (docs/rpc.md)
# The evaluators the scoring service assigned to each application (from its events, like the review
# outcomes above): an expert opens the evidence of the applications assigned to it, and no other.
evaluators = Table(
    "application_rm_evaluators", metadata,
    Column("application_id", String(36), primary_key=True),
    Column("evaluator_id", String(64), primary_key=True),
)

REVIEW_STATUSES = ("open", "returned", "recommended", "declined", "rejected", "withdrawn", "lapsed")
REVIEW_COLUMNS = ("review_round", "review_stage", "review_status", "review_overdue", "review_updated_at")


def assign_evaluators(session: Session, application_id: str, evaluator_ids: list[str]) -> None:
    known = evaluators_of(session, application_id)
    for evaluator_id in sorted(set(evaluator_ids) - known):
        session.execute(insert(evaluators).values(application_id=application_id, evaluator_id=evaluator_id))


def release_evaluator(session: Session, application_id: str, evaluator_id: str) -> None:
    session.execute(delete(evaluators).where(evaluators.c.application_id == application_id,
                                             evaluators.c.evaluator_id == evaluator_id))


def evaluators_of(session: Session, application_id: str) -> frozenset[str]:
    return frozenset(r[0] for r in session.execute(select(evaluators.c.evaluator_id)
                                                   .where(evaluators.c.application_id == application_id)))


def review_outcome(session: Session, application_id: str) -> dict[str, Any]:
    """The review fields of one application (all None, not overdue, before its case opened)."""
    row = session.execute(select(review_outcomes).where(review_outcomes.c.application_id == application_id)).mappings().first()
    return _review_fields(row or {})


def _review_fields(row: Any) -> dict[str, Any]:
    fields = {column: row.get(column) for column in REVIEW_COLUMNS}
    return fields | {"review_overdue": bool(fields["review_overdue"])}


def record_review_outcome(session: Session, application_id: str, position: int,
                          advance: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Apply one review event to an application's review outcome: `advance(current)` answers the new
    fields from the current ones (an empty dict before the case opened). An event at or below the
    position last applied changes nothing, so replaying the review log is harmless; an application
    this service does not hold gets no row."""
    known = session.execute(select(applications.c.application_id)
                            .where(applications.c.application_id == application_id)).first()
    if known is None:
        return
    row = session.execute(select(review_outcomes).where(review_outcomes.c.application_id == application_id)).mappings().first()
    current = dict(row) if row else {}
    if current and current["review_position"] >= position:
        return
    upsert(session, review_outcomes, "application_id",
           {"application_id": application_id, "review_position": position, **advance(current)})


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
    """Applications with their review outcome (joined: see review_outcomes), filtered and paged."""
    query = select(applications, *(review_outcomes.c[c] for c in REVIEW_COLUMNS)).select_from(
        applications.outerjoin(review_outcomes, review_outcomes.c.application_id == applications.c.application_id))
    for column in ("campaign_code", "status", "unit_code", "county_code", "account_id", "enterprise_id",
                   "provider_id", "uscc"):
        if filters.get(column) is not None:
            query = query.where(applications.c[column] == filters[column])
    for column in ("review_status", "review_stage"):
        if filters.get(column) is not None:
            query = query.where(review_outcomes.c[column] == filters[column])
    if filters.get("review_overdue") is not None:
        query = query.where(func.coalesce(review_outcomes.c.review_overdue, 0) == int(filters["review_overdue"]))
    if filters.get("category"):
        query = query.where(applications.c.categories.like(f"% {filters['category']} %"))
    if filters.get("enterprise_name"):
        query = query.where(applications.c.enterprise_name.contains(filters["enterprise_name"], autoescape=True))
    if filters.get("exclude_drafts"):
        query = query.where(applications.c.status != "draft")
    rows = _page(session, query.order_by(applications.c.unit_code, applications.c.county_code,
                                         applications.c.application_id), page, page_size)
    items = [dict(r) | _review_fields(r) | {"categories": r["categories"].split()} for r in rows["items"]]
    return rows | {"items": items}


def page_of_accounts(session: Session, role: str | None, division_codes: list[str] | None, page: int,
                     page_size: int) -> dict[str, Any]:
    query = select(accounts)
    if role is not None:
        query = query.where(accounts.c.role == role)
    if division_codes is not None:
        query = query.where(accounts.c.division_code.in_(division_codes))
    rows = _page(session, query.order_by(accounts.c.role, accounts.c.username), page, page_size)
    return rows | {"items": [dict(r) | {"active": bool(r["active"])} for r in rows["items"]]}


def page_of_enterprises(session: Session, uscc: str | None, name: str | None, county_codes: list[str] | None,
                        page: int, page_size: int) -> dict[str, Any]:
    """The enterprise directory with each one's account (user name, active), filtered and paged."""
    query = select(enterprises, accounts.c.username, accounts.c.active).select_from(
        enterprises.outerjoin(accounts, accounts.c.account_id == enterprises.c.account_id))
    if uscc is not None:
        query = query.where(enterprises.c.uscc == uscc)
    if name is not None:
        query = query.where(or_(enterprises.c.name.contains(name, autoescape=True),
                                func.lower(enterprises.c.name).contains(name.lower(), autoescape=True)))
    if county_codes is not None:
        query = query.where(enterprises.c.county_code.in_(county_codes))
    rows = _page(session, query.order_by(enterprises.c.name, enterprises.c.uscc), page, page_size)
    return rows | {"items": [dict(r) | {"active": bool(r["active"])} for r in rows["items"]]}


def _page(session: Session, query: Select[Any], page: int, page_size: int) -> dict[str, Any]:
    """One page of an ordered query: `{items (row mappings), total, page, page_size}`."""
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.limit(page_size).offset((page - 1) * page_size)).mappings().all()
    return {"items": rows, "total": total, "page": page, "page_size": page_size}
