"""Contract tests of the kit's persistence and follower: every backend (SQLite file, PostgreSQL)
must pass them. No broker: the upstream log is read directly."""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from uuid import uuid4

import pytest

from shared.contract import log_page
from eventsourcing.persistence import IntegrityError, Tracking

from shared.contract import read_envelope
from shared.definition import Change, record
from shared.follower import Follower, list_parked
from tests.support.pingpong import Counter, Ping, PingStore, TallyStore, ping_contract

ROOT = Path(__file__).resolve().parents[2]


def follower_for(upstream: PingStore, tally: TallyStore, **kw) -> Follower:
    return Follower(tally, "ping", tally.handle, lambda after, limit: log_page(upstream, ping_contract, after, limit), **kw)


@pytest.fixture
def stores(store_url: str, tmp_path: Path):
    # Upstream and downstream share the database here, as services may in production (prefixed tables).
    return PingStore(store_url), TallyStore(store_url, cure_file=tmp_path / "cured")


def test_record_writes_events_and_read_models_together_or_not_at_all(stores):
    upstream, _ = stores
    ping = Ping._begin(Ping.Pinged, uuid4(), datetime.now(timezone.utc), {"id": "t", "role": "service"}, n=1, poison=False)

    def failing_projection(session, recordings):
        raise RuntimeError("read model write failed")

    with pytest.raises(RuntimeError):
        upstream.record(ping, project=failing_projection)
    assert upstream.max_position() == 0


def test_a_duplicate_delivery_is_processed_once(stores):
    upstream, tally = stores
    upstream.ping(1)
    follower = follower_for(upstream, tally)
    message = log_page(upstream, ping_contract, 0, 10)["notifications"][0]
    follower.prompt(message)
    follower.prompt(message)
    follower.prompt(dict(message))
    stats = tally.stats("ping")
    assert (stats["recorded"], stats["distinct"], stats["tracked"]) == (1, 1, 1)


def test_a_forged_message_at_the_next_position_is_only_a_prompt(stores):
    """Anyone who can publish on the virtual host can send a message: what is processed is what the
    upstream's log holds at that position, never the body."""
    upstream, tally = stores
    upstream.ping(7)
    real = log_page(upstream, ping_contract, 0, 10)["notifications"][0]
    forged = {**real, "event_id": str(uuid4()), "data": {"n": 666, "poison": False}, "type": "ping.forged"}
    follower = follower_for(upstream, tally)
    follower.prompt(forged)
    records = [tally.mapper.to_domain_event(x) for x in tally.notification_log.select(start=1, limit=10)]
    assert [(r.position, r.event_type) for r in records] == [(1, "ping.pinged")]
    assert tally.stats("ping")["tracked"] == 1
    follower.prompt({**forged, "position": 2})  # an event the upstream never recorded
    assert tally.stats("ping")["recorded"] == 1 and tally.stats("ping")["tracked"] == 1


def test_a_malformed_message_neither_parks_nor_replaces_the_real_event(stores):
    upstream, tally = stores
    upstream.ping(1)
    follower = follower_for(upstream, tally)
    for junk in ({"position": 1, "type": "Not A Type"}, {"position": "1"}, {}, {"position": True}):
        follower.prompt(junk)
    assert list_parked(tally) == []
    stats = tally.stats("ping")
    assert (stats["recorded"], stats["tracked"]) == (1, 1)  # the real event, from the log


def test_out_of_order_prompt_pulls_the_gap_in_order(stores):
    upstream, tally = stores
    for n in range(1, 6):
        upstream.ping(n)
    follower = follower_for(upstream, tally)
    last = log_page(upstream, ping_contract, 4, 10)["notifications"][0]
    follower.prompt(last)  # positions 1..4 were never delivered
    positions = [tally.mapper.to_domain_event(x).position for x in tally.notification_log.select(start=1, limit=10)]
    assert positions == [1, 2, 3, 4, 5]


def test_the_tracking_write_is_atomic_across_stores(stores):
    upstream, tally = stores
    upstream.ping(1)
    # A second store object on the same database: another process, as far as the database knows.
    other = TallyStore(tally.env.get("SQLALCHEMY_URL"))
    envelope = read_envelope(log_page(upstream, ping_contract, 0, 1)["notifications"][0])
    record(tally, tally.handle(envelope), tracking=Tracking("ping", 1))
    with pytest.raises(IntegrityError):  # its own view said position 1 was next; the store refuses it
        record(other, other.handle(envelope), tracking=Tracking("ping", 1))
    assert tally.stats("ping")["recorded"] == 1


def test_a_poison_event_is_parked_without_blocking_later_ones_and_can_be_retried(stores, tmp_path):
    upstream, tally = stores
    for n in range(1, 6):
        upstream.ping(n, poison=(n == 3))
    follower = follower_for(upstream, tally, max_attempts=3, retry_delays=(0.2, 0.4))
    started = time.monotonic()
    follower.catch_up()
    assert time.monotonic() - started >= 0.6  # it waited between attempts before parking
    stats = tally.stats("ping")
    assert (stats["recorded"], stats["tracked"]) == (4, 5)
    parked = list_parked(tally)
    assert [(p["position"], p["attempts"]) for p in parked] == [(3, 3)]
    assert "cannot process ping.pinged at 3" in parked[0]["error"]

    assert follower.retry_parked(parked[0]["id"]) is False  # still failing: stays parked
    (tmp_path / "cured").touch()
    assert follower.retry_parked(parked[0]["id"]) is True
    assert follower.retry_parked(parked[0]["id"]) is False  # resolved: not processed twice
    assert tally.stats("ping")["recorded"] == 5
    assert list_parked(tally) == []
    assert list_parked(tally, include_resolved=True)[0]["resolution"] == "retried"


def test_a_concurrent_change_to_a_downstream_aggregate_is_retried_and_never_parks_the_event(stores):
    upstream, tally = stores
    upstream.ping(1)
    counter = Counter._begin(Counter.Started, uuid4(), datetime.now(timezone.utc), {"id": "t", "role": "service"})
    tally.record(counter)
    interference = {"left": 4}  # more than max_attempts: conflicts must not count as failures

    def handle(envelope):
        mine = tally.repository.get(counter.id)
        if interference["left"]:
            interference["left"] -= 1
            theirs = tally.repository.get(counter.id)  # another writer gets in first
            theirs.increment("someone else")
            tally.record(theirs)
        mine.increment(f"ping {envelope['position']}")
        return Change([mine])

    Follower(tally, "ping", handle, lambda after, limit: log_page(upstream, ping_contract, after, limit), max_attempts=3).catch_up()
    assert tally.repository.get(counter.id).count == 5 and tally.tracked_position("ping") == 1
    assert list_parked(tally) == []


def test_two_consumer_processes_process_each_upstream_event_exactly_once(store_url, tmp_path):
    upstream = PingStore(store_url)
    n = 200
    for i in range(n):
        upstream.ping(i)
    TallyStore(store_url)  # tables exist before the race starts
    cmd = [sys.executable, "-m", "tests.support.follow_worker", store_url, store_url, str(n)]
    workers = [subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for w in workers:
        assert w.stdout.readline().strip() == "ready"
    for w in workers:
        w.stdin.write("go\n")
        w.stdin.flush()
    outputs = [w.communicate(timeout=180)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    stats = TallyStore(store_url).stats("ping")
    assert (stats["recorded"], stats["distinct"], stats["tracked"]) == (n, n, n)
