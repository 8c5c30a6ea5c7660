"""Campaigns (评选活动) and the public reference data portals fill the form with."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from shared import refdata
from shared.definition import Change, Context
from shared.errors import Conflict, DeadlinePassed, InvalidState, NotFound

from services.application import projections as rm
from services.application.domain import Campaign, CampaignTerms, campaign_id_for
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
    return Change([campaign], lambda s: rm.project_campaign(s, campaign),
                  {"campaign_id": str(campaign.id), "code": campaign.code})


def get_campaign(ctx: Ctx, code: str) -> dict[str, Any]:
    campaign = ctx.store.campaign(code)
    return {"campaign_id": str(campaign.id), "code": campaign.code, "settings": campaign.settings,
            "opened_at": campaign.created_on.isoformat()}


KEY_DATES = ("opens_on", "submission_deadline", "provider_deadline", "county_deadline", "city_deadline",
             "system_close", "reference_date")


def phase(terms: CampaignTerms, now: datetime) -> str:
    """Where a campaign is now, by the same checks the commands make: `upcoming`, `submissions`
    (applications accepted), `review` (past the submission deadline, before the system close: the
    review steps and resubmissions after a return go on), `closed`."""
    try:
        terms.check_can_submit(now)
        return "submissions"
    except InvalidState:
        return "upcoming"
    except DeadlinePassed:
        pass
    try:
        terms.check_open(now)
        return "review"
    except DeadlinePassed:
        return "closed"


def list_campaigns(ctx: Ctx) -> list[dict[str, Any]]:
    """Every campaign, the latest first: its code, name, year, key dates and where it is now."""
    with ctx.store.reading() as session:
        rows = rm.all_campaigns(session)
    answer = []
    for row in rows:
        settings = row["settings"]
        now_phase = phase(CampaignTerms.from_settings(settings), ctx.now)
        answer.append({"campaign_id": row["campaign_id"], "code": row["code"], "name": row["name"],
                       "document": settings.get("document", ""), "year": int(row["opens_on"][:4]),
                       **{key: settings[key] for key in KEY_DATES}, "phase": now_phase,
                       "open": now_phase == "submissions", "opened_at": row["opened_at"]})
    return answer
