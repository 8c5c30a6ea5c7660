"""Bans (三年内不得申报): recorded by the province or decided by audit, applied at submission."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from shared.contract import Envelope, actor_of
from shared.definition import Change, Context
from shared.entity import stable_id

from services.application import projections as rm
from services.application.domain import Ban
from services.application.store import ApplicationStore

Ctx = Context[ApplicationStore]


def ban_end(starts: date, years: int = 3) -> date:
    """三年内: three years from the start, the last day included."""
    try:
        return starts.replace(year=starts.year + years) - timedelta(days=1)
    except ValueError:  # 29 February
        return starts.replace(year=starts.year + years, day=28)


def record_ban(ctx: Ctx, data: dict[str, Any]) -> Change:
    starts: date = data["starts_on"]
    ends: date = data.get("ends_on") or ban_end(starts)
    ban = Ban.record(uuid4(), ctx.now, ctx.actor(), data["uscc"], data["reason"], starts, ends, "province",
                     data.get("source_ref"))
    return Change([ban], lambda s: rm.project_ban(s, ban), {"ban_id": str(ban.id), "ends_on": ban.ends_on})


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
    ends = date.fromisoformat(data["ends_on"]) if data.get("ends_on") else ban_end(starts)
    ban = Ban.record(ban_id, when, actor_of(envelope), data["uscc"], data["reason"], starts, ends, "audit", envelope["event_id"])
    return Change([ban], lambda s: rm.project_ban(s, ban))
