"""The ledger as stored: appending an entry (its chain value, its leaf and the tree nodes it
completes), reading entries, roots and proofs from the stored nodes, and checking the whole of it
again from the entries' canonical bytes (docs/audit.md).

An entry's canonical bytes are `merkle.canonical({"seq", "recorded_at", "envelope"})`: the envelope
exactly as the source's `get_notifications` answered it."""
from __future__ import annotations

import json
import time
from typing import Any, Iterator

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from services.audit import merkle, verify
from services.audit.replay import cause_of
from services.audit.projections import checkpoints, ledger, ledger_applications, nodes

PAGE = 2000


# Keys under which events list the applications they concern, besides `application_id`: a draw's
# `applications` and `assignments` (keyed by application), a list's `entries`, a batch's `application_ids`.
LISTS_OF_APPLICATIONS = ("application_ids", "applications", "entries", "assignments")


def _looks_like_an_id(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 36 and value.count("-") == 4


def named_applications(envelope: dict[str, Any]) -> set[str]:
    """The applications an event concerns: its envelope's, any `application_id` inside its data, and
    the ids listed under LISTS_OF_APPLICATIONS, as in a draw, a ranking or a list that names many."""
    found: set[str] = set()
    if envelope.get("application_id"):
        found.add(str(envelope["application_id"]))

    def scan(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "application_id" and _looks_like_an_id(item):
                    found.add(item)
                elif key in LISTS_OF_APPLICATIONS and isinstance(item, (list, dict)):
                    found.update(i for i in item if _looks_like_an_id(i))  # a list's items, or a mapping's keys
                    scan(item)
                else:
                    scan(item)
        elif isinstance(value, list):
            for item in value:
                scan(item)

    scan(envelope.get("data"))
    return found


def size(session: Session) -> int:
    return int(session.execute(select(func.coalesce(func.max(ledger.c.seq), 0))).scalar_one())


# Statements built once: constructing a SQLAlchemy statement costs more than running it here.
LAST_ENTRY = select(ledger.c.seq, ledger.c.chain_hash).order_by(ledger.c.seq.desc()).limit(1)
NODE = select(nodes.c.hash).where(nodes.c.level == bindparam("level"), nodes.c.idx == bindparam("idx"))
ADD_ENTRY, ADD_NODE, ADD_INDEX = insert(ledger), insert(nodes), insert(ledger_applications)


def append(session: Session, envelope: dict[str, Any], recorded_at: str) -> tuple[int, str]:
    """Add one entry after the last; returns its seq and chain value (hex). Appends are serialised by the store's write
    (SQLite's write lock; on PostgreSQL the event table lock every recording takes), and the seq's
    primary key refuses a second entry at the same place: its transaction fails and is tried again."""
    last = session.execute(LAST_ENTRY).first()
    seq = (int(last.seq) if last else 0) + 1
    previous = bytes.fromhex(last.chain_hash) if last else merkle.GENESIS
    body = merkle.canonical({"seq": seq, "recorded_at": recorded_at, "envelope": envelope})
    leaf = merkle.leaf_hash(body)
    link = merkle.chain(previous, body).hex()
    session.execute(ADD_ENTRY, {
        "seq": seq, "source": envelope["source"], "position": envelope["position"], "event_id": envelope["event_id"],
        "type": envelope["type"], "occurred_at": envelope["occurred_at"], "application_id": envelope.get("application_id"),
        "actor_id": str(envelope["actor"]["id"])[:64], "actor_role": str(envelope["actor"]["role"])[:16],
        "refers_to": cause_of(envelope), "canonical": body.decode("utf-8"), "leaf_hash": leaf.hex(),
        "chain_hash": link})
    named = sorted(named_applications(envelope))
    if named:
        session.execute(ADD_INDEX, [{"application_id": a, "seq": seq} for a in named])
    # The nodes this leaf completes: while it is a right child, its parent is now whole.
    index, level, value = seq - 1, 0, leaf
    added = [{"level": 0, "idx": index, "hash": value}]
    while index % 2 == 1:
        left = session.execute(NODE, {"level": level, "idx": index - 1}).scalar_one()
        value, index, level = merkle.node_hash(left, value), index // 2, level + 1
        added.append({"level": level, "idx": index, "hash": value})
    session.execute(ADD_NODE, added)
    return seq, link


def stored_tree(session: Session) -> merkle.Subtree:
    """Subtree hashes from the stored nodes: a root or a proof reads O(log n) of them."""

    def subtree(start: int, end: int) -> bytes:
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            found: bytes = session.execute(select(nodes.c.hash).where(
                nodes.c.level == width.bit_length() - 1, nodes.c.idx == start // width)).scalar_one()
            return bytes(found)
        k = merkle.split(width)
        return merkle.node_hash(subtree(start, start + k), subtree(start + k, end))

    return subtree


def root_at(session: Session, tree_size: int) -> bytes:
    return merkle.root(stored_tree(session), tree_size)


def entry_row(session: Session, *, seq: int | None = None, event_id: str | None = None) -> dict[str, Any] | None:
    query = select(ledger).where(ledger.c.seq == seq) if seq is not None else select(ledger).where(
        ledger.c.event_id == event_id)
    row = session.execute(query).mappings().first()
    return dict(row) if row else None


def public_entry(row: dict[str, Any]) -> dict[str, Any]:
    """An entry as RPCs answer it: its canonical text (the bytes hashed), what they say, its hashes."""
    body = json.loads(row["canonical"])
    return {"seq": row["seq"], "source": row["source"], "position": row["position"], "event_id": row["event_id"],
            "type": row["type"], "recorded_at": body.get("recorded_at"), "envelope": body.get("envelope"),
            "canonical": row["canonical"], "leaf_hash": row["leaf_hash"], "chain_hash": row["chain_hash"]}


def rows(session: Session, after: int = 0, source: str | None = None) -> Iterator[dict[str, Any]]:
    """Every entry after `after`, in seq order, read a page at a time."""
    while True:
        query = select(ledger).where(ledger.c.seq > after).order_by(ledger.c.seq).limit(PAGE)
        if source is not None:
            query = query.where(ledger.c.source == source)
        page = [dict(r) for r in session.execute(query).mappings()]
        yield from page
        time.sleep(0)  # under eventlet a whole-ledger check lets the service's other work run between pages
        if len(page) < PAGE:
            return
        after = page[-1]["seq"]


def rows_between(session: Session, source: str, after: int, upto: int) -> list[dict[str, Any]]:
    """The ledger's entries of one source with positions in (after, upto], by position."""
    query = select(ledger).where(ledger.c.source == source, ledger.c.position > after, ledger.c.position <= upto)
    return [dict(r) for r in session.execute(query.order_by(ledger.c.position)).mappings()]


def stored_checkpoints(session: Session) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(select(checkpoints).order_by(checkpoints.c.tree_size)).mappings()]


def latest_checkpoint(session: Session) -> dict[str, Any] | None:
    row = session.execute(select(checkpoints).order_by(checkpoints.c.tree_size.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def check(session: Session, checkpoints: list[dict[str, Any]]) -> dict[str, Any]:
    """The stored ledger checked again from its entries' canonical bytes (verify.check_entries: the
    same code an outsider runs on an export) against `checkpoints`, and every stored tree node against
    the recomputed tree. Names the first entry that does not match."""
    report = verify.check_entries(rows(session), checkpoints)
    leaves: list[bytes] = report.pop("_leaves")
    tree = merkle.in_memory(leaves)
    for node in session.execute(select(nodes).order_by(nodes.c.level, nodes.c.idx)).mappings():
        start, width = node["idx"] << node["level"], 1 << node["level"]
        if start + width > len(leaves) or tree(start, start + width) != bytes(node["hash"]):
            # named by the last entry it covers: a changed entry inside it is named first
            report["problems"].append({"seq": start + width, "problem": "tree_node",
                                       "detail": f"stored node over entries {start + 1}-{start + width} differs"})
    return verify.settled(report)
