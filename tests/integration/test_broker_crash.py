"""The broker dies (SIGKILL) with RPC calls in flight: the service must not die with it. nameko
kills a whole container when it cannot send a reply or an acknowledgement; the kit logs those
instead (shared/nameko_service.py), and the service answers again once the broker is back. On a
broker of the test's own (its own node, port and data), so nothing else is disturbed; these tests
use a fixed port and node name, so never run two of them at once."""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Iterator

import pytest

from shared.errors import ServiceError
from tests.support.inprocess import prepared_applications
from tests.support.own_broker import OwnBroker
from tests.support.own_broker import own_broker as started_own_broker
from tests.support.system import TOKEN_SECRET, System, wait_until

PORT = 5699


@pytest.fixture
def own_broker() -> Iterator[OwnBroker]:
    with started_own_broker("hbcrash@localhost", PORT) as broker:
        yield broker


def test_a_broker_killed_under_load_does_not_kill_the_service(tmp_path, own_broker):
    own_broker.wait_listening()
    (tmp_path / "system").mkdir()
    system = System(tmp_path / "system", f"amqp://guest:guest@127.0.0.1:{PORT}//")
    system.bootstrap()
    try:
        service = system.start_service("application")
        stop = threading.Event()

        def keep_calling() -> None:
            while not stop.is_set():
                try:
                    with system.rpc() as c:
                        while not stop.is_set():
                            c.application.reference_data("divisions")
                except Exception:
                    time.sleep(0.2)  # the broker is gone: try again

        callers = [threading.Thread(target=keep_calling, daemon=True) for _ in range(12)]
        for t in callers:
            t.start()
        time.sleep(2)  # calls in flight
        own_broker.kill()
        time.sleep(3)
        assert service.poll() is None, "the service died with the broker:\n" + system.logs()
        own_broker.start()

        def answers() -> bool:
            try:
                with system.rpc() as c:
                    return bool(c.application.reference_data("contacts"))
            except ServiceError:
                return True
            except Exception:
                return False

        # the kit's consumer tries to reconnect every 2 s (nameko's own backoff grew to 30 s)
        wait_until(answers, timeout=60, what="the service to answer again after the broker came back",
                   context=system.diagnosis)
        stop.set()
        assert service.poll() is None, system.logs()
    finally:
        system.close()


def test_an_acknowledgement_the_dead_broker_cannot_receive_does_not_kill_the_service():
    """What the load test below found: a worker that ends after the broker died acks on a dead socket;
    nameko caught only amqp's ConnectionError, so ConnectionResetError or BrokenPipeError killed the
    whole container. The kit logs it instead: the broker delivers an unacknowledged message again."""
    from unittest import mock

    from nameko.messaging import QueueConsumer

    import shared.nameko_service  # noqa: F401  (the kit's QueueConsumer behaviour)

    for settle, method in ((QueueConsumer.ack_message, "ack"), (QueueConsumer.requeue_message, "requeue")):
        for error in (ConnectionResetError(104, "Connection reset by peer"), BrokenPipeError(32, "Broken pipe")):
            message = mock.Mock()
            getattr(message, method).side_effect = error
            settle(mock.Mock(), message)  # logged, not raised
            getattr(message, method).assert_called_once()


def test_a_prompt_wakes_the_follower_and_never_waits_for_it():
    """What the load test below found next: a prompt that pulled in the worker waited for the
    follower's lock, held through an RPC to the upstream; such prompts took every worker of both
    services, each waiting for the other's. A prompt now only wakes the follower's own thread."""
    from types import SimpleNamespace

    from shared.nameko_service import Caller, Wake

    class Busy:
        """A follower in the middle of a pull: anyone who pulls or waits for it fails the test."""

        def tracked(self) -> int:
            return 5

        def prompt(self, message: Any) -> None:
            raise AssertionError("the worker pulled")

        catch_up = prompt

    wake = Wake()
    caller = Caller(SimpleNamespace(runtime=SimpleNamespace(followers={"review": Busy()})), None, {"review": wake})
    caller.prompt("review", {"position": 5})  # already processed: wakes nothing
    began = time.monotonic()
    wake.wait(0.2)
    assert time.monotonic() - began >= 0.2
    for message in ({"position": 6}, {"position": 7}, {"position": "junk"}, "junk"):
        caller.prompt("review", message)  # returns at once; the wake-ups coalesce into one
    began = time.monotonic()
    wake.wait(5)
    wake.wait(0.2)
    assert 0.2 <= time.monotonic() - began < 1


LOAD = int(os.environ.get("HBCLOUD_LOAD_SUBMISSIONS", "200"))


def test_submissions_through_a_killed_service_and_a_dead_broker_are_each_recorded_once(tmp_path, own_broker):
    """Concurrent portals submit, retrying with their idempotency keys whatever fails; meanwhile the
    broker is SIGKILLed and stays down 20 s, and once it is back the application service and the
    review service are SIGKILLed and restarted, each fault with most submissions still in flight.
    Afterwards: every application submitted exactly once, one review case each, nothing parked, and
    both services (as restarted) still running: the broker's death kills neither. Prints when each
    fault came and how many submissions had been answered by then. 200 submissions (the issue's
    number; HBCLOUD_LOAD_SUBMISSIONS for another): about 90 s, a quarter of it preparing them."""
    from shared.client import cluster

    base = tmp_path / "system"
    base.mkdir()
    n = LOAD
    t0 = time.monotonic()
    prepared = prepared_applications(base / "data", n, TOKEN_SECRET, processes=2)  # while the broker starts
    t_prepared = time.monotonic() - t0
    own_broker.wait_listening()
    system = System(base, f"amqp://guest:guest@127.0.0.1:{PORT}//")
    try:
        application, review = system.start_services("application", "review")
        print(f"{n} applications prepared in {t_prepared:.1f} s; services answer at {time.monotonic() - t0:.1f} s")
        answered: dict[str, Any] = {}

        def submit(token: str, app_id: str) -> None:
            deadline = time.monotonic() + 240
            while app_id not in answered and time.monotonic() < deadline:
                try:
                    with cluster(system.amqp_uri, token, timeout=10) as c:
                        answered[app_id] = c.application.submit(app_id, idempotency_key=f"submit-{app_id}")
                except Exception:
                    time.sleep(0.5)  # the broker or the service is away: the portal retries the same key

        began = time.monotonic()
        faults: list[str] = []
        portals = [threading.Thread(target=submit, args=p, daemon=True) for p in prepared]
        for t in portals:
            t.start()

        def note(what: str, broker_up: bool = True) -> None:
            queues = f"; {system.queue_depths()}" if broker_up else ""
            faults.append(f"{time.monotonic() - began:.1f} s: {what} ({len(answered)} of {n} answered{queues})")

        def answered_at_least(count: int) -> None:
            wait_until(lambda: len(answered) >= count, timeout=60, interval=0.05, what=f"{count} submissions answered",
                       context=lambda: "; ".join(faults) + "\n" + system.diagnosis())

        answered_at_least(n // 10)  # submissions flow
        note("broker killed")
        own_broker.kill()
        time.sleep(20)
        note("broker restarting", broker_up=False)
        own_broker.start()
        note("broker listening")
        answered_at_least(len(answered) + n // 20)  # they flow again, most of them still to come
        note("application and review killed")
        system.stop(application, kill=True)
        system.stop(review, kill=True)
        application, review = system.start_services("application", "review")
        note("application and review answer again")
        for t in portals:
            t.join(timeout=240)
        note("portals done")
        print("; ".join(faults))
        assert len(answered) == n, f"{n - len(answered)} submissions never answered ({'; '.join(faults)})\n" + system.diagnosis()

        def whole_log() -> list[dict[str, Any]] | None:
            """The application's log, page by page; None while the service does not answer."""
            found: list[dict[str, Any]] = []
            try:
                with cluster(system.amqp_uri, system.province_token(), timeout=10) as c:
                    while True:
                        page = c.application.get_notifications(found[-1]["position"] if found else 0, 1000)
                        found += page["notifications"]
                        if not page["notifications"] or found[-1]["position"] >= page["max_position"]:
                            return found
            except Exception:
                return None  # the services reconnect to the restarted broker with a backoff

        events = wait_until(whole_log, timeout=60, what="the application service to answer again",
                            context=system.diagnosis)
        submitted = [e["application_id"] for e in events if e["type"] == "application.submitted"]
        assert sorted(submitted) == sorted(app_id for _, app_id in prepared)  # each once: nothing lost, nothing doubled
        head = events[-1]["position"]

        def review_caught_up() -> dict[str, Any] | None:
            try:
                with cluster(system.amqp_uri, system.province_token(), timeout=10) as c:
                    health: dict[str, Any] = c.review.health()
            except Exception:
                return None
            return health if health["tracked"]["application"] >= head else None

        health = wait_until(review_caught_up, timeout=60, what="review to process every application event",
                            context=system.diagnosis)
        assert health["parked"] == 0
        with system.rpc(system.province_token()) as c:
            assert c.review.progress("2018")["cases_total"] == n
        assert application.poll() is None and review.poll() is None, system.diagnosis()
        print(f"all checked at {time.monotonic() - t0:.1f} s")
    finally:
        system.close()
