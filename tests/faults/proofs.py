"""What the fault suite proves once the faults have stopped and the system is quiet: nothing lost
(every follower at its upstream's head, nothing parked or stalled, every read model equal to a
rebuild from its store), nothing done twice (counted on the services' own logs), and the audit
ledger verifying and reconciling with every service. Each check answers the problems it found, so
the test reports all of them at once."""
from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from services.topology import SERVICES, definition
from shared.client import cluster
from shared.definition import rebuild_read_models


def healths(amqp_uri: str, token: str) -> dict[str, dict[str, Any]] | None:
    """Every service's health, or None while one does not answer."""
    try:
        with cluster(amqp_uri, token, timeout=10) as c:
            return {s: getattr(c, s).health() for s in SERVICES}
    except Exception:
        return None


def behind(seen: dict[str, dict[str, Any]]) -> list[str]:
    """Followers short of their upstream's head, relays short of their own log's head."""
    gaps = []
    for service, health in seen.items():
        for upstream, tracked in health["tracked"].items():
            if tracked != seen[upstream]["max_position"]:
                gaps.append(f"{service} tracked {upstream}@{tracked}, head {seen[upstream]['max_position']}")
        if health["relay_lag"]:
            gaps.append(f"{service} relay {health['relay_lag']} behind")
    return gaps


def quiet(amqp_uri: str, token: str, last: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The healths once every follower is at its upstream's head and no log grew since the previous
    look (`last` keeps it, and what was still behind, for a timeout's message)."""
    seen = healths(amqp_uri, token)
    if seen is None:
        last["behind"] = ["a service does not answer"]
        return None
    heads = {s: h["max_position"] for s, h in seen.items()}
    gaps = behind(seen)
    settled = not gaps and heads == last.get("heads")
    last.update(heads=heads, behind=gaps)
    return seen if settled else None


def nothing_lost(seen: dict[str, dict[str, Any]]) -> list[str]:
    problems = behind(seen)
    for service, health in seen.items():
        if health["parked"]:
            problems.append(f"{service}: {health['parked']} parked events")
        if health["stalled"]:
            problems.append(f"{service}: stalled {health['stalled']}")
        if health["relay_error"]:
            problems.append(f"{service}: relay error {health['relay_error']}")
    return problems


def whole_log(c: Any, service: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = getattr(c, service).get_notifications(found[-1]["position"] if found else 0, 1000)
        found += page["notifications"]
        if not page["notifications"] or found[-1]["position"] >= page["max_position"]:
            return found


def logs(amqp_uri: str, token: str) -> dict[str, list[dict[str, Any]]]:
    with cluster(amqp_uri, token, timeout=30) as c:
        return {s: whole_log(c, s) for s in SERVICES}


def _per_application(events: Iterable[dict[str, Any]], kind: str) -> Counter[str]:
    return Counter(e["application_id"] for e in events if e["type"] == kind)


def _once_each(what: str, counted: Counter[str], expected: set[str]) -> list[str]:
    problems = []
    twice = {k: n for k, n in counted.items() if n > 1}
    if twice:
        problems.append(f"{what}: more than once for {len(twice)}: {dict(list(twice.items())[:5])}")
    missing, extra = expected - set(counted), set(counted) - expected
    if missing:
        problems.append(f"{what}: none for {len(missing)} that should have one: {sorted(missing)[:5]}")
    if extra:
        problems.append(f"{what}: {len(extra)} without a cause: {sorted(extra)[:5]}")
    return problems


def nothing_twice(log: dict[str, list[dict[str, Any]]]) -> tuple[list[str], dict[str, int]]:
    """One review case per submitted application, one award per announced entry, one subsidy case
    per award, one revocation per finding of fraud against an awarded enterprise and one reclaim per
    revoked, paid award; and each application submitted once. Answers (problems, counts)."""
    everything = [e for events in log.values() for e in events]
    submitted = _per_application(log["application"], "application.submitted")
    announced = {entry for e in log["scoring"] if e["type"] == "scoring.list_announced" for entry in e["data"]["entries"]}
    awarded = _per_application(log["scoring"], "scoring.awarded")
    fraud = {e["application_id"] for e in log["audit"] if e["type"] == "audit.fraud_found" and e["application_id"]}
    revoked = _per_application(log["scoring"], "scoring.award_revoked")
    paid = set(_per_application(log["subsidy"], "subsidy.paid"))
    reclaims = _per_application(log["subsidy"], "subsidy.reclaim_opened")
    problems = [f"submitted more than once: {k}" for k, n in submitted.items() if n > 1]
    problems += _once_each("review case", _per_application(log["review"], "review.case_opened"), set(submitted))
    problems += _once_each("award", awarded, announced)
    problems += _once_each("subsidy case", _per_application(log["subsidy"], "subsidy.case_opened"), set(awarded))
    problems += _once_each("award revoked", revoked, fraud & set(awarded))
    problems += _once_each("reclaim", reclaims, set(revoked) & paid)
    ids = Counter(e["event_id"] for e in everything)
    problems += [f"event id {k} {n} times" for k, n in ids.items() if n > 1]
    counts = {"submitted": len(submitted), "awarded": len(awarded), "paid": len(paid), "fraud_found": len(fraud),
              "revoked": len(revoked), "reclaims": len(reclaims), "events": len(everything)}
    return problems, counts


def ledger(amqp_uri: str, token: str) -> tuple[list[str], dict[str, Any]]:
    """The audit ledger verifies, and reconciles with every service's log to its head."""
    with cluster(amqp_uri, token, timeout=60) as c:
        verified, reconciled = c.audit.verify_ledger(), c.audit.reconcile()
    problems = [] if verified["ok"] else [f"ledger does not verify: {verified}"]
    if not reconciled["ok"]:
        problems.append(f"ledger does not reconcile: {reconciled}")
    problems += [f"ledger tracked {s}@{r['tracked']}, head {r['source_head']}"
                 for s, r in reconciled["sources"].items() if r["tracked"] != r["source_head"]]
    return problems, {"entries": verified.get("entries"), "sources": sorted(reconciled["sources"])}


def _rows(path: Path, tables: list[str]) -> dict[str, Counter[tuple[Any, ...]]]:
    db = sqlite3.connect(path)
    try:
        return {t: Counter(tuple(r) for r in db.execute(f'SELECT * FROM "{t}"')) for t in tables}
    finally:
        db.close()


def read_models_match_rebuild(data: Path, copy: Path, settings: Any,
                              services: Iterable[str] = SERVICES) -> tuple[list[str], dict[str, int]]:
    """Each service's store copied (sqlite3's backup: consistent even beside a writer), its read
    models rebuilt on the copy from its own log, and every row compared with the row the running
    service had written. `settings` opens the copies (HBCLOUD_DATA_DIR=copy)."""
    copy.mkdir(parents=True, exist_ok=True)
    problems, rows = [], {}
    for service in services:
        d = definition(service)
        if not d.projections:
            continue
        source, target = sqlite3.connect(data / f"{service}.sqlite"), sqlite3.connect(copy / f"{service}.sqlite")
        source.backup(target)
        source.close()
        target.close()
        tables = [p.table.name for p in d.projections]
        before = _rows(copy / f"{service}.sqlite", tables)
        store = d.make_store(settings)
        try:
            rebuild_read_models(store, d.projections)
        finally:
            store.close()
        after = _rows(copy / f"{service}.sqlite", tables)
        for table in tables:
            rows[f"{service}.{table}"] = sum(before[table].values())
            if before[table] != after[table]:
                only_before, only_after = before[table] - after[table], after[table] - before[table]
                problems.append(f"{service}.{table}: {sum(only_before.values())} rows differ from the rebuild; "
                                f"written: {list(only_before)[:2]}; rebuilt: {list(only_after)[:2]}")
    return problems, rows
