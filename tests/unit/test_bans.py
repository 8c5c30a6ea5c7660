"""Bans (三年内不得申报): a ban without an end of its own lasts the `ban_years` of the campaign opened
last when it is decided, whether the province records it or audit decides it; never a number
written in the code."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from services.application.definition import DEFINITION as APPLICATION
from shared.clock import ban_end
from shared.clock import SHANGHAI
from shared.definition import record
from shared.errors import InvalidInput
from shared.follower import dispatch
from tests.support import builders as b
from tests.support.inprocess import Harness

USCC = b.uscc("130102", 77)


@pytest.fixture
def h(tmp_path, clock) -> Harness:
    return Harness(f"sqlite:///{tmp_path / 'application.sqlite'}", clock)


def campaign(code: str, ban_years: int) -> dict:
    return b.campaign_2018() | {"code": code, "name": f"{code}年河北省企业上云标杆企业评选", "ban_years": ban_years}


def audit_ban(event_id: str, occurred_at: str, **data: str) -> dict:
    """audit.enterprise_banned as the audit service will publish it."""
    return {"event_id": event_id, "type": "audit.enterprise_banned", "schema_version": 1, "source": "audit",
            "position": 1, "occurred_at": occurred_at, "aggregate_id": "spot-check-1", "aggregate_version": 1,
            "application_id": None, "actor": {"id": "auditor-1", "role": "auditor"},
            "data": {"uscc": USCC, "reason": "抽查发现弄虚作假", **data}}


def test_a_ban_lasts_the_ban_years_of_the_campaign_opened_last(h):
    h.province.open_campaign(campaign("2018", 3))
    first = h.province.record_ban({"uscc": USCC, "reason": "弄虚作假", "starts_on": "2018-12-01"})
    assert (first["ends_on"], first["ban_years_of"]) == ("2021-11-30", "2018")
    h.clock.advance(days=1)
    h.province.open_campaign(campaign("2019", 5))
    second = h.province.record_ban({"uscc": USCC, "reason": "弄虚作假", "starts_on": "2018-12-01"})
    assert (second["ends_on"], second["ban_years_of"]) == ("2023-11-30", "2019")
    given = h.province.record_ban({"uscc": USCC, "reason": "弄虚作假", "starts_on": "2018-12-01", "ends_on": "2019-06-30"})
    assert (given["ends_on"], given["ban_years_of"]) == ("2019-06-30", None)  # an end of its own wins
    assert [ban["ends_on"] for ban in h.province.bans_of(USCC)] == ["2021-11-30", "2023-11-30", "2019-06-30"]


def test_an_audit_ban_takes_the_campaign_opened_last_when_audit_decided_it(h):
    h.province.open_campaign(campaign("2018", 3))
    h.clock.set(datetime(2019, 3, 1, 9, 0, tzinfo=SHANGHAI))
    h.province.open_campaign(campaign("2019", 4))
    handle = dispatch(h.store, APPLICATION.follows["audit"])
    # decided before the 2019 campaign opened (the event arrives later): 2018's three years
    record(h.store, handle(audit_ban("0b7f1c8e-5d1a-4c1e-9e5e-000000000001", "2019-01-10T02:00:00+00:00",
                                     starts_on="2019-01-10")))
    record(h.store, handle(audit_ban("0b7f1c8e-5d1a-4c1e-9e5e-000000000002", "2019-03-02T02:00:00+00:00",
                                     starts_on="2019-03-02")))
    assert [ban["ends_on"] for ban in h.province.bans_of(USCC)] == ["2022-01-09", "2023-03-01"]


def test_without_any_campaign_a_ban_must_give_its_end(h):
    with pytest.raises(InvalidInput) as e:
        h.province.record_ban({"uscc": USCC, "reason": "弄虚作假", "starts_on": "2018-12-01"})
    assert "ends_on" in e.value.details["fields"]
    assert h.province.record_ban({"uscc": USCC, "reason": "弄虚作假", "starts_on": "2018-12-01",
                                  "ends_on": "2021-11-30"})["ends_on"] == "2021-11-30"
    handle = dispatch(h.store, APPLICATION.follows["audit"])
    with pytest.raises(LookupError):  # retried, then parked: audit bans come after campaigns
        handle(audit_ban("0b7f1c8e-5d1a-4c1e-9e5e-000000000003", "2018-12-03T02:00:00+00:00", starts_on="2018-12-03"))


@pytest.mark.parametrize("starts, years, ends", [
    (date(2018, 12, 1), 3, date(2021, 11, 30)),
    (date(2018, 12, 1), 5, date(2023, 11, 30)),
    (date(2016, 2, 29), 3, date(2019, 2, 28)),  # from 29 February: to the 28th
    (date(2020, 1, 1), 1, date(2020, 12, 31)),
])
def test_a_ban_ends_the_day_before_the_anniversary(starts, years, ends):
    assert ban_end(starts, years) == ends
