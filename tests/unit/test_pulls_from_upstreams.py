"""A follower's pulls from its upstreams: its own credential, renewed by the injected clock before it
expires and at once when a pull is refused as expired; a failed pull tried again soon."""
from __future__ import annotations

from shared.identity import ServiceCredential, TokenIssuer

SECRET = "unit-test-secret-at-least-32-bytes-long"


def upstream_log(monkeypatch, answer):
    """The follower's UpstreamLog for `application`, whose RPC proxy calls `answer(token)` for each
    `get_notifications`: the token the pull presented, as the upstream would check it."""
    from shared import nameko_service
    from shared.config import settings_from_env

    class Upstream:
        def __init__(self, config, context_data, timeout):
            self.token = context_data[nameko_service.AUTH_HEADER]

        def start(self):
            return self

        def stop(self):
            pass

        @property
        def application(self):
            return self

        def get_notifications(self, after, limit):
            return answer(self.token)

    monkeypatch.setattr(nameko_service, "ClusterRpcProxy", Upstream)
    return nameko_service.UpstreamLog("application", settings_from_env({"HBCLOUD_TOKEN_SECRET": SECRET}))


def test_the_service_credential_is_renewed_before_it_expires(clock):
    issuer = TokenIssuer(SECRET, clock)
    credential = ServiceCredential(issuer)
    first = credential.token()
    clock.advance(hours=1)
    assert credential.token() == first  # still young: kept
    clock.advance(hours=8)  # the first token has expired by now
    renewed = credential.token()
    assert renewed != first and issuer.verify(renewed).role.value == "service"


def test_a_pull_refused_as_expired_is_made_again_at_once_with_a_new_token(clock, monkeypatch):
    """The clock jumped past the token between its issue and the upstream's check (a replayed
    campaign's clock moves by days): the follower does not wait for its next timed pull."""
    from shared.errors import NotAuthenticated

    issuer = TokenIssuer(SECRET, clock)
    seen: list[str] = []

    def answer(token):  # the upstream checks the token on its own (jumped) clock
        seen.append(token)
        if len(seen) == 1:
            clock.advance(days=3)  # while the first call was on its way
        issuer.verify(token)  # raises NotAuthenticated(expired_token) for the first
        return {"notifications": [], "max_position": 0}

    log = upstream_log(monkeypatch, answer)
    log.credential = ServiceCredential(issuer)
    assert log(after=0, limit=10) == {"notifications": [], "max_position": 0}
    assert len(seen) == 2 and seen[0] != seen[1]
    try:
        issuer.verify(seen[0])
        raise AssertionError("the first token should have expired")
    except NotAuthenticated as e:
        assert e.to_dict()["details"]["reason"] == "expired_token"


def test_a_failed_pull_is_tried_again_within_a_quarter_second_backing_off_to_the_interval():
    """A follower's pull (or the relay's run) that failed is not left for a whole interval: its
    events would wait seconds for what usually passes at once."""
    from shared.nameko_service import run_forever

    outcomes = iter([RuntimeError("upstream restarting")] * 5 + [None, RuntimeError("again"), None])
    pauses: list[float] = []

    class Enough(BaseException):
        pass

    def job() -> None:
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 8:
            raise Enough

    class Container:
        def spawn_managed_thread(self, fn):
            try:
                fn()
            except Enough:
                pass

    run_forever(Container(), 5.0, job, "catch-up from application", pause=pause)
    assert pauses == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 0.25, 5.0]


def test_a_pull_refused_for_another_reason_is_not_made_again(clock, monkeypatch):
    """A token the upstream cannot verify at all (another secret) is no passing race: one call, and the
    refusal goes to the follower's loop, which logs it and backs off."""
    import pytest

    from shared.errors import NotAuthenticated

    calls: list[str] = []

    def answer(token):
        calls.append("pull")
        raise NotAuthenticated({"reason": "invalid_token"})

    log = upstream_log(monkeypatch, answer)
    with pytest.raises(NotAuthenticated):
        log(after=0, limit=10)
    assert calls == ["pull"]
