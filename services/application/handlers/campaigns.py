"""Campaigns (评选活动) and the public reference data portals fill the form with."""
from __future__ import annotations

from typing import Any

from shared import refdata
from shared.definition import Change, Context
from shared.errors import Conflict, NotFound

from services.application.domain import Campaign, campaign_id_for
from services.application.store import ApplicationStore

Ctx = Context[ApplicationStore]
REFERENCE = ("divisions", "industries", "taxonomy", "contacts")


def reference_data(ctx: Ctx, name: str) -> dict[str, Any]:
    if name not in REFERENCE:
        raise NotFound({"name": name, "available": list(REFERENCE)})
    return refdata.raw(name)


def open_campaign(ctx: Ctx, settings: dict[str, Any]) -> Change:
    if ctx.store.find(Campaign, campaign_id_for(settings["code"])) is not None:
        raise Conflict({"code": settings["code"]}, zh="该评选活动已开启", en="This campaign is already open")
    campaign = Campaign.open(ctx.now, ctx.actor(), settings)
    return Change([campaign], answer={"campaign_id": str(campaign.id), "code": campaign.code})


def get_campaign(ctx: Ctx, code: str) -> dict[str, Any]:
    campaign = ctx.store.campaign(code)
    return {"campaign_id": str(campaign.id), "code": campaign.code, "settings": campaign.settings,
            "opened_at": campaign.created_on.isoformat()}
