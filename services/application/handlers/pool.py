"""The provider supply pool (供给资源池): who may be named as a provider, and when."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.contract import Envelope, actor_of
from shared.definition import Change, Context
from shared.errors import NotFound

from services.application import projections as rm
from services.application.domain import SupplyPool
from services.application.store import ApplicationStore

Ctx = Context[ApplicationStore]


def add_provider(ctx: Ctx, data: dict[str, Any]) -> Change:
    pool = ctx.store.pool() or SupplyPool.establish(ctx.now, ctx.actor())
    pool.add(ctx.now, ctx.actor(), data["provider_id"], data["name"], data["uscc"], data.get("reason", ""))
    return Change([pool], lambda s: rm.project_provider(s, data["provider_id"], True))


def remove_provider(ctx: Ctx, data: dict[str, Any]) -> Change:
    pool = ctx.store.pool()
    if pool is None:
        raise NotFound({"provider_id": data["provider_id"]})
    pool.remove(ctx.now, ctx.actor(), data["provider_id"], data["reason"], "province")
    return Change([pool], lambda s: rm.project_provider(s, data["provider_id"], False))


def supply_pool(ctx: Ctx, query: dict[str, Any]) -> dict[str, Any]:
    """Anyone may see the pool (the notice publishes it); `as_of` answers who was in it then."""
    pool = ctx.store.pool()
    at = query["as_of"] or ctx.now
    if pool is None:
        return {"as_of": at.isoformat(), "members": [], "history": []}
    return {"as_of": at.isoformat(), "members": pool.members_at(at), "history": pool.periods}


def on_provider_disqualified(store: ApplicationStore, envelope: Envelope) -> Change | None:
    """audit.provider_disqualified: fraud by a provider takes it out of the pool."""
    data, when = envelope["data"], datetime.fromisoformat(envelope["occurred_at"])
    pool = store.pool()
    if pool is None or data["provider_id"] not in pool.members:
        return None
    pool.remove(when, actor_of(envelope), data["provider_id"], data["reason"], "audit", envelope["event_id"])
    return Change([pool], lambda s: rm.project_provider(s, data["provider_id"], False))
