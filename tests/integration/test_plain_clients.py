"""Callers that are not this repository: the plain-kombu RPC client of docs/rpc.md
(examples/plain_rpc_client.py, no nameko, no project imports) run as a separate program against the
running application service. Its errors must arrive as JSON with their types intact, the same
payload a Python caller gets as a typed error."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from shared.errors import Ineligible
from tests.support.system import ROOT


def plain_call(system: Any, method: str, args: list[Any], kwargs: dict[str, Any] | None = None,
               token: str | None = None, service: str = "application") -> dict[str, Any]:
    command = [sys.executable, str(ROOT / "examples" / "plain_rpc_client.py"), system.amqp_uri, service, method,
               json.dumps(args), json.dumps(kwargs or {})] + ([token] if token else [])
    # A clean environment: the example must not need anything of this repository.
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd="/", env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    reply: dict[str, Any] = json.loads(done.stdout)
    return reply


def test_a_plain_kombu_client_calls_and_reads_typed_errors_as_json(system):
    system.start_service("application")
    ok = plain_call(system, "reference_data", ["contacts"])
    assert ok["error"] is None and ok["result"]
    province = system.province_token()
    system.open_2018(province)
    system.register("steelworks")
    token = plain_call(system, "login", [{"username": "steelworks", "password": "Secret-pass-1"}])["result"]["token"]
    app_id = plain_call(system, "start_application", ["2018"], token=token)["result"]["application_id"]

    refused = plain_call(system, "submit", [app_id], token=token)["error"]
    assert refused["exc_type"] == "Ineligible"
    payload = refused["payload"]
    assert payload["code"] == "ineligible" and payload["message_zh"] and payload["message_en"]
    with system.rpc(token) as c, pytest.raises(Ineligible) as typed:
        c.application.submit(app_id)
    assert payload == typed.value.to_dict()  # the same JSON, numbers and lists intact
    assert isinstance(payload["details"]["rules"], list) and payload["details"]["rules"][0]["rule"]

    bad = plain_call(system, "login", [{"username": 12, "password": None}])["error"]["payload"]
    assert bad["code"] == "invalid_input" and set(bad["details"]["fields"]) == {"username", "password"}
    anonymous = plain_call(system, "whoami", [])["error"]["payload"]
    assert anonymous["code"] == "not_authenticated" and anonymous["details"] == {"reason": "missing_token"}


def test_a_rejected_call_is_one_warning_line_in_the_service_log(system):
    system.start_service("application")
    plain_call(system, "whoami", [])  # no token
    plain_call(system, "login", [{"username": "x" * 10_000, "password": None}])  # absurd input
    log = system.logs()
    rejected = [line for line in log.splitlines() if "rejected" in line]
    assert all(" WARNING " in line for line in rejected), rejected
    assert any("application.whoami" in line for line in rejected) and any("application.login" in line for line in rejected)
    assert "Traceback" not in log and "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" not in log


def raw_request(system: Any, body: str, timeout: float = 10.0) -> dict[str, Any]:
    """A request body as sent, not as a JSON library would make it."""
    import uuid

    from kombu import Connection, Exchange, Producer, Queue

    exchange = Exchange("nameko-rpc", type="topic", durable=True)
    key = f"raw-{uuid.uuid4()}"
    replies: list[Any] = []
    with Connection(system.amqp_uri) as conn:
        channel = conn.channel()
        queue = Queue(key, exchange=exchange, routing_key=key, exclusive=True, auto_delete=True)
        queue(channel).declare()
        Producer(channel).publish(body, exchange=exchange, routing_key="application.reference_data",
                                  content_type="application/json", content_encoding="utf-8", reply_to=key,
                                  correlation_id="raw-1")
        with conn.Consumer(queue, callbacks=[lambda b, m: (replies.append(b), m.ack())], accept=["json"]):
            conn.drain_events(timeout=timeout)
    reply: dict[str, Any] = replies[0]
    return reply


def test_a_body_that_is_not_json_or_nested_absurdly_gets_an_answer_and_one_log_line(system):
    system.start_service("application")
    for body in ("this is {not json", "[" * 100_000 + "]" * 100_000, json.dumps({"args": [[[[[["x"]]]]] * 40], "kwargs": {}})):
        reply = raw_request(system, body)
        assert reply["result"] is None and reply["error"]["exc_type"] == "InvalidInput"
        assert json.loads(reply["error"]["exc_args"][0])["code"] == "invalid_input"
    log = system.logs()
    assert "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" not in log and len(log) < 60_000
    with system.rpc() as c:  # and the service is none the worse
        assert c.application.reference_data("contacts")


def test_json_of_the_wrong_shape_is_invalid_input_like_a_body_that_is_not_json(system):
    """An outsider's probe: a JSON array, string or number, or `args` that is not a list (nameko spread a
    string's characters as arguments) or `kwargs` that is not an object, answered a bare TypeError."""
    system.start_service("application")
    for body in ("[1, 2]", '"hello"', "12", json.dumps({"args": "contacts", "kwargs": {}}),
                 json.dumps({"args": {"name": "contacts"}, "kwargs": {}}), json.dumps({"args": [], "kwargs": []})):
        reply = raw_request(system, body)
        assert reply["error"]["exc_type"] == "InvalidInput", (body, reply)
        assert json.loads(reply["error"]["exc_args"][0])["details"]["fields"]["body"]
    with system.rpc() as c:
        assert c.application.reference_data("contacts")


def test_the_example_subscriber_catches_up_and_follows_awards_revocations_and_bans(tmp_path, amqp_uri):
    """examples/subscriber.py, run as another government system would run it (no project on its
    path): it catches up from position 0, stops, and on its next run resumes where it stopped,
    finding the ban and the revoked title that a fraud decision caused meanwhile."""
    from datetime import datetime

    from shared.clock import SHANGHAI, FixedClock
    from tests.support.audit_inprocess import Five
    from tests.support.system import PROVINCE, TOKEN_SECRET, System

    system = System(tmp_path, amqp_uri)
    data = tmp_path / "data"
    data.mkdir()
    five = Five(data, FixedClock(datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI)), secret=TOKEN_SECRET)
    apps = five.awarded(2)
    five.app.provision("gov-credit", "subscriber")  # 信用中国（河北）, say
    five.close()
    system.clock_file.write_text("2019-06-01T09:00:00+08:00")
    state = tmp_path / "register.json"

    def subscribe() -> dict[str, Any]:
        done = subprocess.run([sys.executable, str(ROOT / "examples" / "subscriber.py"), system.amqp_uri, "gov-credit",
                               "gov-credit-Own-pass-2018", str(state), "--until-idle", "3"],
                              capture_output=True, text=True, timeout=120, cwd="/", env={"PATH": "/usr/bin:/bin"})
        assert done.returncode == 0, done.stdout + done.stderr
        register: dict[str, Any] = json.loads(state.read_text(encoding="utf-8"))
        return register

    try:
        for name in ("application", "review", "scoring", "subsidy", "audit"):
            system.start_service(name)
        first = subscribe()
        assert sorted(first["benchmarks"]) == sorted(apps) and first["bans"] == {}
        with system.rpc(system.login(*PROVINCE)) as c:
            c.audit.decide_fraud({"application_id": apps[0], "outcome": "fraud", "reasons": ["上云合同系伪造"],
                                  "grounds": {"kind": "report", "reference": "群众举报"}}, idempotency_key="d1")

        def revoked() -> dict[str, Any] | None:
            with system.rpc(system.login(*PROVINCE)) as c:
                kinds = {n["type"] for n in c.scoring.get_notifications(0, 1000)["notifications"]}
            return {"kinds": kinds} if "scoring.award_revoked" in kinds else None
        from tests.support.system import wait_until
        wait_until(revoked, timeout=60, what="the revocation", context=system.logs)
        second = subscribe()
        uscc = second["benchmarks"][apps[0]]["uscc"]
        assert second["benchmarks"][apps[0]]["revoked"] and second["benchmarks"][apps[1]]["revoked"] is None
        assert [b["ends_on"] for b in second["bans"][uscc]] == ["2022-05-31"]
        assert second["positions"]["scoring"] > first["positions"]["scoring"]
    finally:
        system.close()
        from kombu import Connection

        with Connection(amqp_uri) as conn:  # the subscriber's durable queue is its own: ours to remove here
            conn.channel().queue_delete("subscriber-gov-credit")
