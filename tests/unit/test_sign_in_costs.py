"""Sign-in and registration cannot be used to learn user names or to stall the service: an unknown
name costs the same password hashing as a wrong password, and registration is rate limited."""
from __future__ import annotations

import pytest

from shared import identity
from shared.errors import NotAuthenticated, RateLimited
from tests.support import builders as b
from tests.support.inprocess import Harness


@pytest.fixture
def h(tmp_path, clock) -> Harness:
    return Harness(f"sqlite:///{tmp_path / 'application.sqlite'}", clock)


def test_an_unknown_user_name_costs_the_same_hashing_as_a_wrong_password(h, monkeypatch):
    h.enterprise("steelworks")
    hashed: list[str] = []

    def counting(fn, *args):
        hashed.append(fn.__name__)
        return fn(*args)

    monkeypatch.setattr(identity, "offload", counting)
    for username in ("steelworks", "nobody-at-all"):
        hashed.clear()
        with pytest.raises(NotAuthenticated):
            h.login(username, "Wrong-pass-1")
        assert hashed == ["_verify"], username


def test_registration_is_rate_limited_by_the_injected_clock(h, monkeypatch):
    monkeypatch.setattr(h.service.limits["register_enterprise"], "per_minute", 2)
    before = h.store.max_position()

    def register(serial: int) -> None:
        h.anonymous.register_enterprise({"username": f"ent-{serial}", "password": "Secret-pass-1",
                                         "uscc": b.uscc(serial=serial), "name": f"企业{serial}有限公司", "county_code": "130102"})

    register(1)
    register(2)
    with pytest.raises(RateLimited) as limited:
        register(3)
    assert limited.value.details["retry_after"] > h.clock.now().isoformat()
    assert h.store.max_position() > before
    h.clock.advance(minutes=1)
    register(3)
