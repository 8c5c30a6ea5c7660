"""Pieces every benchmark shares: percentiles, the floors measured in the same run (a raw SQLite
insert-and-commit loop, a raw read of a log, a bare nameko RPC round trip, alone or under the load
of several concurrent clients), and a proxy that times every RPC a driver makes.

The RPC helpers need eventlet's monkey patching done by the caller's script before anything else."""
from __future__ import annotations

import os
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parents[1]


def amqp_uri() -> str:
    return os.environ.get("HBCLOUD_TEST_AMQP_URI") or os.environ.get("AMQP_URI") or "amqp://guest:guest@127.0.0.1:5672//"


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def p50_p99(values: Sequence[float]) -> dict[str, float]:
    """Median and 99th percentile (nan for no values) with the count behind them."""
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "n": 0}
    return {"p50": statistics.median(values), "p99": percentile(values, 0.99), "n": len(values)}


def timed(calls: Sequence[Callable[[], Any]]) -> list[float]:
    """Milliseconds each call took, one after the other."""
    out = []
    for call in calls:
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def raw_insert_rate(directory: Path, count: int, row_bytes: int) -> float:
    """Rows per second of a raw SQLite insert-and-commit loop (WAL, one row per transaction, rows of
    `row_bytes` in an event table's shape) in `directory`: the floor of any event store on that disk."""
    path = directory / "raw-insert.sqlite"
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, originator_id TEXT, version INTEGER, topic TEXT, state BLOB)")
    payload = os.urandom(row_bytes)
    start = time.perf_counter()
    for i in range(count):
        raw.execute("BEGIN")
        raw.execute("INSERT INTO events (originator_id, version, topic, state) VALUES (?, ?, ?, ?)",
                    ("00000000-0000-0000-0000-000000000001", i, "services.application.domain:Application.SectionUpdated",
                     payload))
        raw.execute("COMMIT")
    rate = count / (time.perf_counter() - start)
    raw.close()
    path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return rate


def raw_log_read_rate(path: Path, table: str, page: int = 1000) -> tuple[int, float]:
    """(rows, rows per second) of reading a whole event table raw, in position order, in pages of
    `page` rows (as a notification log is read): the floor of anything that replays the log."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows, after = 0, 0
    start = time.perf_counter()
    while True:
        got = db.execute(f"SELECT id, originator_id, originator_version, topic, state FROM {table} "
                         "WHERE id > ? ORDER BY id LIMIT ?", (after, page)).fetchall()
        if not got:
            break
        rows += len(got)
        after = got[-1][0]
    elapsed = time.perf_counter() - start
    db.close()
    return rows, rows / elapsed if elapsed else float("inf")


def start_echo(system: Any) -> None:
    """The bare nameko service (bench/echo_service.py) beside the system's, once it answers."""
    system.start("bench.echo_service:Echo", "bench_echo.ping", wait=120)


def bare_round_trips(uri: str, calls: int, warm_up: int = 50) -> list[float]:
    """Milliseconds of `calls` bare RPCs by one client, one after the other."""
    from shared.client import cluster

    with cluster(uri) as c:
        for _ in range(warm_up):  # connections and caches set up outside the measurement
            c.bench_echo.ping(1)
        return timed([lambda: c.bench_echo.ping({"a": 1}) for _ in range(calls)])


class TimedProxy:
    """A cluster proxy that records how long each RPC took (ms) under "service.method" in `times`,
    so that a driver's own calls are measured as a portal would see them."""

    def __init__(self, proxy: Any, times: dict[str, list[float]]) -> None:
        self._proxy, self._times = proxy, times

    def __getattr__(self, service: str) -> Any:
        return _TimedService(getattr(self._proxy, service), service, self._times)


class _TimedService:
    def __init__(self, service: Any, name: str, times: dict[str, list[float]]) -> None:
        self._service, self._name, self._times = service, name, times

    def __getattr__(self, method: str) -> Callable[..., Any]:
        call = getattr(self._service, method)
        key = f"{self._name}.{method}"

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self._times.setdefault(key, []).append((time.perf_counter() - start) * 1000)

        return timed_call


def concurrently(clients: int, work: Callable[[int], None]) -> float:
    """Run `work(i)` for i in range(clients) at once (green threads); answers the wall seconds.
    The first failure is raised once all have ended."""
    import eventlet

    pool = eventlet.GreenPool(clients)
    start = time.perf_counter()
    threads = [pool.spawn(work, i) for i in range(clients)]
    errors = []
    for thread in threads:
        try:
            thread.wait()
        except Exception as e:  # collected: one client's failure must not leave the others running unseen
            errors.append(e)
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


def bare_under_load(uri: str, clients: int, calls_each: int) -> list[float]:
    """Milliseconds of bare RPCs made by `clients` concurrent clients, `calls_each` each: the floor
    of our RPCs under the same load."""
    from shared.client import cluster

    out: list[float] = []

    def client(_: int) -> None:
        with cluster(uri) as c:
            c.bench_echo.ping(1)  # the client's connection set up outside the measurement
            out.extend(timed([lambda: c.bench_echo.ping({"a": 1}) for _ in range(calls_each)]))

    concurrently(clients, client)
    return out
