"""The ledger's RPCs: its head and checkpoints, entries by source, application, actor or type,
inclusion and consistency proofs, the full check (verify) and the reconciliation with every source's
own log (docs/audit.md)."""
from __future__ import annotations

import json
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import select

from shared.definition import Context
from shared.errors import InvalidInput, NotFound, ServiceError

from services.audit import ledger, merkle, verify
from services.audit import projections as rm
from services.audit.domain import Checkpoint
from services.audit.store import AuditStore

Ctx = Context[AuditStore]
RECONCILE_PAGE = 500
MAX_LISTED = 1000  # per kind of difference and source: the first ones locate the damage


def ledger_head(ctx: Ctx) -> dict[str, Any]:
    with ctx.store.reading() as session:
        size = ledger.size(session)
        head = ledger.entry_row(session, seq=size) if size else None
        latest = ledger.latest_checkpoint(session)
        return {"tree_size": size, "root": ledger.root_at(session, size).hex(),
                "chain_head": head["chain_hash"] if head else merkle.GENESIS.hex(),
                "latest_checkpoint": _checkpoint(latest) if latest else None,
                "checkpoint_interval": ctx.store.checkpoint_interval}


def _checkpoint(row: dict[str, Any]) -> dict[str, Any]:
    return {"tree_size": row["tree_size"], "root": row["root"], "chain_head": row["chain_head"],
            "recorded_at": row["recorded_at"]}


def list_checkpoints(ctx: Ctx, after_size: int, limit: int) -> list[dict[str, Any]]:
    with ctx.store.reading() as session:
        rows = session.execute(select(rm.checkpoints).where(rm.checkpoints.c.tree_size > after_size)
                               .order_by(rm.checkpoints.c.tree_size).limit(limit)).mappings()
        return [_checkpoint(dict(r)) for r in rows]


def ledger_entries(ctx: Ctx, query: dict[str, Any]) -> dict[str, Any]:
    t = rm.ledger
    stmt = select(t).where(t.c.seq > query["after"]).order_by(t.c.seq).limit(query["limit"])
    if query["application_id"]:
        stmt = stmt.where(t.c.seq.in_(select(rm.ledger_applications.c.seq).where(
            rm.ledger_applications.c.application_id == query["application_id"])))
    for column in ("source", "actor_id", "type"):
        if query[column]:
            stmt = stmt.where(t.c[column] == query[column])
    with ctx.store.reading() as session:
        entries = [ledger.public_entry(dict(r)) for r in session.execute(stmt).mappings()]
        size = ledger.size(session)
    return {"entries": entries, "tree_size": size}


def _tree_size(session: Any, asked: int | None, at_least: int = 1) -> int:
    size = ledger.size(session)
    chosen = size if asked is None else asked
    if chosen > size or chosen < at_least:
        raise InvalidInput.fields({"tree_size": [f"between {at_least} and {size}, the ledger's size "
                                                 f"/ 须在{at_least}与账本当前条目数{size}之间"]})
    return chosen


def inclusion_proof(ctx: Ctx, query: dict[str, Any]) -> dict[str, Any]:
    """That an entry is in the ledger under a root: verify with merkle.verify_inclusion(leaf_hash,
    seq - 1, tree_size, audit_path, root), or verify.py."""
    with ctx.store.reading() as session:
        row = ledger.entry_row(session, seq=query["seq"], event_id=query["event_id"])
        if row is None:
            raise NotFound({"entry": "not in the ledger (yet)"}, zh="账本中没有该事件（或尚未记入）",
                           en="The event is not in the ledger (yet)")
        size = _tree_size(session, query["tree_size"], at_least=row["seq"])
        tree = ledger.stored_tree(session)
        path = merkle.inclusion_path(tree, row["seq"] - 1, size)
        return {"kind": "inclusion", "seq": row["seq"], "leaf_index": row["seq"] - 1, "tree_size": size,
                "event_id": row["event_id"], "canonical": row["canonical"], "leaf_hash": row["leaf_hash"],
                "root": merkle.root(tree, size).hex(), "audit_path": [p.hex() for p in path],
                "checkpoint": _checkpoint_at(session, size)}


def consistency_proof(ctx: Ctx, first: int, second: int | None) -> dict[str, Any]:
    """That the tree of `second` entries extends the tree of `first`: merkle.verify_consistency."""
    with ctx.store.reading() as session:
        second = _tree_size(session, second, at_least=first)
        tree = ledger.stored_tree(session)
        return {"kind": "consistency", "first": first, "second": second,
                "first_root": merkle.root(tree, first).hex(), "second_root": merkle.root(tree, second).hex(),
                "proof": [p.hex() for p in merkle.consistency_path(tree, first, second)],
                "first_checkpoint": _checkpoint_at(session, first), "second_checkpoint": _checkpoint_at(session, second)}


def _checkpoint_at(session: Any, size: int) -> dict[str, Any] | None:
    row = session.execute(select(rm.checkpoints).where(rm.checkpoints.c.tree_size == size)).mappings().first()
    return _checkpoint(dict(row)) if row else None


def verify_ledger(ctx: Ctx) -> dict[str, Any]:
    """The ledger checked again from its bytes against the checkpoints as published (the
    `audit.checkpoint_recorded` events of the audit service's own log, which subscribers hold too),
    and the checkpoint table against those events."""
    published = published_checkpoints(ctx.store)
    with ctx.store.reading() as session:
        report = ledger.check(session, published)
        rows = {r["tree_size"]: r for r in ledger.stored_checkpoints(session)}
    events = {c["tree_size"]: c for c in published}
    for size in sorted(set(rows) | set(events)):
        event, row = events.get(size), rows.get(size)
        if event is None or row is None or (row["root"], row["chain_head"]) != (event["root"], event["chain_head"]):
            report["problems"].append({"seq": size, "problem": "checkpoint_event",
                                       "detail": "the checkpoint table and the published checkpoint events differ"})
    return verify.settled(report)


def published_checkpoints(store: AuditStore) -> list[dict[str, Any]]:
    """The checkpoints of the audit service's own log, oldest first."""
    topic, found, position = get_topic(Checkpoint.Recorded), [], 0
    while True:
        page = store.notification_log.select(start=position + 1, limit=store.log_section_size, topics=[topic])
        for notification in page:
            event: Any = store.mapper.to_domain_event(notification)
            found.append({"tree_size": event.tree_size, "root": event.root, "chain_head": event.chain_head})
        if len(page) < store.log_section_size:
            return found
        position = page[-1].id


def reconcile(ctx: Ctx, source: str | None) -> dict[str, Any]:
    """Each source's log (`get_notifications`) against the ledger, up to the position the audit
    service has followed: events missing from the ledger, missing from the source, different, or
    that the source can no longer read."""
    followers = ctx.runtime.followers
    if source is not None and source not in followers:
        raise NotFound({"source": source, "followed": sorted(followers)})
    report = {name: _reconcile_one(ctx, name) for name in sorted(followers) if source in (None, name)}
    return {"ok": all(r["ok"] for r in report.values()), "sources": report}


def _reconcile_one(ctx: Ctx, source: str) -> dict[str, Any]:
    """The source's log and the ledger's entries of that source, walked together a page of positions
    at a time (memory stays bounded however long the logs are)."""
    follower = ctx.runtime.followers[source]
    tracked = follower.tracked()
    found: dict[str, list[Any]] = {"missing_from_ledger": [], "missing_from_source": [], "different": [],
                                   "unreadable": [], "reshaped": [], "untracked": []}
    after, head, entries = 0, None, 0
    while after < tracked:
        asked = min(RECONCILE_PAGE, tracked - after)
        bad: dict[str, Any] | None = None
        try:
            page = follower.read_upstream(after, asked)
            items, head = page["notifications"], page.get("max_position", head)
            upto = items[-1]["position"] if len(items) == asked else tracked
        except ServiceError as e:
            position = e.details.get("position") if e.payload.get("code") == "integrity_failure" else None
            if not isinstance(position, int) or position <= after:
                return {"ok": False, "error": e.to_dict(), "tracked": tracked}
            items = _readable_before(follower, after, position)
            upto, bad = position, {"position": position, "reason": e.details.get("reason")}
        upto = min(upto, tracked)
        with ctx.store.reading() as session:
            rows = {r["position"]: r for r in ledger.rows_between(session, source, after, upto)}
        entries += len(rows)
        if bad is not None:
            row = rows.pop(bad["position"], None)
            found["unreadable"].append({**bad, "ledger_seq": row["seq"] if row else None})
        _compare([i for i in items if i["position"] <= upto], rows, found)
        after = upto
    # Entries past the position followed were not recorded by following (an entry and its tracked
    # position commit together): read them first, then the position, so nothing recorded meanwhile counts.
    with ctx.store.reading() as session:
        beyond = ledger.rows_between(session, source, tracked, 2**63 - 1)
    now_tracked = follower.tracked()
    found["untracked"] = [{"position": r["position"], "ledger_seq": r["seq"], "type": r["type"]}
                          for r in beyond if r["position"] > now_tracked]
    for kind in found:
        del found[kind][MAX_LISTED:]
    damaged = any(found[kind] for kind in found if kind != "reshaped")  # a newer schema is not damage
    return {"ok": not damaged, "tracked": tracked, "source_head": head, "ledger_entries": entries, **found}


def _readable_before(follower: Any, after: int, bad: int) -> list[dict[str, Any]]:
    """The source's events between `after` and its unreadable record at `bad`, one at a time (a page
    would reach the bad record again wherever a position in between is missing)."""
    items: list[dict[str, Any]] = []
    while True:
        try:
            page = follower.read_upstream(items[-1]["position"] if items else after, 1)["notifications"]
        except ServiceError:
            return items  # the next one is the unreadable record
        if not page or page[0]["position"] >= bad:
            return items
        items.append(page[0])


def _compare(items: list[dict[str, Any]], rows: dict[int, dict[str, Any]], found: dict[str, list[Any]]) -> None:
    """One page of the source against the ledger's rows of the same positions (consumed as matched)."""
    for item in items:
        row = rows.pop(item["position"], None)
        if row is None:
            found["missing_from_ledger"].append(item["position"])
            continue
        mine = json.loads(row["canonical"])["envelope"]
        if merkle.canonical(mine) != merkle.canonical(item):
            changed = sorted(k for k in set(mine) | set(item) if mine.get(k) != item.get(k))
            where = {"position": item["position"], "ledger_seq": row["seq"], "type": row["type"]}
            if "schema_version" in changed and set(changed) <= {"schema_version", "data"} \
                    and item.get("schema_version", 0) > mine.get("schema_version", 0):
                # the source now renders its old event in a newer documented shape (docs/events.md, Versioning)
                found["reshaped"].append({**where, "from_version": mine["schema_version"],
                                          "to_version": item["schema_version"]})
            else:
                found["different"].append({**where, "fields": changed})
    found["missing_from_source"].extend({"position": p, "ledger_seq": r["seq"], "type": r["type"]}
                                        for p, r in sorted(rows.items()))  # what no item of the page matched
