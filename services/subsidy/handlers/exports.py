"""The payment roster and per-city totals as files (Excel by openpyxl, or CSV), stamped with the
subsidy log position they were cut at."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.definition import Context
from shared.errors import NotFound
from shared.exports import exported

from services.subsidy import projections as rm
from services.subsidy.store import SubsidyStore

Ctx = Context[SubsidyStore]
TITLES = {"payments": "补助资金拨付清单 Payment roster", "city_totals": "各市补助汇总 Totals per city"}


def rows_of(cases: list[dict[str, Any]], which: str) -> tuple[list[str], list[list[Any]]]:
    if which == "payments":
        header = ["application_id", "enterprise_name", "uscc", "unit_code", "county_code", "status", "calculated",
                  "approved", "paid", "paid_on", "voucher_reference", "reclaim", "recovered"]
        return header, [[c[k] or "" for k in header] for c in cases]
    totals: dict[str, dict[str, Any]] = {}
    for c in cases:
        t = totals.setdefault(c["unit_code"], {"cases": 0, "approved": Decimal(0), "paid": Decimal(0), "reclaim": Decimal(0)})
        t["cases"] += 1
        for k in ("approved", "paid", "reclaim"):
            t[k] += Decimal(c[k] or 0)
    header = ["unit_code", "cases", "approved", "paid", "reclaim"]
    return header, [[unit, t["cases"], str(t["approved"]), str(t["paid"]), str(t["reclaim"])]
                    for unit, t in sorted(totals.items())]


def export_subsidy_list(ctx: Ctx, query: dict[str, Any]) -> dict[str, Any]:
    campaign, which, form = query["campaign_code"], query["list"], query["format"]
    position = ctx.store.max_position()
    with ctx.store.reading() as session:
        if rm.campaign_settings(session, campaign) is None:
            raise NotFound({"campaign_code": campaign}, zh="评选活动不存在", en="No such campaign")
        cases = rm.case_rows(session, rm.cases.c.campaign_code == campaign)
    header, rows = rows_of(cases, which)
    stamp = f"{TITLES[which]} · campaign {campaign} · subsidy position {position} · {ctx.now.isoformat()}"
    return exported(f"{campaign}-{which}-p{position}", stamp, header, rows, form, which, position)
