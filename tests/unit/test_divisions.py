"""GB/T 2260 as a campaign sees it: the county-level divisions in force on its reference date (the
notice is of 2018: 168 divisions, 邢台县 任县 南和县 among them, 桥东区/桥西区 at 130502/130503), not
today's list; registration accepts every division in force since the first campaign."""
from __future__ import annotations

from datetime import date

import pytest

from shared import refdata

REFERENCE_2018 = date(2018, 11, 30)
TODAY = date(2024, 6, 1)


def test_168_county_level_divisions_were_in_force_on_the_2018_reference_date():
    d = refdata.divisions()
    in_2018 = d.counties_on(REFERENCE_2018)
    assert len(in_2018) == 168
    assert {"130521", "130526", "130527"} <= set(in_2018)  # 邢台县 任县 南和县
    assert not {"130505", "130506"} & set(in_2018)  # 任泽区 南和区 (2020)
    assert {in_2018[c].name_on(REFERENCE_2018) for c in ("130502", "130503")} == {"桥东区", "桥西区"}
    assert in_2018["130521"].name_on(REFERENCE_2018) == "邢台县"
    assert "130284" in in_2018 and "130223" not in in_2018  # 滦州市 replaced 滦县 in 2018


def test_today_there_are_167_and_the_renamed_districts_carry_their_new_names():
    d = refdata.divisions()
    now = d.counties_on(TODAY)
    assert len(now) == 167
    assert {"130505", "130506"} <= set(now) and not {"130521", "130526", "130527"} & set(now)
    assert (now["130502"].name_on(TODAY), now["130503"].name_on(TODAY)) == ("襄都区", "信都区")


def test_registration_accepts_every_division_in_force_since_the_first_campaign():
    d = refdata.divisions()
    assert set(d.counties) == set(d.counties_on(REFERENCE_2018)) | set(d.counties_on(TODAY))
    assert len(d.counties) == 170
    assert all(d.unit_of(code) == "130500" for code in ("130521", "130526", "130527", "130505", "130506"))
    assert d.unit_of("130638") == "133100" and d.unit_of("130682") == "130682"  # 雄县 → 雄安新区; 定州


@pytest.mark.parametrize("code, in_force", [("130521", True), ("130505", False), ("130102", True), ("130223", False)])
def test_a_county_is_checked_against_a_day(code, in_force):
    assert refdata.divisions().is_county_on(code, REFERENCE_2018) is in_force


@pytest.mark.parametrize("code, hebei", [
    ("130000", True),  # registered with the province's authority
    ("130101", True), ("131101", True),  # a city's 市辖区
    ("130100", True), ("133100", True),  # a city, 雄安新区
    ("130521", True), ("130505", True), ("130103", True),  # counties then and now; a code no longer in force
    ("110101", False), ("139999", False), ("130001", False),
])
def test_credit_code_registration_regions(code, hebei):
    assert refdata.divisions().is_hebei_registration_code(code) is hebei
