"""An application's history read back from the ledger (docs/audit.md, "Reading a replay"): the
timeline across every service, and the state as it stood at an instant or a position. Pure: it reads
ledger entries, never a service's store, so what it shows is what the ledger proves."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

RULE_FIELDS = ("rule", "rule_set_version", "rule_version")


def _when(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["envelope"]["occurred_at"])


def ordered(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """By the instant each event happened; events of one instant in ledger order, except that an event
    comes after the event it names as its cause (the ledger may receive the effect first: each source
    is followed on its own)."""
    by_id = {e["event_id"]: e for e in entries}
    rank: dict[int, float] = {}

    def order(entry: dict[str, Any], depth: int = 0) -> float:
        if entry["seq"] not in rank:
            cause = by_id.get(cause_of(entry["envelope"]) or "")
            after = order(cause, depth + 1) + 0.5 if cause is not None and depth < 50 else 0.0
            rank[entry["seq"]] = max(float(entry["seq"]), after)
        return rank[entry["seq"]]

    return sorted(entries, key=lambda e: (_when(e), order(e)))


def cause_of(envelope: dict[str, Any]) -> str | None:
    """The event this one names as its cause: `source_ref`, or `source.event_id` (a ban recorded on an
    audit decision, a pool removal, a revoked award, a reclaim)."""
    data = envelope.get("data") or {}
    ref = data.get("source_ref")
    if isinstance(ref, str) and ref:
        return ref[:36]
    source = data.get("source")
    if isinstance(source, dict) and isinstance(source.get("event_id"), str):
        return str(source["event_id"])[:36]
    return None


def step(entry: dict[str, Any]) -> dict[str, Any]:
    """One line of the timeline: who did what, when, why, under which rule, and where it is recorded.
    An event that only lists the application among others (a draw, a ranking, a list: `listed`) is
    shown without its data, which is about all of them (ledger_entries or an inclusion proof gives it)."""
    envelope = entry["envelope"]
    data = envelope.get("data") or {}
    listed = bool(entry.get("listed"))
    reason = data.get("reason") or data.get("reasons") or None
    rule = next((data[f] for f in RULE_FIELDS if isinstance(data.get(f), str)), None)
    return {"at": envelope["occurred_at"], "source": envelope["source"], "position": envelope["position"],
            "type": envelope["type"], "actor": envelope["actor"], "reason": reason, "rule": rule,
            "event_id": envelope["event_id"], "ledger_seq": entry["seq"], "leaf_hash": entry["leaf_hash"],
            "chain_hash": entry["chain_hash"], "listed": listed, "data": None if listed else data}


def cutoff(entries: Sequence[dict[str, Any]], as_of: dict[str, Any],
           ledger_size: int | None = None) -> tuple[Any, ...] | None:
    """The point a state is read at, as a filter key: `at` (an instant: every event at or before it),
    `seq` (every ledger entry up to it), or `source`+`position` (every event up to the instant that one
    happened, without that source's later ones). None when the point is not in this history."""
    if as_of.get("at") is not None:
        return ("at", as_of["at"])
    if as_of.get("seq") is not None:
        return None if ledger_size is not None and as_of["seq"] > ledger_size else ("seq", as_of["seq"])
    for e in entries:
        if e["envelope"]["source"] == as_of["source"] and e["envelope"]["position"] == as_of["position"]:
            return ("event", _when(e), e["envelope"]["source"], e["envelope"]["position"], e["seq"])
    return None


def included(entry: dict[str, Any], point: tuple[Any, ...]) -> bool:
    if point[0] == "at":
        return _when(entry) <= point[1]
    if point[0] == "seq":
        return bool(entry["seq"] <= point[1])
    _, when, source, position, seq = point
    at = _when(entry)
    if entry["envelope"]["source"] == source:
        return bool(entry["envelope"]["position"] <= position)
    return at < when or (at == when and entry["seq"] <= seq)


def state(in_order: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per service, the latest value of every field its events stated (a later event's field replaces
    an earlier one), its last event and when: e.g. `application.facts.content` is the application as
    last submitted, `subsidy.facts.inputs` what the subsidy was calculated on. `in_order`: as
    `ordered` gives them."""
    services: dict[str, Any] = {}
    for entry in in_order:
        if entry.get("listed"):
            continue  # about many applications: not this one's state
        envelope = entry["envelope"]
        kept = services.setdefault(envelope["source"], {"facts": {}, "events": 0})
        kept["facts"].update(envelope.get("data") or {})
        kept.update(last_event=envelope["type"], last_at=envelope["occurred_at"], last_position=envelope["position"],
                    ledger_seq=entry["seq"])
        kept["events"] += 1
    return services


def replay(entries: Sequence[dict[str, Any]], as_of: dict[str, Any] | None = None,
           ledger_size: int | None = None) -> dict[str, Any]:
    in_order = ordered(entries)
    timeline = [step(e) for e in in_order]
    answer: dict[str, Any] = {"timeline": timeline, "steps": len(timeline), "state": state(in_order)}
    if as_of and any(v is not None for v in as_of.values()):
        point = cutoff(entries, as_of, ledger_size)
        if point is None:
            answer["as_of"] = {"point": as_of, "found": False}
        else:
            upto = [e for e in in_order if included(e, point)]
            answer["as_of"] = {"point": as_of, "found": True, "steps": len(upto), "state": state(upto)}
    return answer
