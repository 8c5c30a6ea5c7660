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
