"""A city's own order of its recommended applications (市级推荐排序)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select

from shared.definition import Change, Context
from shared.errors import InvalidInput

from services.review import projections as rm
from services.review.domain import CityRanking, Status, ranking_id_for
from services.review.store import ReviewStore

Ctx = Context[ReviewStore]


def rank_recommendations(ctx: Ctx, data: dict[str, Any]) -> Change:
    unit, campaign = ctx.me.division_code or "", data["campaign_code"]
    with ctx.store.reading() as session:
        recommended = {r[0] for r in session.execute(select(rm.cases.c.application_id).where(and_(
            rm.cases.c.unit_code == unit, rm.cases.c.campaign_code == campaign,
            rm.cases.c.status == Status.RECOMMENDED)))}
    given = set(data["application_ids"])
    if given != recommended:
        raise InvalidInput.fields({"application_ids": [
            f"rank exactly this city's recommended applications: missing {sorted(recommended - given)}, "
            f"not recommended here {sorted(given - recommended)} / 须且仅须包含本市推荐的全部申报"]})
    ranking = ctx.store.find(CityRanking, ranking_id_for(campaign, unit))
    if ranking is None:
        ranking = CityRanking.set(ctx.now, ctx.actor(), campaign, unit, data["application_ids"])
    else:
        ranking.change(ctx.now, ctx.actor(), data["application_ids"])
    return Change([ranking], answer={"campaign_code": campaign, "unit_code": unit, "application_ids": data["application_ids"]})
