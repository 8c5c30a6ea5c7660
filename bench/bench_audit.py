"""Benchmarks of the audit ledger, each figure against its floor measured in the same run (no broker):

1. Following into the ledger: the audit service's follower pulling a source's log and appending each
   event (chain value, leaf, tree nodes, application index, tracked position: one transaction per
   event) vs a raw SQLite insert-and-commit loop of rows of the same size on the same disk.
2. Verifying: the whole ledger checked again from its bytes (entries per second) vs reading the
   same rows raw.
3. Proofs and replay: an inclusion and a consistency proof from the stored nodes, and the replay of
   one application's history (60 events) among all the others (milliseconds).

    .venv/bin/python bench/bench_audit.py [--events 20000]"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import raw_insert_rate  # noqa: E402
from services.audit import ledger, merkle  # noqa: E402
from services.audit.definition import DEFINITION  # noqa: E402
from services.audit.handlers.following import follows  # noqa: E402
from services.audit.handlers.ledger_ops import published_checkpoints  # noqa: E402
from services.audit.handlers.replays import history_entries  # noqa: E402
from services.audit.replay import replay  # noqa: E402
from services.audit.store import AuditStore  # noqa: E402
from shared.clock import SHANGHAI, FixedClock  # noqa: E402
from shared.follower import Follower, dispatch  # noqa: E402

APPLICATIONS = 200  # events are spread over this many applications; one is replayed


def synthetic_log(count: int) -> list[dict[str, Any]]:
    """`count` envelopes of about 1 KB each, as a source's get_notifications answers them."""
    return [{"event_id": f"00000000-0000-4000-8000-{i:012d}", "type": "application.section_updated",
             "schema_version": 1, "source": "application", "position": i, "occurred_at": "2018-12-03T02:00:00+00:00",
             "aggregate_id": f"00000000-0000-4000-9000-{i % APPLICATIONS:012d}", "aggregate_version": i // APPLICATIONS + 1,
             "application_id": f"00000000-0000-4000-9000-{i % APPLICATIONS:012d}",
             "actor": {"id": "6791964f-9a72-5d5a-89da-4a1d26d0f676", "role": "enterprise"},
             "data": {"section": "enterprise", "fields": {"registered_address": "石家庄市长安区中山东路1号" * 20,
                                                          "revenue": {"2016": "120000000.00", "2017": "150000000.00"}}}}
            for i in range(1, count + 1)]


def following(store: AuditStore, log: list[dict[str, Any]]) -> float:
    def fetch(after: int, limit: int) -> dict[str, Any]:
        return {"notifications": log[after:after + limit], "max_position": len(log)}

    table = follows(("application",))["application"]
    follower = Follower(store, "application", dispatch(store, table), fetch, parks=DEFINITION.parks_failures,
                        batch=DEFINITION.follow_batch)
    start = time.perf_counter()
    follower.catch_up()
    return len(log) / (time.perf_counter() - start)


def raw_read_rate(path: Path) -> float:
    db = sqlite3.connect(path)
    start = time.perf_counter()
    read = sum(len(row[0]) > 0 for row in db.execute("SELECT canonical FROM audit_ledger ORDER BY seq"))
    elapsed = time.perf_counter() - start
    db.close()
    return read / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    log = synthetic_log(args.events)
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:  # the same disk as the project's data
        directory = Path(tmp)
        store = AuditStore(f"sqlite:///{directory / 'audit.sqlite'}",
                           FixedClock(datetime(2019, 6, 1, 9, 0, tzinfo=SHANGHAI)))
        follow_rate = following(store, log)
        with store.reading() as session:
            row_bytes = len(ledger.entry_row(session, seq=1)["canonical"].encode("utf-8"))  # type: ignore[index]
        raw_rate = raw_insert_rate(directory, args.events, row_bytes)

        start = time.perf_counter()
        with store.reading() as session:
            report = ledger.check(session, published_checkpoints(store))
        verify_rate = args.events / (time.perf_counter() - start)
        read_rate = raw_read_rate(directory / "audit.sqlite")

        with store.reading() as session:
            tree = ledger.stored_tree(session)
            start = time.perf_counter()
            path = merkle.inclusion_path(tree, args.events // 2, args.events)
            consistency = merkle.consistency_path(tree, args.events // 3, args.events)
            proofs_ms = (time.perf_counter() - start) * 1000
        one = log[0]["application_id"]
        start = time.perf_counter()
        replayed = replay(history_entries(store, one))
        replay_ms = (time.perf_counter() - start) * 1000
        store.close()

    print(f"\nAudit ledger, {args.events} events of {row_bytes} B (SQLite, same disk), verify ok: {report['ok']}")
    print(f"  following into the ledger  {follow_rate:9.0f} events/s")
    print(f"  raw SQLite insert+commit   {raw_rate:9.0f} rows/s")
    print(f"  ratio ledger / raw         {follow_rate / raw_rate:9.2f}")
    print(f"  verify from the bytes      {verify_rate:9.0f} entries/s")
    print(f"  raw read of the same rows  {read_rate:9.0f} rows/s")
    print(f"  ratio verify / raw read    {verify_rate / read_rate:9.2f}")
    print(f"  an inclusion and a consistency proof ({len(path)} + {len(consistency)} hashes): {proofs_ms:.2f} ms")
    print(f"  replay of one application ({replayed['steps']} steps among {args.events}): {replay_ms:.1f} ms")
    print(json.dumps({"follow_per_s": round(follow_rate), "raw_per_s": round(raw_rate),
                      "verify_per_s": round(verify_rate), "proofs_ms": round(proofs_ms, 2),
                      "replay_ms": round(replay_ms, 1)}))


if __name__ == "__main__":
    main()
