"""What fuzzing and an attacker found, each refused with a typed error naming the field, and nothing
recorded (the property test in tests/contract runs generated input through every operation)."""
from __future__ import annotations

import pytest

from shared.errors import InvalidInput
from tests.support import builders as b
from tests.support.inprocess import Harness


@pytest.fixture
def h(tmp_path, clock) -> Harness:
    harness = Harness(f"sqlite:///{tmp_path / 'application.sqlite'}", clock)
    harness.open_2018()
    return harness


def refused(h: Harness, call, *args, **kwargs) -> dict:
    before = h.store.max_position()
    with pytest.raises(InvalidInput) as e:
        call(*args, **kwargs)
    assert h.store.max_position() == before
    fields: dict = e.value.details["fields"]
    return fields


def test_numbers_beyond_any_sense_are_refused(h):
    ent = h.enterprise("steelworks")
    app_id = ent.start_application("2018")["application_id"]
    assert "employees" in refused(h, ent.update_section, app_id, "enterprise", {"employees": 10**100})
    contract = b.CONTRACTS[0] | {"amount": "1e28"}
    assert "amount" in refused(h, ent.save_contract, app_id, contract)
    assert "version" in refused(h, ent.get_application, app_id, True)
    assert "after" in refused(h, h.province.get_notifications, 2**63)
    assert "parked_id" in refused(h, h.province.retry_parked_event, "review", "1")


def test_text_with_control_characters_or_lone_surrogates_is_refused(h):
    base = {"username": "steelworks", "password": "Secret-pass-1", "uscc": b.uscc(serial=1),
            "name": "石家庄某钢结构有限公司", "county_code": "130102"}
    assert "name" in refused(h, h.anonymous.register_enterprise, base | {"name": "石家庄\x00钢结构"})
    assert "name" in refused(h, h.anonymous.register_enterprise, base | {"name": "石家庄\ud800钢结构"})
    assert "username" in refused(h, h.anonymous.login, {"username": "nobody\udfff", "password": "x"})


def test_a_list_or_an_object_where_a_name_is_expected_is_refused(h):
    ent = h.enterprise("steelworks")
    app_id = ent.start_application("2018")["application_id"]
    assert "section" in refused(h, ent.update_section, app_id, ["enterprise"], {"employees": 1})
    assert "role" in refused(h, h.province.list_accounts, {"role": "x"})
    assert "application_id" in refused(h, ent.get_application, {"id": app_id})


def test_keys_longer_than_kept_and_absurd_nesting_are_refused(h):
    ent = h.enterprise("steelworks")
    assert "idempotency_key" in refused(h, ent.start_application, "2018", idempotency_key="k" * 300)
    deep: dict = {}
    for _ in range(100):
        deep = {"d": deep}
    app_id = ent.start_application("2018")["application_id"]
    assert "values" in refused(h, ent.update_section, app_id, "enterprise", deep)


def test_what_the_docs_review_found_is_refused_with_a_typed_error(tmp_path, clock):
    from shared.errors import Forbidden
    from shared.identity import SYSTEM
    from tests.support.review_inprocess import Both

    both = Both(tmp_path, clock)
    h = both.app
    with pytest.raises(InvalidInput) as e:  # a page no list has: refused, not an overflow inside
        both.review(h.province).worklist({"page": 2**62})
    assert "page" in e.value.details["fields"]
    assert "username" in refused(h, h.anonymous.login, {"username": "u" * 65, "password": "x"})
    with pytest.raises(Forbidden):  # the system's own token has no password to change
        h.as_token(h.issuer.issue(SYSTEM)).change_password({"old_password": "x" * 10, "new_password": "y1" * 6})


def test_an_application_outside_the_callers_reach_is_not_found_before_its_input_is_judged(h):
    ent = h.enterprise("steelworks")
    app_id = ent.start_application("2018")["application_id"]
    other = h.enterprise("another", serial=2)
    from shared.errors import NotFound
    with pytest.raises(NotFound):
        other.update_section(app_id, "no-such-section", {"employees": -1})
