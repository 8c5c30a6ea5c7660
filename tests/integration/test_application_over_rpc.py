"""The application service as portals meet it: over the real broker, in its own process."""
from __future__ import annotations

import pytest

from shared.contract import read_envelope
from shared.errors import Ineligible, InvalidInput, NotAuthenticated, NotFound, RateLimited
from shared.identity import Principal, Role, TokenIssuer
from shared.clock import SystemClock
from tests.support import builders as b
from tests.support.system import body, captured_events, raw_text


def test_an_enterprise_goes_from_registration_to_a_submitted_application(system):
    with captured_events(system.amqp_uri) as events:
        system.start_service("application")
        province = system.province_token()
        system.open_2018(province)
        system.register("steelworks")
        token = system.login("steelworks", "Secret-pass-1")
        with system.rpc(token) as c:
            app = c.application
            app_id = app.start_application("2018")["application_id"]
            with pytest.raises(Ineligible) as e:  # typed errors arrive as the same class
                app.submit(app_id)
            assert "pledge" in {r["rule"] for r in e.value.details["rules"]}
            with pytest.raises(InvalidInput) as e:
                app.update_section(app_id, "enterprise", {"postal_code": "1"})
            assert "postal_code" in e.value.details["fields"]
            b.fill_complete(app, app_id)
            first = app.submit(app_id, idempotency_key="submit-1")
            again = app.submit(app_id, idempotency_key="submit-1")  # a portal retrying after a timeout
            assert first == again and first["status"] == "submitted"
            assert app.get_application(app_id)["status"] == "submitted"
        with system.rpc(province) as c:
            listed = c.application.list_applications({"status": "submitted"})
            assert [i["application_id"] for i in listed["items"]] == [app_id]
            max_position = c.application.get_notifications(0, 1)["max_position"]

        messages = events.drain(until=lambda received: len(received) >= max_position,
                                what=f"the {max_position} events published so far on the subscriber's queue",
                                context=system.logs)
        envelopes = [body(m) for m in messages]
        assert [e["position"] for e in envelopes] == list(range(1, max_position + 1))
        for message, envelope in zip(messages, envelopes):
            read_envelope(envelope)  # the public schema holds
            assert message.content_type == "application/json"
            assert "__type__" not in raw_text(message) and "password_hash" not in raw_text(message)
            assert not any("auth" in k.lower() or "token" in k.lower() for k in (message.headers or {}))
            assert message.delivery_info["routing_key"] == envelope["type"]
        submitted = [e for e in envelopes if e["type"] == "application.submitted"][0]
        assert submitted["application_id"] == app_id and submitted["actor"]["role"] == "enterprise"
        assert submitted["data"]["content"]["contracts"][0]["total_amount"] == "60000.00"


def test_missing_and_forged_tokens_and_other_enterprises_learn_nothing(system):
    system.start_service("application")
    system.open_2018(system.province_token())
    for i, name in enumerate(["first-ent", "second-ent"], start=1):
        system.register(name, serial=i, name=f"企业{i}有限公司")
    with system.rpc(system.login("first-ent", "Secret-pass-1")) as c:
        app_id = c.application.start_application("2018")["application_id"]
    with system.rpc(system.login("second-ent", "Secret-pass-1")) as c:
        with pytest.raises(NotFound):
            c.application.get_application(app_id)
    forged = TokenIssuer("a-guessed-secret-that-is-long-enough!!", SystemClock()).issue(Principal("x", Role.PROVINCE))
    for token in (None, forged):
        with system.rpc(token) as c:
            with pytest.raises(NotAuthenticated):
                c.application.list_applications({})


def test_a_service_refuses_to_start_without_a_token_secret(system):
    with pytest.raises(RuntimeError) as refused:
        system.start_service("application", HBCLOUD_TOKEN_SECRET="")
    assert "no token secret" in str(refused.value)


def test_password_hashing_does_not_stall_other_callers(system):
    """argon2 at production strength runs off the event loop: fifteen wrong sign-ins at once leave
    another caller's query quick (it took 3.1 s when hashing ran on the loop)."""
    import threading
    import time

    system.start_service("application", HBCLOUD_PASSWORD_HASH_PROFILE="RFC_9106_LOW_MEMORY",
                         HBCLOUD_PASSWORD_HASH_CONCURRENCY="1")  # the production settings
    system.open_2018(system.province_token())

    def wrong_sign_in(i: int) -> None:
        with system.rpc() as c:
            with pytest.raises((NotAuthenticated, RateLimited)):  # beyond the hashing slots: come back later
                c.application.login({"username": f"someone-{i}", "password": "Wrong-pass-1"})

    with system.rpc() as c:
        c.application.get_campaign("2018")  # connections made before measuring
        threads = [threading.Thread(target=wrong_sign_in, args=(i,)) for i in range(15)]
        for t in threads:
            t.start()
        slowest = 0.0
        while any(t.is_alive() for t in threads):
            started = time.monotonic()
            c.application.get_campaign("2018")
            slowest = max(slowest, time.monotonic() - started)
        for t in threads:
            t.join()
    assert slowest < 1.0, f"a query waited {slowest:.2f} s behind password hashing"
