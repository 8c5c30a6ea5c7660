"""The delivery guarantee (ARCHITECTURE.md), each case on the real broker: the application
service publishes, a `tally` service follows it and records one event per upstream event it
processed. At the end every upstream position is processed exactly once."""
from __future__ import annotations

import json

from kombu import Connection, Producer

from shared.relay import events_exchange
from tests.support.system import body, captured_events, wait_until
from tests.support import builders as b


def register(system, n: int, start: int = 0, name: str = "企业{i}有限公司") -> None:
    with system.rpc() as c:
        for i in range(start, start + n):
            c.application.register_enterprise({"username": f"ent-{i:04d}", "password": "Secret-pass-1",
                                               "uscc": b.uscc(serial=i + 1), "name": name.format(i=i),
                                               "county_code": "130102"})


def upstream_page(system) -> dict:
    with system.rpc(system.province_token()) as c:
        return c.application.get_notifications(0, 1000)


def tally_stats(system) -> dict:
    with system.rpc() as c:
        return c.tally.stats()


def settles_exactly_once(system, expected: int, timeout: float = 45.0) -> dict:
    stats = wait_until(lambda: (s := tally_stats(system))["tracked"] >= expected and s, timeout=timeout) or tally_stats(system)
    assert (stats["recorded"], stats["distinct"], stats["tracked"]) == (expected, expected, expected), system.logs()
    return stats


def publish(system, envelopes: list[dict]) -> None:
    with Connection(system.amqp_uri) as conn:
        producer = Producer(conn.channel(), exchange=events_exchange("application"))
        for e in envelopes:
            producer.publish(json.dumps(e), routing_key=e["type"], content_type="application/json", delivery_mode=2)


def test_duplicate_and_out_of_order_deliveries_are_processed_once_in_order(system):
    # Nothing is published on its own and nothing is pulled on a timer: only our messages prompt.
    system.start_application(HBCLOUD_RELAY_SECONDS="3600")
    system.start_tally(HBCLOUD_CATCH_UP_SECONDS="3600")
    register(system, 3)
    envelopes = upstream_page(system)["notifications"]
    n = len(envelopes)
    publish(system, list(reversed(envelopes)) + envelopes + envelopes[:2])  # last first, then everything again
    settles_exactly_once(system, n)


def test_a_lost_message_is_recovered_by_the_timed_pull(system):
    system.start_application(HBCLOUD_RELAY_SECONDS="3600")  # every message is "lost": none is published
    system.start_tally(HBCLOUD_CATCH_UP_SECONDS="1")
    register(system, 2)
    settles_exactly_once(system, upstream_page(system)["max_position"])


def test_events_published_while_the_consumer_was_down_are_processed_when_it_returns(system):
    system.start_application()
    tally = system.start_tally(HBCLOUD_CATCH_UP_SECONDS="3600")  # only the queue and the start-up pull help
    register(system, 1)
    system.stop(tally)
    register(system, 3, start=1)
    system.start_tally(HBCLOUD_CATCH_UP_SECONDS="3600")
    settles_exactly_once(system, upstream_page(system)["max_position"])


def test_a_consumer_whose_queue_did_not_exist_yet_catches_up_from_the_start(system):
    system.start_application()
    register(system, 3)  # published to an exchange with no tally queue bound: dropped by the broker
    wait_until(lambda: upstream_page(system)["max_position"] >= 6)
    system.start_tally(HBCLOUD_CATCH_UP_SECONDS="3600")
    settles_exactly_once(system, upstream_page(system)["max_position"])


def test_two_consumer_processes_on_one_upstream_process_each_event_exactly_once(system):
    system.start_application()
    system.start_tally()
    system.start_tally()  # competing consumers on one queue and one store

    def both_serving() -> bool:
        with system.rpc() as c:
            return len({c.tally.stats()["pid"] for _ in range(8)}) == 2
    assert wait_until(both_serving, timeout=45), "the second consumer never came up"
    register(system, 40)
    stats = settles_exactly_once(system, upstream_page(system)["max_position"], timeout=60)
    assert len(stats["by_pid"]) == 2, stats  # both processes really processed events


def test_a_relay_killed_between_publishing_and_recording_publishes_again_and_nothing_doubles(system):
    with captured_events(system.amqp_uri) as drain:
        system.start_tally()
        # Events recorded before the service starts: its relay publishes them, then dies before
        # it records how far it got.
        from services.application.service import make_store

        store = make_store(system.settings())
        for i in range(3):
            store.register_enterprise({"username": f"early-{i}", "password": "Secret-pass-1", "uscc": b.uscc(serial=100 + i),
                                       "name": f"早期企业{i}", "county_code": "130102"})
        expected = store.max_position()
        store.close()
        crashing = system.start("services.application.service:ApplicationRpc", "tally.stats", HBCLOUD_FAULT_CRASH_AFTER_PUBLISH="1")
        assert wait_until(lambda: crashing.poll() is not None, timeout=45), "the relay did not crash"
        assert crashing.returncode == 70
        first = len(drain(2.0))
        assert first == expected  # published and confirmed, but the position was not recorded
        system.start_application()
        wait_until(lambda: len(drain(0.5)) >= 2 * expected, timeout=45)
        messages = drain(0.5)
        positions = sorted(body(m)["position"] for m in messages)
        assert positions == sorted(list(range(1, expected + 1)) * 2)  # every event went out twice
    settles_exactly_once(system, expected)


def test_a_poison_event_is_parked_visibly_and_an_operator_retries_it_after_the_fix(system, tmp_path):
    cure = tmp_path / "cure"
    system.start_application()
    system.start_tally(TALLY_CURE_FILE=str(cure))
    register(system, 1)
    register(system, 1, start=1, name="POISON 测试企业{i}")
    register(system, 1, start=2)
    total = upstream_page(system)["max_position"]
    stats = wait_until(lambda: (s := tally_stats(system))["tracked"] >= total and s, timeout=45)
    assert stats and stats["recorded"] == total - 1, system.logs()  # later events were not blocked
    with system.rpc() as c:
        parked = c.tally.parked()
        assert len(parked) == 1 and parked[0]["event_type"] == "application.enterprise_registered"
        assert "RuntimeError" in parked[0]["error"] and parked[0]["attempts"] == 3
        assert c.tally.retry(parked[0]["id"]) is False  # not fixed yet: stays parked
        cure.touch()
        assert c.tally.retry(parked[0]["id"]) is True
        assert c.tally.parked() == []
    settles_exactly_once(system, total)
