"""Benchmarks of the application service, each figure against its floor measured in the same run:

1. RPC round trip: a bare nameko RPC (bench/echo_service.py) vs submitting an application
   (validation, eligibility, events + read model + idempotency key in one transaction): p50, p99, ratio.
2. Event append rate: the service's store recording one event per transaction vs a raw SQLite
   insert-and-commit loop on the same disk (WAL, same row size): events/s and ratio.

    .venv/bin/python bench/bench_application.py [--submissions 100] [--pings 500] [--appends 2000]
Needs the broker (scripts/start or scripts/test makes one; AMQP_URI)."""
from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import logging  # noqa: E402

logging.getLogger("amqp").setLevel(logging.ERROR)

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import amqp_uri, bare_round_trips, p50_p99, raw_insert_rate, start_echo, timed  # noqa: E402
from shared.clock import SHANGHAI, FixedClock  # noqa: E402
from tests.support import builders as b  # noqa: E402
from tests.support.inprocess import prepared_applications  # noqa: E402
from tests.support.system import System  # noqa: E402

SECRET = "integration-test-secret-32-bytes-long"


def prepare_applications(data_dir: Path, n: int) -> list[tuple[str, str]]:
    """n complete, unsubmitted applications, made in-process on the store the service will open."""
    return prepared_applications(data_dir, n, SECRET, prefix="bench", first_serial=5000)


def rpc_round_trips(args: argparse.Namespace, uri: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        system = System(Path(tmp), uri)
        system.env["HBCLOUD_TOKEN_SECRET"] = SECRET
        prepared = prepare_applications(Path(tmp) / "data", args.submissions)
        try:
            system.start_service("application")
            start_echo(system)
            bare = bare_round_trips(uri, args.pings)
            submit_ms = []
            for token, app_id in prepared:
                with system.rpc(token) as c:
                    c.application.whoami()  # connection set up outside the measurement
                    submit_ms += timed([lambda: c.application.submit(app_id)])
        finally:
            system.close()
    bare_q, submit_q = p50_p99(bare), p50_p99(submit_ms)
    return {"bare_p50": bare_q["p50"], "bare_p99": bare_q["p99"], "submit_p50": submit_q["p50"], "submit_p99": submit_q["p99"]}


def append_rates(args: argparse.Namespace, directory: Path) -> dict[str, float]:
    from services.application.domain import Application
    from shared.identity import TokenIssuer
    from services.application.store import ApplicationStore

    clock = FixedClock(datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI))
    store = ApplicationStore(f"sqlite:///{directory / 'append.sqlite'}", clock, TokenIssuer(SECRET, clock))
    actor = {"id": "bench", "role": "enterprise"}
    from uuid import uuid4

    app = Application._begin(Application.Started, uuid4(), clock.now(), actor, campaign_id="c", campaign_code="2018",
                             enterprise_id="e", account_id="a", uscc=b.uscc(), enterprise_name="n", county_code="130102",
                             unit_code="130100")
    store.record(app)
    values = {"profile": "x" * 200}
    start = time.perf_counter()
    for _ in range(args.appends):
        app.update_section(clock.now(), actor, "enterprise", values)
        store.record(app)
    service_rate = args.appends / (time.perf_counter() - start)
    row_bytes = len(store.recorder.select_events(app.id, desc=True, limit=1)[0].state)
    store.close()

    raw_rate = raw_insert_rate(directory, args.appends, row_bytes)
    return {"service_events_per_s": service_rate, "raw_rows_per_s": raw_rate, "row_bytes": row_bytes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--pings", type=int, default=500)
    parser.add_argument("--appends", type=int, default=2000)
    args = parser.parse_args()
    rpc = rpc_round_trips(args, amqp_uri())
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:  # the same disk as the project's data
        rates = append_rates(args, Path(tmp))

    print("\nRPC round trip (ms)           p50       p99")
    print(f"  bare nameko RPC        {rpc['bare_p50']:9.2f} {rpc['bare_p99']:9.2f}   ({args.pings} calls)")
    print(f"  submit an application {rpc['submit_p50']:9.2f} {rpc['submit_p99']:9.2f}   ({args.submissions} submissions)")
    print(f"  ratio submit / bare    {rpc['submit_p50'] / rpc['bare_p50']:9.1f}x {rpc['submit_p99'] / rpc['bare_p99']:8.1f}x")
    print("\nEvent append, one per transaction, same disk")
    print(f"  application store      {rates['service_events_per_s']:9.0f} events/s ({rates['row_bytes']} B events)")
    print(f"  raw SQLite insert+commit {rates['raw_rows_per_s']:7.0f} rows/s")
    print(f"  ratio store / raw      {rates['service_events_per_s'] / rates['raw_rows_per_s']:9.2f}")


if __name__ == "__main__":
    main()
