"""The subsidy case on its own (no services): the filing order, 定州 and 辛集's single stamp, the
money's checks, and the reclaim."""
from __future__ import annotations

from datetime import datetime

import pytest

from services.subsidy.domain import Level, Status, SubsidyCase
from services.subsidy.handlers.cases import stamp_level
from shared.clock import SHANGHAI
from shared.errors import Forbidden, InvalidInput, InvalidState
from shared.identity import Principal, Role
from tests.support import builders as b
from tests.support.subsidy_inprocess import PAYEE, invoices_for

AT = datetime(2019, 1, 10, 9, 0, tzinfo=SHANGHAI)
SYSTEM = {"id": "system", "role": "service"}


def case(county: str = "130102", unit: str = "130100") -> SubsidyCase:
    return SubsidyCase.open(AT, SYSTEM, application_id="app-1", campaign_code="2018", document_number="冀工信两化〔2018〕600号",
                            uscc=b.uscc(), enterprise_name="某企业", county_code=county, unit_code=unit,
                            provider_id="hbcloud-provider", confirmed_contracts=[{"contract_id": "c2018", "provider_id": "hbcloud-provider"}],
                            content={"contracts": b.CONTRACTS}, provider_confirmation={}, county_checklist={},
                            city_opinion="同意推荐", terms={"subsidy_rate": "0.20", "subsidy_cap": "50000.00",
                                                         "reference_date": "2018-11-30"})


def test_dingzhou_stamps_once_for_both_levels():
    dingzhou = case(county="130682", unit="130682")
    dingzhou.give_details(AT, SYSTEM, PAYEE, invoices_for(["c2018"]))
    bureau = Principal("dz", Role.CITY, division_code="130682")
    level = stamp_level(bureau, dingzhou)
    assert level == Level.BOTH
    dingzhou.stamp(AT, SYSTEM, level, "")
    assert dingzhou.status == Status.AWAITING_PROVINCE and set(dingzhou.stamps) == {"county", "city"}


def test_a_city_stamps_only_after_its_county_and_no_bureau_stamps_for_another():
    c = case()
    c.give_details(AT, SYSTEM, PAYEE, invoices_for(["c2018"]))
    city = Principal("sjz", Role.CITY, division_code="130100")
    assert stamp_level(city, c) == Level.CITY
    with pytest.raises(InvalidState):
        c.stamp(AT, SYSTEM, Level.CITY, "")
    with pytest.raises(Forbidden):
        stamp_level(Principal("qx", Role.COUNTY, division_code="130104"), c)
    c.stamp(AT, SYSTEM, Level.COUNTY, "")
    with pytest.raises(InvalidState):  # once
        c.stamp(AT, SYSTEM, Level.COUNTY, "")


def test_a_payment_must_match_the_approval_and_a_reclaim_never_recovers_more_than_was_paid():
    c = case()
    c.give_details(AT, SYSTEM, PAYEE, invoices_for(["c2018"]))
    c.stamp(AT, SYSTEM, Level.COUNTY, "")
    c.stamp(AT, SYSTEM, Level.CITY, "")
    c.file(AT, SYSTEM, "")
    c.calculate(AT, SYSTEM, {}, {"rule": "r", "amount": "18000.00"})
    c.approve(AT, SYSTEM, "18000.00")
    with pytest.raises(InvalidInput):
        c.pay(AT, SYSTEM, "2019-03-01", "18000.01", "GK-1")
    c.pay(AT, SYSTEM, "2019-03-01", "18000", "GK-1")
    assert c.revoke(AT, SYSTEM, "弄虚作假", {}) and not c.revoke(AT, SYSTEM, "again", {})
    with pytest.raises(InvalidInput):
        c.recover(AT, SYSTEM, "2019-06-01", "18000.01", "R-1")
    c.recover(AT, SYSTEM, "2019-06-01", "18000.00", "R-1")
    assert c.status == Status.RECLAIMED


def test_a_county_account_of_dingzhou_does_not_stamp_the_one_stamp_is_the_citys():
    dingzhou = case(county="130682", unit="130682")
    with pytest.raises(Forbidden):
        stamp_level(Principal("dz-county", Role.COUNTY, division_code="130682"), dingzhou)
