"""The province-scale benchmark: the five services as processes on SQLite stores (a temporary
directory on the project's disk) against the broker, every figure against its floor measured in
the same run (docs/performance.md):

1. Portal load: 20 concurrent portal clients submitting applications and reviewing them (provider
   answers, county reviews, with the worklists and cases they read), round trips p50/p99, against
   a bare nameko RPC (bench/echo_service.py) made by 20 concurrent clients.
2. The province campaign: N applications driven through the whole pipeline by the campaign
   driver (tools/play) within a time budget (what fits is reported as such), while
   bench/latency_probe.py samples the time from an event's commit upstream to its processing by
   each follower downstream, p50/p99, against a bare nameko RPC round trip.
   Events per second of each service's store and of the whole system over the run's wall time
   (until every follower caught up), against a raw SQLite insert-and-commit loop on the same disk
   with rows of the run's median event size.
3. The replay of one application's full history across the five services (the audit service's
   `replay_application` over RPC, and in-process on its store).
4. The rebuild of each service's read models (shared/definition.py `rebuild_read_models`) against
   a raw read of its notification log in pages of 1,000.

    .venv/bin/python bench/bench_province.py [--applications 10000] [--minutes 10] [--json FILE]
Needs the broker (scripts/start or scripts/test makes one; HBCLOUD_TEST_AMQP_URI or AMQP_URI)."""
from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import logging  # noqa: E402

logging.getLogger("amqp").setLevel(logging.ERROR)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import contextlib  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Test-strength password hashing unless told otherwise: a province of sign-ins at production strength
# measures argon2 (priced apart, `password_hash_ms`), not the pipeline.
os.environ.setdefault("HBCLOUD_PASSWORD_HASH_PROFILE", "CHEAPEST")

from bench.common import (TimedProxy, amqp_uri, bare_round_trips, bare_under_load, concurrently, p50_p99,  # noqa: E402
                          raw_insert_rate, raw_log_read_rate, start_echo)
from services.topology import SERVICES, definition  # noqa: E402
from shared.client import cluster  # noqa: E402
from shared.errors import ServiceError  # noqa: E402
from tests.support.inprocess import PROVINCE, prepared_applications  # noqa: E402
from tests.support.review_inprocess import all_confirmed, checklist_all_match  # noqa: E402
from tests.support.system import TOKEN_SECRET, System  # noqa: E402

CLIENTS = 20


def edges() -> list[tuple[str, str]]:
    """Every (upstream, downstream) pair a follower connects, from the services' declarations."""
    return [(up, d.name) for d in map(definition, SERVICES) for up in d.effective_follows()]


def event_counts(data_dir: Path) -> dict[str, int]:
    """Events in each service's store (its log's head)."""
    counts = {}
    for name in SERVICES:
        db = sqlite3.connect(f"file:{data_dir / (name + '.sqlite')}?mode=ro", uri=True)
        counts[name] = db.execute(f"SELECT max(id) FROM {name}_events").fetchone()[0] or 0
        db.close()
    return counts


def caught_up(data_dir: Path) -> bool:
    """Every follower has processed its upstream's whole log."""
    heads = event_counts(data_dir)
    for up, down in edges():
        db = sqlite3.connect(f"file:{data_dir / (down + '.sqlite')}?mode=ro", uri=True)
        row = db.execute(f"SELECT notification_id FROM {down}_tracking WHERE application_name = ?", (up,)).fetchone()
        db.close()
        if (row[0] if row else 0) < heads[up]:
            return False
    return True


def median_event_bytes(data_dir: Path) -> int:
    sizes = []
    for name in SERVICES:
        db = sqlite3.connect(f"file:{data_dir / (name + '.sqlite')}?mode=ro", uri=True)
        sizes += [r[0] for r in db.execute(f"SELECT length(state) FROM {name}_events")]
        db.close()
    return int(statistics.median(sizes)) if sizes else 1000


def launch(tmp: Path, uri: str) -> System:
    tmp.mkdir(parents=True, exist_ok=True)
    system = System(tmp, uri)
    system.env["HBCLOUD_PASSWORD_HASH_PROFILE"] = os.environ["HBCLOUD_PASSWORD_HASH_PROFILE"]
    # The relay's and the followers' own rhythm, as in production (System's test default pulls every second).
    system.env["HBCLOUD_CATCH_UP_SECONDS"] = "5"
    return system


# -- 1. Portal load -----------------------------------------------------------------------------

def provision(uri: str, province: str, username: str, role: str, **extra: str) -> str:
    """An issued account that set its own password; answers its token."""
    with cluster(uri, province) as c:
        initial = c.application.provision_account({"username": username, "role": role, "display_name": username,
                                                   **extra})["initial_password"]
    with cluster(uri) as c:
        token = c.application.login({"username": username, "password": initial})["token"]
    chosen = f"{username}-Own-pass-2018"
    with cluster(uri, token) as c:
        c.application.change_password({"old_password": initial, "new_password": chosen})
    with cluster(uri) as c:
        return str(c.application.login({"username": username, "password": chosen})["token"])


def portal_load(tmp: Path, uri: str, submissions: int, timeout: float) -> dict[str, Any]:
    """Half the clients submit prepared applications; the other half review them as they arrive
    (providers answer, counties review), each reviewer its own share of the cases. Every RPC is
    timed; then as many bare RPCs by as many clients."""
    system = launch(tmp, uri)
    prepared = prepared_applications(tmp / "data", submissions, TOKEN_SECRET, prefix="portal", first_serial=3000,
                                     processes=2)
    times: dict[str, list[float]] = {}
    try:
        system.start_services(*SERVICES, wait=120)  # a loaded machine starts slowly
        start_echo(system)
        province = system.login(*PROVINCE)
        providers = [provision(uri, province, f"cloudco{i}", "provider", provider_id="hbcloud-provider")
                     for i in range(CLIENTS // 4)]
        counties = [provision(uri, province, f"changan{i}", "county", division_code="130102")
                    for i in range(CLIENTS // 4)]
        submitters = CLIENTS // 2
        done: set[str] = set()
        deadline = time.monotonic() + timeout

        def submitter(i: int) -> None:
            for token, app_id in prepared[i::submitters]:
                with cluster(uri, token) as raw:  # each enterprise signs its own calls
                    raw.application.whoami()  # its connection set up outside the measurement
                    c = TimedProxy(raw, times)
                    c.application.get_application(app_id)
                    c.application.submit(app_id)
                    c.application.get_application(app_id)

        def reviewer(token: str, share: int, shares: int, act: Callable[[Any, dict[str, Any]], None]) -> None:
            with cluster(uri, token) as raw:
                c = TimedProxy(raw, times)
                while len(done) < submissions and time.monotonic() < deadline:
                    items = c.review.worklist({"page_size": 200})["items"]
                    mine = [it for it in items if int(it["application_id"][-4:], 16) % shares == share]
                    if not mine:
                        eventlet.sleep(0.05)
                        continue
                    for item in mine:
                        case = c.review.get_case(item["application_id"])
                        try:
                            act(c, case)
                        except ServiceError:
                            continue  # the case moved meanwhile: the worklist answers again

        def answer(c: Any, case: dict[str, Any]) -> None:
            c.review.provider_answer(case["application_id"], all_confirmed())

        def review(c: Any, case: dict[str, Any]) -> None:
            c.review.county_review(case["application_id"], checklist_all_match(case))
            done.add(case["application_id"])

        def client(i: int) -> None:
            if i < submitters:
                submitter(i)
            elif i < submitters + len(providers):
                k = i - submitters
                reviewer(providers[k], k, len(providers), answer)
            else:
                k = i - submitters - len(providers)
                reviewer(counties[k], k, len(counties), review)

        wall = concurrently(CLIENTS, client)
        ours = [ms for values in times.values() for ms in values]
        calls_each = max(1, len(ours) // CLIENTS)
        bare = bare_under_load(uri, CLIENTS, calls_each)
    finally:
        system.close()
    return {"clients": CLIENTS, "submitted": len(prepared), "reviewed": len(done), "seconds": wall,
            "ours": p50_p99(ours), "bare": p50_p99(bare),
            "by_rpc": {k: p50_p99(v) for k, v in sorted(times.items())}}


# -- 2. The province campaign -------------------------------------------------------------------

class OutOfTime(Exception):
    """The campaign's time budget is spent: the stage under way stops where it is."""


def drive(system: System, uri: str, applications: int, seconds: float, concurrency: int) -> dict[str, Any]:
    """The campaign driver (tools/play) plays the 2018 campaign with `applications` enterprises,
    stage by stage, until the budget is spent: answers how far each stage got and how long it took."""
    from tools.play.campaign import STAGES, Campaign, clock_file
    from tools.play.portal import Portal

    portal = Portal(uri, pool_size=concurrency)
    campaign = Campaign(portal, clock=clock_file(system.clock_file), enterprises=applications, province=PROVINCE,
                        province_password=None, concurrency=concurrency)
    deadline = time.monotonic() + seconds
    stages: dict[str, dict[str, Any]] = {}
    call = campaign.call

    def within_budget(*args: Any, **kwargs: Any) -> Any:
        if time.monotonic() > deadline:
            raise OutOfTime()  # every item still queued in the stage fails at once
        return call(*args, **kwargs)

    campaign.call = within_budget  # type: ignore[method-assign]

    def progress(stage: str) -> Callable[[int, int], None]:
        def seen(done: int, total: int) -> None:
            stages[stage].update(done=done, total=total)
        return seen

    stopped = None
    try:
        for stage in STAGES:
            stages[stage] = {"done": 0, "total": None}
            begin = time.perf_counter()
            try:
                getattr(campaign, stage)(progress(stage))
            except OutOfTime:
                stopped = stage
            stages[stage]["seconds"] = round(time.perf_counter() - begin, 1)
            if stopped or time.monotonic() > deadline:
                stopped = stopped or stage
                break
    finally:
        portal.close()
    failures = [f for f in campaign.failures if "OutOfTime" not in f[2]]
    return {"enterprises": applications, "stages": stages, "stopped_in": stopped, "failures": len(failures),
            "first_failures": failures[:5], "portal": portal.stats.as_dict()}


class Probe:
    """bench/latency_probe.py as its own process, sampling while the campaign runs."""

    def __init__(self, data_dir: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bench.latency_probe", str(data_dir),
                                         *[f"{u}:{d}" for u, d in edges()]],
                                        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def stop(self) -> dict[str, list[list[float]]]:
        out, _ = self.process.communicate(b"stop\n", timeout=60)
        found: dict[str, list[list[float]]] = json.loads(out)
        return found


def province(tmp: Path, uri: str, applications: int, minutes: float, concurrency: int) -> dict[str, Any]:
    system = launch(tmp, uri)
    data_dir = tmp / "data"
    system.bootstrap()
    try:
        system.start_services(*SERVICES, wait=120)  # a loaded machine starts slowly
        start_echo(system)
        bare = bare_round_trips(uri, 500)
        before = event_counts(data_dir)
        probe = Probe(data_dir)
        start = time.perf_counter()
        progress = drive(system, uri, applications, minutes * 60, concurrency)
        driven = time.perf_counter() - start
        while not caught_up(data_dir):
            time.sleep(0.05)
        wall = time.perf_counter() - start
        latencies = probe.stop()
        after = event_counts(data_dir)
        replay = replays(system, uri)
    finally:
        system.close()
    appended = {name: after[name] - before[name] for name in SERVICES}
    every = [sample[0] for values in latencies.values() for sample in values]
    relayed = [sample[1] for values in latencies.values() for sample in values]
    return {"progress": progress, "driven_seconds": driven, "wall_seconds": wall, "events": appended,
            "events_per_s": {name: n / wall for name, n in appended.items()}, "bare_rpc": p50_p99(bare),
            "latency": p50_p99(every), "to_published": p50_p99(relayed),
            "latency_by_pair": {k: p50_p99([sample[0] for sample in v]) for k, v in latencies.items() if v},
            "row_bytes": median_event_bytes(data_dir), "replay": replay}


# -- 3. Replay ----------------------------------------------------------------------------------

def replays(system: System, uri: str, calls: int = 50) -> dict[str, Any]:
    """One application's full history: the application with the most entries in the ledger."""
    from sqlalchemy import desc, func, select

    from services.audit import projections as rm
    from services.audit.handlers.replays import history_entries
    from services.audit.replay import replay
    from services.audit.store import AuditStore

    store = AuditStore(system.settings().store_url("audit"), system.settings().clock())
    index = rm.ledger_applications
    try:
        with store.reading() as session:
            row = session.execute(select(index.c.application_id, func.count().label("n"))
                                  .group_by(index.c.application_id).order_by(desc("n")).limit(1)).first()
        if row is None:
            return {"entries": 0}
        app_id, entries = str(row[0]), int(row[1])
        in_process = []
        for _ in range(calls):
            begin = time.perf_counter()
            replay(history_entries(store, app_id))
            in_process.append((time.perf_counter() - begin) * 1000)
    finally:
        store.close()
    with cluster(uri, system.login(*PROVINCE)) as c:
        c.audit.replay_application(app_id, {})
        over_rpc = []
        for _ in range(calls):
            begin = time.perf_counter()
            answer = c.audit.replay_application(app_id, {})
            over_rpc.append((time.perf_counter() - begin) * 1000)
    sources = sorted({step["source"] for step in answer["timeline"]})
    return {"application_id": app_id, "entries": entries, "sources": sources, "in_process": p50_p99(in_process),
            "rpc": p50_p99(over_rpc)}


# -- 4. Rebuild ---------------------------------------------------------------------------------

def rebuilds(data_dir: Path) -> dict[str, Any]:
    """Each service's read models rebuilt from its log (services stopped) vs a raw read of that log."""
    from shared.config import settings_from_env
    from shared.definition import rebuild_read_models

    settings = settings_from_env({"HBCLOUD_DATA_DIR": str(data_dir), "HBCLOUD_TOKEN_SECRET": TOKEN_SECRET,
                                  "HBCLOUD_CLOCK": "system"})
    out = {}
    for name in SERVICES:
        d = definition(name)
        raw_log_read_rate(data_dir / f"{name}.sqlite", f"{name}_events")  # both read from the page cache
        rows, raw_rate = raw_log_read_rate(data_dir / f"{name}.sqlite", f"{name}_events")
        store = d.make_store(settings)
        begin = time.perf_counter()
        written = rebuild_read_models(store, d.projections)
        seconds = time.perf_counter() - begin
        store.close()
        out[name] = {"events": rows, "rows_written": written, "rebuild_s": seconds,
                     "rebuild_events_per_s": rows / seconds if seconds else float("inf"), "raw_events_per_s": raw_rate}
    return out


# -- the report ---------------------------------------------------------------------------------

def password_hash_ms(profile: str = "RFC_9106_LOW_MEMORY") -> float:
    """One argon2id hash at the production profile: what each registration and sign-in adds."""
    from argon2 import PasswordHasher, profiles

    hasher = PasswordHasher.from_parameters(getattr(profiles, profile))
    begin = time.perf_counter()
    hasher.hash("Secret-pass-1")
    return (time.perf_counter() - begin) * 1000


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(figures: dict[str, Any]) -> None:
    def ratio(a: float, b: float) -> float:
        return a / b if b else float("nan")

    portal = figures.get("portal")
    if portal:
        print(f"\n1. Portal load: {portal['clients']} concurrent clients, {portal['submitted']} submitted, "
              f"{portal['reviewed']} reviewed in {portal['seconds']:.1f} s")
        print("   RPC round trip (ms)          p50       p99")
        print(f"   our RPCs                {portal['ours']['p50']:9.2f} {portal['ours']['p99']:9.2f}   ({portal['ours']['n']} calls)")
        print(f"   bare nameko RPC         {portal['bare']['p50']:9.2f} {portal['bare']['p99']:9.2f}   ({portal['bare']['n']} calls)")
        print(f"   ratio (goal p99 <= 3x)  {ratio(portal['ours']['p50'], portal['bare']['p50']):8.1f}x "
              f"{ratio(portal['ours']['p99'], portal['bare']['p99']):8.1f}x")
        for name, q in portal["by_rpc"].items():
            print(f"     {name:28} {q['p50']:9.2f} {q['p99']:9.2f}   ({q['n']})")
    run = figures.get("province")
    if run:
        progress = run["progress"]
        print(f"\n2. Province campaign: {progress['enterprises']} enterprises asked, "
              + (f"budget spent in stage {progress['stopped_in']}" if progress["stopped_in"] else "every stage done")
              + f", {progress['failures']} items failed")
        for stage, seen in progress["stages"].items():
            print(f"     {stage:22} {seen['done']:6}/{seen['total']}  {seen.get('seconds', 0):7.1f} s")
        print(f"   driven in {run['driven_seconds']:.1f} s, every follower caught up at {run['wall_seconds']:.1f} s")
        raw = figures["raw_insert_per_s"]
        print(f"   raw SQLite insert+commit, {run['row_bytes']} B rows: {raw:.0f} rows/s")
        total = sum(run["events"].values())
        print(f"   whole system            {total / run['wall_seconds']:9.1f} events/s  ratio {ratio(total / run['wall_seconds'], raw):.3f} (goal >= 0.40)")
        for name in SERVICES:
            rate = run["events_per_s"][name]
            print(f"   {name:23} {rate:9.1f} events/s  ratio {ratio(rate, raw):.3f}  ({run['events'][name]} events)")
        lat, bare = run["latency"], run["bare_rpc"]
        print("   commit -> processed downstream (ms)   p50       p99")
        print(f"   every pair              {lat['p50']:9.1f} {lat['p99']:9.1f}   ({lat['n']} samples)")
        print(f"   of which to the relay's publish {run['to_published']['p50']:9.1f} {run['to_published']['p99']:9.1f}")
        print(f"   bare nameko RPC         {bare['p50']:9.2f} {bare['p99']:9.2f}")
        print(f"   ratio (goal p99 <= 10x) {ratio(lat['p50'], bare['p50']):8.1f}x {ratio(lat['p99'], bare['p99']):8.1f}x")
        for pair, q in run["latency_by_pair"].items():
            print(f"     {pair:26} {q['p50']:9.1f} {q['p99']:9.1f}   ({q['n']})")
        rp = run["replay"]
        if rp.get("entries"):
            print(f"\n3. Replay of one application's history ({rp['entries']} ledger entries, sources {rp['sources']}), "
                  "goal < 20 ms")
            print(f"   audit.replay_application over RPC  p50 {rp['rpc']['p50']:.2f} ms  p99 {rp['rpc']['p99']:.2f} ms")
            print(f"   in-process on the audit store      p50 {rp['in_process']['p50']:.2f} ms  p99 {rp['in_process']['p99']:.2f} ms")
    rb = figures.get("rebuild")
    if rb:
        print("\n4. Rebuild of read models vs a raw read of the log (goal >= 0.5)")
        for name, r in rb.items():
            print(f"   {name:12} {r['events']:7} events  rebuild {r['rebuild_events_per_s']:9.0f}/s  "
                  f"raw read {r['raw_events_per_s']:9.0f}/s  ratio {ratio(r['rebuild_events_per_s'], r['raw_events_per_s']):.3f}")
    print(f"\npassword hashing: {figures['password_hash_profile']} in the run; one production hash "
          f"(RFC_9106_LOW_MEMORY) costs {figures['password_hash_ms']:.0f} ms")
    print(f"load average at the end: {figures['load_end']} (start: {figures['load_start']}), {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=10_000, help="applications through the whole pipeline")
    parser.add_argument("--minutes", type=float, default=10.0, help="time budget of the campaign")
    parser.add_argument("--concurrency", type=int, default=16, help="the campaign driver's concurrent calls")
    parser.add_argument("--portal-submissions", type=int, default=200, help="applications of the 20-client portal load")
    parser.add_argument("--skip", action="append", default=[], choices=["portal", "province"],
                        help="leave a part out (e.g. while profiling another)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (the services' stores and logs)")
    args = parser.parse_args()
    uri = amqp_uri()
    figures: dict[str, Any] = {"load_start": load(), "cores": os.cpu_count(), "password_hash_ms": password_hash_ms(),
                               "password_hash_profile": os.environ["HBCLOUD_PASSWORD_HASH_PROFILE"],
                               "applications_asked": args.applications, "minutes": args.minutes}
    # The same disk as the project's data.
    with (contextlib.nullcontext(tempfile.mkdtemp(dir=ROOT, prefix="bench-")) if args.keep
          else tempfile.TemporaryDirectory(dir=ROOT)) as tmp:
        if args.keep:
            print(f"the run's directory, kept: {tmp}")
        if "portal" not in args.skip:
            figures["portal"] = portal_load(Path(tmp) / "portal", uri, args.portal_submissions, timeout=300)
        if "province" not in args.skip:
            figures["province"] = province(Path(tmp) / "province", uri, args.applications, args.minutes,
                                          args.concurrency)
            figures["rebuild"] = rebuilds(Path(tmp) / "province" / "data")
            figures["raw_insert_per_s"] = raw_insert_rate(Path(tmp), 3000, figures["province"]["row_bytes"])
    figures["load_end"] = load()
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
