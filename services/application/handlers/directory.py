"""The lookups portals and the province need besides the applications: the enterprise directory
(by credit code or name) and the account list, both paged."""
from __future__ import annotations

from typing import Any

from shared import refdata
from shared.definition import Context

from services.application import projections as rm
from services.application.store import ApplicationStore

Ctx = Context[ApplicationStore]


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
