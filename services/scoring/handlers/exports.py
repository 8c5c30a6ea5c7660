"""The lists as files (shared/exports.py), each stamped with the scoring log position it was cut at."""
from __future__ import annotations

from typing import Any

from shared.definition import Context
from shared.exports import exported
from shared.errors import NotFound

from services.scoring.handlers.selection import announced_list, get_ranking, listing, selection_of
from services.scoring.store import ScoringStore

Ctx = Context[ScoringStore]
TITLES = {"ranking": "专家评审排名 Experts' ranking", "adopted": "研究确定名单 Adopted list",
          "announced": "上云标杆企业名单 Announced list"}


def rows_of(ctx: Ctx, campaign_code: str, which: str) -> tuple[list[str], list[list[Any]]]:
    if which == "ranking":
        ranking = get_ranking(ctx, campaign_code)
        header = ["rank", "application_id", "enterprise_name", "unit_code", "score", "tie_break_score", "normalised",
                  "sheets", "outliers", "listed"]
        return header, [[row["rank"], row["application_id"], row["enterprise_name"], row["unit_code"], row["score"],
                         row["tie_break_score"], row["normalised"], row["sheets"], " ".join(row["outliers"]),
                         "yes" if row["listed"] else "no"] for row in ranking["rows"]]
    header = ["no", "application_id", "enterprise_name", "uscc", "unit_code", "county_code"]
    if which == "adopted":
        entries = listing(ctx, campaign_code, selection_of(ctx, campaign_code).entries)
    else:
        entries = announced_list(ctx, campaign_code)["entries"]
        header.append("revoked")
    return header, [[i, e["application_id"], e["enterprise_name"], e["uscc"], e["unit_code"], e["county_code"],
                     *([e["revoked"] or ""] if which == "announced" else [])] for i, e in enumerate(entries, start=1)]


def export_list(ctx: Ctx, query: dict[str, Any]) -> dict[str, Any]:
    campaign, which, form = query["campaign_code"], query["list"], query["format"]
    position = ctx.store.max_position()
    if position == 0:
        raise NotFound({"campaign_code": campaign})
    header, rows = rows_of(ctx, campaign, which)
    stamp = f"{TITLES[which]} · campaign {campaign} · scoring position {position} · {ctx.now.isoformat()}"
    return exported(f"{campaign}-{which}-p{position}", stamp, header, rows, form, which, position)
