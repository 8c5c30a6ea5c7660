"""One relay per service at a time (shared/lease.py), on each backend: replicas sharing a store agree
on one holder; a standby takes over once the holder stops renewing, or at once when it stops cleanly."""
from __future__ import annotations

import os
from typing import Any

from shared.lease import Lease
from shared.relay import CHANNEL
from tests.support.pingpong import PingStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def replicas(store_url: str, n: int, clock: Clock, ttl: float = 10.0) -> list[Lease]:
    """n processes' leases, each on its own connection to the one database, as replicas are."""
    leases = []
    for i in range(n):
        store: Any = PingStore(store_url)
        leases.append(Lease(store, store.books.relay_lease, CHANNEL, f"replica-{i}", ttl=ttl, now=clock))
    return leases


def test_of_replicas_sharing_a_store_exactly_one_relays(store_url):
    clock = Clock()
    a, b, c = replicas(store_url, 3, clock)
    assert [a.held(), b.held(), c.held()] == [True, False, False]
    assert b.seen_holder == c.seen_holder == "replica-0"
    for _ in range(30):  # the holder keeps renewing; the others keep standing by
        clock.now += 1
        assert [a.held(), b.held(), c.held()] == [True, False, False]


def test_a_standby_takes_over_when_the_holder_stops_renewing_and_the_holder_then_stands_by(store_url):
    clock = Clock()
    a, b = replicas(store_url, 2, clock)
    assert a.held() and not b.held()
    clock.now += 9.9  # a is silent (paused, dead): not yet expired
    assert not b.held()
    clock.now += 0.2
    assert b.held()
    assert not a.held()  # back from its pause: it learns it lost the lease and stands by
    assert a.seen_holder == "replica-1"


def test_a_clean_stop_hands_the_lease_over_at_once(store_url):
    clock = Clock()
    a, b = replicas(store_url, 2, clock)
    assert a.held() and not b.held()
    a.release()
    assert b.held()
    assert not a.held()


def test_two_standbys_racing_for_a_lapsed_lease_one_wins(store_url):
    clock = Clock()
    a, b, c = replicas(store_url, 3, clock)
    assert a.held()
    clock.now += 11
    assert [b.held(), c.held()].count(True) == 1


def test_a_restarted_process_takes_over_its_dead_predecessors_lease_at_once(store_url):
    """The only process of a service is killed and restarted: it has a new holder name, but the
    lease's holder is a process of this host that no longer runs (or, in a container, its own pid):
    it relays at once instead of standing by for the rest of the dead one's lease."""
    clock = Clock()
    store: Any = PingStore(store_url)
    before = Lease(store, store.books.relay_lease, CHANNEL, now=clock)  # host:pid:random, as a service names it
    assert before.held()
    clock.now += 1
    after = Lease(store, store.books.relay_lease, CHANNEL, now=clock)
    assert after.held()
    clock.now += 11  # this host went quiet; a replica on another host took over after expiry
    elsewhere = Lease(store, store.books.relay_lease, CHANNEL, "elsewhere:%d:abcd" % os.getpid(), now=clock)
    assert elsewhere.held()
    restarted_here = Lease(store, store.books.relay_lease, CHANNEL, now=clock)
    assert not restarted_here.held()  # another host's holder is left to expire, whatever its pid


def test_two_replicas_creating_the_lease_row_at_once_the_loser_stands_by(store_url):
    """PostgreSQL, the first start of two replicas: both find no row and insert; the second waits on
    the first's key, then fails, and answers that it stands by (not an error)."""
    import threading
    import time

    import pytest

    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite serialises the update that comes first: the inserts cannot race")
    import psycopg2

    clock = Clock()
    store: Any = PingStore(store_url)
    lease = Lease(store, store.books.relay_lease, CHANNEL, "replica-1", now=clock)
    other = psycopg2.connect(store_url.replace("postgresql+psycopg2://", "postgresql://"))
    other.cursor().execute(f"INSERT INTO {store.books.relay_lease.name} (channel, holder, expires_at) "
                           "VALUES (%s, %s, %s)", (CHANNEL, "replica-0", clock.now + 10))
    outcome: list[Any] = []

    def contend() -> None:
        try:
            outcome.append(lease.held())
        except Exception as e:  # noqa: BLE001 - the answer under test
            outcome.append(e)

    contender = threading.Thread(target=contend)
    contender.start()
    time.sleep(1.0)  # blocked on the other replica's uncommitted row
    other.commit()
    contender.join(10)
    other.close()
    assert outcome == [False]
