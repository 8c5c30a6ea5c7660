"""How long an event takes from its commit upstream to its processing downstream, watched from
outside the services: for each followed pair (upstream -> downstream), a sample starts when the
upstream's log grows (its newest position is committed: readers see it) and ends when the
downstream's tracked position of that upstream reaches it (the follower commits its tracking with
what processing produced, in one transaction). Both ends are read with SQLite read-only queries
every `interval` seconds, so each sample is accurate to about one interval either way.

Event timestamps cannot serve: the services run on the campaign's clock (a file), not the wall's.

Run as its own process so that its polling neither waits for nor delays the benchmark's driver:
    python -m bench.latency_probe DATA_DIR upstream:downstream ... [--interval 0.001]
It samples until its standard input closes or gives a line, then prints the samples as JSON
({"up->down": [[ms to processed, ms to published by the upstream's relay], ...]}): the second
splits the wait between the relay and the follower."""
from __future__ import annotations

import argparse
import json
import select
import sqlite3
import sys
import time
from pathlib import Path
from typing import Callable


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)


def sample(data_dir: Path, edges: list[tuple[str, str]], interval: float, gap: float,
           stop: Callable[[], bool]) -> dict[str, list[list[float]]]:
    services = {s for edge in edges for s in edge}
    dbs = {s: _connect(data_dir / f"{s}.sqlite") for s in services}
    baseline: dict[tuple[str, str], int | None] = {e: None for e in edges}  # upstream head when the edge went idle
    pending: dict[tuple[str, str], tuple[int, float]] = {}  # edge -> (position, seen at)
    published: dict[tuple[str, str], float] = {}  # edge -> ms from the commit to the relay's record of it
    resume: dict[tuple[str, str], float] = {e: 0.0 for e in edges}
    out: dict[str, list[list[float]]] = {f"{u}->{d}": [] for u, d in edges}  # [ms to processed, ms to published]
    while not stop():
        now = time.perf_counter()
        heads: dict[str, int] = {}
        for edge in edges:
            up, down = edge
            if edge in pending:
                position, seen = pending[edge]
                if edge not in published:
                    relayed = dbs[up].execute(f"SELECT position FROM {up}_relay_positions WHERE channel = 'amqp'").fetchone()
                    if relayed is not None and relayed[0] >= position:
                        published[edge] = (now - seen) * 1000
                row = dbs[down].execute(f"SELECT notification_id FROM {down}_tracking WHERE application_name = ?",
                                        (up,)).fetchone()
                if row is not None and row[0] >= position:
                    out[f"{up}->{down}"].append([(now - seen) * 1000, published.pop(edge, (now - seen) * 1000)])
                    del pending[edge]
                    baseline[edge], resume[edge] = None, now + gap
                continue
            if now < resume[edge]:
                continue
            if up not in heads:
                heads[up] = dbs[up].execute(f"SELECT max(id) FROM {up}_events").fetchone()[0] or 0
            base = baseline[edge]
            if base is None:
                baseline[edge] = heads[up]  # only a commit seen from now on starts a sample
            elif heads[up] > base:
                pending[edge] = (heads[up], now)
        time.sleep(interval)
    for db in dbs.values():
        db.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("edges", nargs="+", help="upstream:downstream")
    parser.add_argument("--interval", type=float, default=0.001, help="seconds between two looks")
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between two samples of one pair")
    args = parser.parse_args()
    edges = [(e.split(":", 1)[0], e.split(":", 1)[1]) for e in args.edges]

    def stop() -> bool:
        return bool(select.select([sys.stdin], [], [], 0)[0])

    print(json.dumps(sample(args.data_dir, edges, args.interval, args.gap, stop)))


if __name__ == "__main__":
    main()
