"""The lookups portals and the province need besides the applications: the enterprise directory
(by credit code or name) and the account list, both paged."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared import refdata
from shared.definition import Change, Context

from services.application import projections as rm
from services.application.domain import Enterprise
from services.application.handlers import identity
from services.application.store import ApplicationStore

Ctx = Context[ApplicationStore]


def register_enterprise(ctx: Ctx, data: dict[str, Any]) -> Change:
    """identity.register_enterprise, and the enterprise's row in the directory, in the same transaction.
    (Once identity.register_enterprise writes rm.project_enterprise itself, the declaration can name
    it again and this goes.)"""
    change = identity.register_enterprise(ctx, data)
    registered = [a for a in change.aggregates if isinstance(a, Enterprise)]
    inner = change.project

    def project(session: Session) -> None:
        if inner is not None:
            inner(session)
        for enterprise in registered:
            rm.project_enterprise(session, enterprise)

    return Change(change.aggregates, project, change.answer)


def within(division_code: str | None) -> list[str] | None:
    """The division codes a division filter matches: the code itself and, for a city-level unit, the
    counties it reviews (so 石家庄 lists its city bureau and its county bureaus)."""
    if division_code is None:
        return None
    divisions = refdata.divisions()
    if division_code not in divisions.units:
        return [division_code]
    return [division_code] + sorted(c for c, county in divisions.counties.items() if county.unit == division_code
                                    and c != division_code)


def list_accounts(ctx: Ctx, role: str | None, division_code: str | None, page: int, page_size: int) -> dict[str, Any]:
    with ctx.store.reading() as session:
        return rm.page_of_accounts(session, role, within(division_code), page, page_size)


def find_enterprises(ctx: Ctx, query: dict[str, Any]) -> dict[str, Any]:
    """Registered enterprises by credit code (exact), by part of the name, or by county; province and
    auditors only (docs/rpc.md says why not the bureaus)."""
    with ctx.store.reading() as session:
        return rm.page_of_enterprises(session, query["uscc"], query["name"], within(query["division_code"]),
                                      query["page"], query["page_size"])
