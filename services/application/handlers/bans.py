"""Bans (三年内不得申报): recorded by the province or decided by audit, applied at submission."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from shared.clock import ban_end
from shared.contract import Envelope, actor_of
from shared.definition import Change, Context
from shared.entity import stable_id
from shared.errors import InvalidInput

from services.application import projections as rm
from services.application.domain import Ban
from services.application.store import ApplicationStore

Ctx = Context[ApplicationStore]


def ban_years_at(store: ApplicationStore, at: datetime) -> tuple[int, str] | None:
    """A ban belongs to no one campaign: without an end of its own it lasts the `ban_years` of the
    campaign opened last when the ban is decided (docs/reference-data.md). (years, campaign code), or
    None before any campaign was opened."""
    campaign = store.latest_campaign(at)
    return None if campaign is None else (campaign.terms.ban_years, campaign.code)


def record_ban(ctx: Ctx, data: dict[str, Any]) -> Change:
    starts: date = data["starts_on"]
    ends: date | None = data.get("ends_on")
    campaign_code = None
    if ends is None:
        years = ban_years_at(ctx.store, ctx.now)
        if years is None:
            raise InvalidInput.fields({"ends_on": ["no campaign has been opened, so no ban_years applies: give the end"
                                                   " / 尚未开启评选活动（无禁止申报年限），须填写结束日期"]})
        ends, campaign_code = ban_end(starts, years[0]), years[1]
    ban = Ban.record(uuid4(), ctx.now, ctx.actor(), data["uscc"], data["reason"], starts, ends, "province",
                     data.get("source_ref"))
    return Change([ban], lambda s: rm.project_ban(s, ban),
                  {"ban_id": str(ban.id), "ends_on": ban.ends_on, "ban_years_of": campaign_code})


def lift_ban(ctx: Ctx, data: dict[str, Any]) -> Change:
    ban = ctx.store.get(Ban, UUID(str(data["ban_id"])))
    ban.lift(ctx.now, ctx.actor(), data["reason"])
    return Change([ban], lambda s: rm.project_ban(s, ban))


def bans_of(ctx: Ctx, uscc: str) -> list[dict[str, Any]]:
    with ctx.store.reading() as session:
        return rm.bans_of(session, uscc.upper())


def on_enterprise_banned(store: ApplicationStore, envelope: Envelope) -> Change | None:
    """audit.enterprise_banned: the same audit event bans once."""
    data, when = envelope["data"], datetime.fromisoformat(envelope["occurred_at"])
    ban_id = stable_id("ban", envelope["event_id"])
    if store.find(Ban, ban_id) is not None:
        return None
    starts = date.fromisoformat(data["starts_on"])
    if data.get("ends_on"):
        ends = date.fromisoformat(data["ends_on"])
    else:
        years = ban_years_at(store, when)
        if years is None:
            raise LookupError("no campaign opened yet: no ban_years for a ban without an end")  # retried, then parked
        ends = ban_end(starts, years[0])
    ban = Ban.record(ban_id, when, actor_of(envelope), data["uscc"], data["reason"], starts, ends, "audit", envelope["event_id"])
    return Change([ban], lambda s: rm.project_ban(s, ban))
