"""The outbox relay on each backend (SQLite, PostgreSQL) and the real broker: publishes the log in
order with confirms, records its position, and after dying between the two publishes again."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from kombu import Connection, Queue

from shared.relay import OutboxRelay, events_exchange
from tests.support.pingpong import PingStore, ping_contract


class Died(Exception):
    pass


def drain(conn: Connection, queue: Queue, expect: int, timeout: float = 15.0) -> list[dict]:
    """The next `expect` messages on `queue`, as soon as they are there; fails the test if they are
    not within `timeout` seconds."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    with conn.SimpleQueue(queue) as q:
        while len(got) < expect:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                positions = [m.get("position") for m in got]
                raise AssertionError(f"timed out after {timeout:g} s waiting for {expect} messages on {queue.name}; "
                                     f"received {len(got)}, positions {positions}")
            try:
                message = q.get(timeout=min(0.2, remaining))
            except q.Empty:
                continue
            got.append(json.loads(message.body))
            message.ack()
    return got


def test_the_relay_publishes_in_order_once_recorded_and_again_after_a_crash(store_url, amqp_uri):
    store = PingStore(store_url)
    for n in range(25):
        store.ping(n)
    with Connection(amqp_uri) as conn:
        queue = Queue(f"relay-contract-{uuid.uuid4().hex[:8]}", exchange=events_exchange("ping"), routing_key="#")
        queue(conn.channel()).declare()
        try:
            _exercise(store, conn, queue, amqp_uri)
        finally:
            queue(conn.channel()).delete()


def _exercise(store: PingStore, conn: Connection, queue: Queue, amqp_uri: str) -> None:
    def die(position: int) -> None:
        raise Died(position)

    crashing = OutboxRelay(store, ping_contract, amqp_uri, batch=10, after_publish=die)
    with pytest.raises(Died):
        crashing.publish_pending()
    crashing.close()
    assert crashing.published_position() == 0  # confirmed by the broker, but not recorded
    first = drain(conn, queue, 10)
    assert [m["position"] for m in first] == list(range(1, 11))

    relay = OutboxRelay(store, ping_contract, amqp_uri, batch=10)
    assert relay.publish_pending() == 25
    assert relay.published_position() == 25
    assert relay.publish_pending() == 0  # nothing new: nothing sent
    again = drain(conn, queue, 25)
    assert [m["position"] for m in again] == list(range(1, 26))
    assert all(m["type"] == "ping.pinged" and m["source"] == "ping" for m in again)
    relay.close()


def test_replicas_sharing_a_store_publish_each_event_once_and_a_standby_takes_over(store_url, amqp_uri):
    """Two replicas' relays on one store: only the lease holder publishes; when it stops, the other
    carries on from the recorded position, without publishing the log a second time."""
    from shared.lease import Lease
    from shared.relay import CHANNEL

    stores = [PingStore(store_url), PingStore(store_url)]
    relays = [OutboxRelay(s, ping_contract, amqp_uri, batch=10,
                          lease=Lease(s, s.books.relay_lease, CHANNEL, f"replica-{i}"))
              for i, s in enumerate(stores)]
    for n in range(15):
        stores[0].ping(n)
    with Connection(amqp_uri) as conn:
        queue = Queue(f"relay-lease-{uuid.uuid4().hex[:8]}", exchange=events_exchange("ping"), routing_key="#")
        queue(conn.channel()).declare()
        try:
            assert [relays[0].publish_pending(), relays[1].publish_pending()] == [15, 0]
            for n in range(15, 20):
                stores[1].ping(n)  # recorded by the standby replica, published by the holder
            assert [relays[1].publish_pending(), relays[0].publish_pending()] == [0, 5]
            relays[0].stop()  # a clean stop hands the lease over
            for n in range(20, 23):
                stores[0].ping(n)
            assert relays[1].publish_pending() == 3
            got = drain(conn, queue, 23)
            assert [m["position"] for m in got] == list(range(1, 24))
            assert drain_nothing_more(conn, queue)
        finally:
            relays[1].stop()
            queue(conn.channel()).delete()


def drain_nothing_more(conn: Connection, queue: Queue, wait: float = 1.0) -> bool:
    with conn.SimpleQueue(queue) as q:
        try:
            extra = q.get(timeout=wait)
        except q.Empty:
            return True
    raise AssertionError(f"a message was published twice: {extra.body[:200]!r}")


def test_a_batch_the_broker_refuses_in_part_is_not_recorded_as_published(store_url, amqp_uri):
    """Confirms are awaited per batch: a message the broker nacks (here: a full queue that rejects
    publishes) fails the batch, and the position stays where it was, to be published again."""
    from shared.relay import NotConfirmed

    store = PingStore(store_url)
    for n in range(10):
        store.ping(n)
    with Connection(amqp_uri) as conn:
        queue = Queue(f"relay-full-{uuid.uuid4().hex[:8]}", exchange=events_exchange("ping"), routing_key="#",
                      queue_arguments={"x-max-length": 4, "x-overflow": "reject-publish"})
        queue(conn.channel()).declare()
        relay = OutboxRelay(store, ping_contract, amqp_uri, batch=10)
        try:
            with pytest.raises(NotConfirmed):
                relay.publish_pending()
            assert relay.published_position() == 0
            assert relay.last_error and "refused" in relay.last_error
            queue(conn.channel()).delete()  # the operator makes room: the whole batch goes through
            queue = Queue(queue.name + "-roomy", exchange=events_exchange("ping"), routing_key="#")
            queue(conn.channel()).declare()
            assert relay.publish_pending() == 10
            assert [m["position"] for m in drain(conn, queue, 10)] == list(range(1, 11))
        finally:
            relay.stop()
            queue(conn.channel()).delete()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_stopped_relay_does_not_take_the_lease_back(store_url, amqp_uri):
    """nameko stops the relay (releasing the lease) before it kills the relay's thread, which may look
    once more: it publishes nothing and the standby takes over at once."""
    from shared.lease import Lease
    from shared.relay import CHANNEL

    clock = FakeClock()
    stores = [PingStore(store_url), PingStore(store_url)]
    leases = [Lease(s, s.books.relay_lease, CHANNEL, f"replica-{i}", now=clock) for i, s in enumerate(stores)]
    relays = [OutboxRelay(s, ping_contract, amqp_uri, lease=lease) for s, lease in zip(stores, leases)]
    try:
        assert relays[0].active
        relays[0].stop()
        stores[0].ping(1)
        assert relays[0].publish_pending() == 0
        assert leases[1].held()
    finally:
        for relay in relays:
            relay.stop()


def test_a_holder_publishing_a_long_backlog_keeps_its_lease_and_the_standby_publishes_nothing(store_url, amqp_uri):
    """The lease is asked before every batch, so a backlog longer than the lease (after an outage) does
    not let a standby take over while the holder is still publishing."""
    from shared.lease import Lease
    from shared.relay import CHANNEL

    clock = FakeClock()
    stores = [PingStore(store_url), PingStore(store_url)]
    for n in range(50):
        stores[0].ping(n)
    leases = [Lease(s, s.books.relay_lease, CHANNEL, f"replica-{i}", now=clock) for i, s in enumerate(stores)]
    standby_sent: list[int] = []

    def a_batch_takes_three_seconds(position: int) -> None:
        clock.now += 3
        standby_sent.append(relays[1].publish_pending())

    relays = [OutboxRelay(stores[0], ping_contract, amqp_uri, batch=10, lease=leases[0],
                          after_publish=a_batch_takes_three_seconds),
              OutboxRelay(stores[1], ping_contract, amqp_uri, batch=10, lease=leases[1])]
    with Connection(amqp_uri) as conn:
        queue = Queue(f"relay-backlog-{uuid.uuid4().hex[:8]}", exchange=events_exchange("ping"), routing_key="#")
        queue(conn.channel()).declare()
        try:
            assert leases[0].held()
            clock.now += 4.9  # the lease is half gone when the backlog starts; 50 events take 15 s
            assert relays[0].publish_pending() == 50
            assert standby_sent == [0] * 5
            assert [m["position"] for m in drain(conn, queue, 50)] == list(range(1, 51))
            assert drain_nothing_more(conn, queue)
        finally:
            for relay in relays:
                relay.stop()
            queue(conn.channel()).delete()
