"""The delivery guarantee (docs/architecture.md), each case on the real broker: the application
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
    stats = wait_until(lambda: (s := tally_stats(system))["tracked"] >= expected and s, timeout=timeout,
                       what=f"tally to track position {expected}", context=system.logs)
    assert (stats["recorded"], stats["distinct"], stats["tracked"]) == (expected, expected, expected), system.logs()
    return stats


def publish(system, envelopes: list[dict]) -> None:
    with Connection(system.amqp_uri) as conn:
        producer = Producer(conn.channel(), exchange=events_exchange("application"))
        for e in envelopes:
            producer.publish(json.dumps(e), routing_key=e["type"], content_type="application/json", delivery_mode=2)


def test_duplicate_and_out_of_order_deliveries_are_processed_once_in_order(system):
    # Nothing is published on its own and nothing is pulled on a timer: only our messages prompt.
    system.start_service("application", HBCLOUD_RELAY_SECONDS="3600")
    system.start_service("tally", HBCLOUD_CATCH_UP_SECONDS="3600")
    register(system, 3)
    envelopes = upstream_page(system)["notifications"]
    n = len(envelopes)
    publish(system, list(reversed(envelopes)) + envelopes + envelopes[:2])  # last first, then everything again
    settles_exactly_once(system, n)


def test_a_lost_message_is_recovered_by_the_timed_pull(system):
    system.start_service("application", HBCLOUD_RELAY_SECONDS="3600")  # every message is "lost": none is published
    system.start_service("tally", HBCLOUD_CATCH_UP_SECONDS="1")
    register(system, 2)
    settles_exactly_once(system, upstream_page(system)["max_position"])


def test_events_published_while_the_consumer_was_down_are_processed_when_it_returns(system):
    system.start_service("application")
    tally = system.start_service("tally", HBCLOUD_CATCH_UP_SECONDS="3600")  # only the queue and the start-up pull help
    register(system, 1)
    system.stop(tally)
    register(system, 3, start=1)
    system.start_service("tally", HBCLOUD_CATCH_UP_SECONDS="3600")
    settles_exactly_once(system, upstream_page(system)["max_position"])


def test_a_consumer_whose_queue_did_not_exist_yet_catches_up_from_the_start(system):
    system.start_service("application")
    register(system, 3)  # published to an exchange with no tally queue bound: dropped by the broker
    wait_until(lambda: upstream_page(system)["max_position"] >= 6, what="the application service to record 6 events")
    system.start_service("tally", HBCLOUD_CATCH_UP_SECONDS="3600")
    settles_exactly_once(system, upstream_page(system)["max_position"])


def test_two_consumer_processes_on_one_upstream_process_each_event_exactly_once(system):
    system.start_service("application")
    # Competing consumers on one queue and one store. Each event takes a tenth of a second to
    # process, so a prompt often reaches one process while the other is busy: both pull, and the
    # tracking record decides who records each event.
    system.start_service("tally", TALLY_SECONDS_PER_EVENT="0.1")
    system.start_service("tally", TALLY_SECONDS_PER_EVENT="0.1")

    def both_serving() -> bool:
        with system.rpc() as c:
            return len({c.tally.stats()["pid"] for _ in range(8)}) == 2
    wait_until(both_serving, timeout=45, what="the second tally consumer to come up (two pids answering)",
               context=system.logs)
    register(system, 40)
    stats = settles_exactly_once(system, upstream_page(system)["max_position"], timeout=60)
    assert len(stats["by_pid"]) == 2, stats  # both processes really processed events


def test_a_relay_killed_between_publishing_and_recording_publishes_again_and_nothing_doubles(system):
    with captured_events(system.amqp_uri) as events:
        system.start_service("tally")
        # Events recorded before the service starts: its relay publishes them, then dies before
        # it records how far it got.
        from services.application.definition import DEFINITION, make_store
        from tests.support.inprocess import in_process

        store = make_store(system.settings())
        service = in_process(DEFINITION, store, store.issuer)
        for i in range(3):
            service.call("register_enterprise", None, [{"username": f"early-{i}", "password": "Secret-pass-1",
                                                        "uscc": b.uscc(serial=100 + i), "name": f"早期企业{i}",
                                                        "county_code": "130102"}])
        expected = store.max_position()
        store.close()
        crashing = system.start("services.application.service:Service", "tally.stats", HBCLOUD_FAULT_CRASH_AFTER_PUBLISH="1")
        wait_until(lambda: crashing.poll() is not None, timeout=45, what="the relay to crash after publishing",
                   context=system.logs)
        assert crashing.returncode == 70
        events.drain(until=lambda received: len(received) >= expected, what=f"the crashed relay's {expected} events",
                     context=system.logs)
        assert not events.quiet(1.0)  # exactly those: published and confirmed, but the position was not recorded
        system.start_service("application")
        events.drain(until=lambda received: len(received) >= 2 * expected,
                     what=f"the restarted relay to publish the {expected} events again", context=system.logs)
        assert not events.quiet(1.0)  # and only once again
        messages = events.received
        positions = sorted(body(m)["position"] for m in messages)
        assert positions == sorted(list(range(1, expected + 1)) * 2)  # every event went out twice
    settles_exactly_once(system, expected)


def test_a_poison_event_is_parked_visibly_and_an_operator_retries_it_after_the_fix(system, tmp_path):
    cure = tmp_path / "cure"
    system.start_service("application")
    system.start_service("tally", TALLY_CURE_FILE=str(cure))
    register(system, 1)
    register(system, 1, start=1, name="POISON 测试企业{i}")
    register(system, 1, start=2)
    total = upstream_page(system)["max_position"]
    stats = wait_until(lambda: (s := tally_stats(system))["tracked"] >= total and s, timeout=45,
                       what=f"tally to track position {total} past the poison event", context=system.logs)
    assert stats["recorded"] == total - 1, system.logs()  # later events were not blocked
    with system.rpc() as c:
        parked = c.tally.parked()
        assert len(parked) == 1 and parked[0]["event_type"] == "application.enterprise_registered"
        assert "RuntimeError" in parked[0]["error"] and parked[0]["attempts"] == 3
        assert c.tally.retry(parked[0]["id"]) is False  # not fixed yet: stays parked
        cure.touch()
        assert c.tally.retry(parked[0]["id"]) is True
        assert c.tally.parked() == []
    settles_exactly_once(system, total)


def test_a_follower_keeps_pulling_after_its_first_service_token_would_have_expired(system):
    """The token a service pulls its upstream with lasts 8 hours; it is renewed by the injected
    clock, so catch-up does not fail from then on until a restart."""
    system.start_service("application")
    system.start_service("tally", HBCLOUD_CATCH_UP_SECONDS="1")
    register(system, 1)
    settles_exactly_once(system, upstream_page(system)["max_position"])
    system.clock_file.write_text("2018-12-03T19:30:00+08:00")  # 9½ hours later: every pull needs a live token
    register(system, 2, start=1)
    settles_exactly_once(system, upstream_page(system)["max_position"])
