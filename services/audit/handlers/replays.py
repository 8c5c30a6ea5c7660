"""Replay of one application's history from the ledger, across every service, with its state as of
any instant or position (docs/audit.md)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from shared.definition import Context
from shared.errors import NotFound

from services.audit import ledger, replay
from services.audit import projections as rm
from services.audit.store import AuditStore

Ctx = Context[AuditStore]


def history_entries(store: AuditStore, application_id: str) -> list[dict[str, Any]]:
    """Every entry naming the application, and every entry caused by one of those (a ban recorded on
    an audit decision, a pool removal, a revoked award's reclaim), to the end of the chain of causes."""
    t, index = rm.ledger, rm.ledger_applications
    with store.reading() as session:
        found = {r["seq"]: dict(r) for r in session.execute(select(t).where(t.c.seq.in_(
            select(index.c.seq).where(index.c.application_id == application_id)))).mappings()}
        direct = set(found)
        causes = {r["event_id"] for r in found.values()}
        while causes:
            caused = [dict(r) for r in session.execute(select(t).where(t.c.refers_to.in_(sorted(causes)))).mappings()
                      if r["seq"] not in found]
            found.update((r["seq"], r) for r in caused)
            causes = {r["event_id"] for r in caused}
    by_cause = set(found) - direct
    return [ledger.public_entry(r) | {"listed": r["seq"] not in by_cause and r["application_id"] != application_id}
            for r in sorted(found.values(), key=lambda r: r["seq"])]


def replay_application(ctx: Ctx, application_id: str, as_of: dict[str, Any]) -> dict[str, Any]:
    entries = history_entries(ctx.store, application_id)
    if not entries:
        raise NotFound({"application_id": application_id})
    with ctx.store.reading() as session:
        size = ledger.size(session)
    answer = replay.replay(entries, as_of, size)
    if "as_of" in answer:
        answer["as_of"]["point"] = {k: v.isoformat() if isinstance(v, datetime) else v
                                    for k, v in as_of.items() if v is not None}
    return {"application_id": application_id, **answer}
