"""Events go out when they are recorded, not at the relay's next look: a command's events, and the
events a follower records on processing an upstream's, are published at once even when the relay
looks only every minute (HBCLOUD_RELAY_SECONDS is then only the fallback)."""
from __future__ import annotations

import time

from tests.support import builders as b
from tests.support.system import body, captured_events, wait_until

SLOW_RELAY = {"HBCLOUD_RELAY_SECONDS": "60"}


def test_commands_and_followed_events_are_published_without_waiting_for_the_relays_interval(system, amqp_uri):
    with captured_events(amqp_uri, "application") as capture:
        system.start_service("application", **SLOW_RELAY)
        system.start_service("review", **SLOW_RELAY)
        province = system.province_token()
        capture.drain(lambda got: any(body(m)["type"] == "application.account_password_changed" for m in got),
                      what="the bootstrap's events, published at start", context=system.logs)
        began = time.monotonic()
        system.open_2018(province)
        capture.drain(lambda got: any(body(m)["type"] == "application.campaign_opened" for m in got),
                      what="the campaign's opening", timeout=20, context=system.logs)
        assert time.monotonic() - began < 20  # well before the relay's next look, a minute on

    system.register("steelworks")
    with system.rpc(system.login("steelworks", "Secret-pass-1")) as c:
        app_id = c.application.start_application("2018")["application_id"]
        b.fill_complete(c.application, app_id)
        c.application.submit(app_id)
    began = time.monotonic()

    def review_published_its_case() -> bool:
        with system.rpc(province) as c:
            health = c.review.health()
        return bool(health["max_position"] > 0 and health["published_position"] == health["max_position"])

    wait_until(review_published_its_case, timeout=20, what="the review service to publish the case it opened",
               context=system.logs)
    assert time.monotonic() - began < 20
