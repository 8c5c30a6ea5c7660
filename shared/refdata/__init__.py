"""Reference data shipped with the project (GB/T 2260 divisions, GB/T 4754 industries, the cloud
taxonomy of the notice, the bureau contact list). Loaded once, read-only."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any


def _load(name: str) -> dict[str, Any]:
    return json.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))


def _within(year: int, first: int | None, last: int | None) -> bool:
    return (first is None or first <= year) and (last is None or year <= last)


@dataclass(frozen=True)
class County:
    code: str
    name: str  # its latest name
    unit: str  # the city-level unit whose bureau reviews it (the notice, 四; docs/reference-data.md)
    first_year: int | None = None  # in force from this year (None: before the records begin)
    last_year: int | None = None  # up to this year, included (None: still in force)
    names: tuple[tuple[int | None, int | None, str], ...] = ()  # (from, until, name), a rename keeps the code

    def in_force_on(self, day: date) -> bool:
        """GB/T 2260's history has years: a division is taken as in force on a day when it was in
        force at the end of that day's year (docs/reference-data.md)."""
        return _within(day.year, self.first_year, self.last_year)

    def name_on(self, day: date) -> str:
        return next((name for first, last, name in self.names if _within(day.year, first, last)), self.name)


@dataclass(frozen=True)
class Divisions:
    units: dict[str, str]  # city-level unit code -> name
    # Every county-level division in force on some day the system serves (from `served_from` on):
    # what registration accepts. A campaign uses those in force on its reference date (`counties_on`).
    counties: dict[str, County]
    historic_codes: frozenset[str]
    province_code: str = "130000"
    city_district_codes: frozenset[str] = frozenset()  # a city's 市辖区 (130101, …): registration regions only
    served_from: int = 2018

    def counties_on(self, day: date) -> dict[str, County]:
        """The county-level divisions in force on `day` (a campaign's reference date): 168 on 2018-11-30."""
        return {code: county for code, county in self.counties.items() if county.in_force_on(day)}

    def is_county_on(self, code: str, day: date) -> bool:
        county = self.counties.get(code)
        return county is not None and county.in_force_on(day)

    def is_hebei_registration_code(self, code: str) -> bool:
        """A USCC's registration segment (its registration authority's division) may be the province
        (130000), a city or a city's 市辖区, a county, or a code in force when the enterprise registered."""
        return code.startswith("13") and (
            code == self.province_code or code in self.city_district_codes or code in self.counties
            or code in self.historic_codes or code in self.units
        )

    def unit_of(self, county_code: str) -> str:
        return self.counties[county_code].unit

    def same_bureau_for_both_levels(self, county_code: str) -> bool:
        """定州 and 辛集 have no counties: one bureau records both review steps."""
        return self.unit_of(county_code) == county_code


@cache
def divisions() -> Divisions:
    raw = _load("divisions.json")
    return Divisions(
        units={u["code"]: u["name"] for u in raw["city_level_units"]},
        counties={c["code"]: County(c["code"], c["name"], c["unit"], c["from"], c["until"],
                                    tuple((n["from"], n["until"], n["name"]) for n in c["names"]))
                  for c in raw["counties"]},
        historic_codes=frozenset(raw["historic_codes"]),
        province_code=raw["province_code"],
        city_district_codes=frozenset(raw["city_district_codes"]),
        served_from=raw["served_from"],
    )


@dataclass(frozen=True)
class Industries:
    sections: dict[str, str]  # section letter -> name
    division_section: dict[str, str]  # two-digit division -> section letter
    division_names: dict[str, str]
    industrial_sections: frozenset[str]

    def section_of(self, industry_code: str) -> str | None:
        """Accepts a division code ('31') or a longer class code ('3110'), or a section letter."""
        if industry_code in self.sections:
            return industry_code
        return self.division_section.get(industry_code[:2])


@cache
def industries() -> Industries:
    raw = _load("industries.json")
    return Industries(
        sections={s["code"]: s["name"] for s in raw["sections"]},
        division_section={d["code"]: s["code"] for s in raw["sections"] for d in s["divisions"]},
        division_names={d["code"]: d["name"] for s in raw["sections"] for d in s["divisions"]},
        industrial_sections=frozenset(raw["industrial_sections"]),
    )


@dataclass(frozen=True)
class Taxonomy:
    categories: dict[str, str]
    scenarios: dict[tuple[str, str], str]  # (category, scenario) -> name
    metrics: dict[tuple[str, str], dict[str, str]]  # (category, scenario) -> {metric code: type}
    deployment_modes: dict[str, str]


@cache
def taxonomy() -> Taxonomy:
    raw = _load("taxonomy.json")
    return Taxonomy(
        categories={c["code"]: c["name"] for c in raw["categories"]},
        scenarios={(c["code"], s["code"]): s["name"] for c in raw["categories"] for s in c["scenarios"]},
        metrics={
            (c["code"], s["code"]): {m["code"]: m["type"] for m in s["metrics"]}
            for c in raw["categories"]
            for s in c["scenarios"]
        },
        deployment_modes={m["code"]: m["name"] for m in raw["deployment_modes"]},
    )


def raw(name: str) -> dict[str, Any]:
    """The whole file, for portals that show reference lists."""
    return _load(f"{name}.json")
