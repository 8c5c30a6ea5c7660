"""Reference data shipped with the project (GB/T 2260 divisions, GB/T 4754 industries, the cloud
taxonomy of the notice, the bureau contact list). Loaded once, read-only."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


def _load(name: str) -> dict[str, Any]:
    return json.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class County:
    code: str
    name: str
    unit: str  # the city-level unit whose bureau reviews it (the notice, 四; docs/reference-data.md)


@dataclass(frozen=True)
class Divisions:
    units: dict[str, str]  # city-level unit code -> name
    counties: dict[str, County]
    historic_codes: frozenset[str]

    def is_hebei_registration_code(self, code: str) -> bool:
        """A USCC's registration segment may carry a code in force when the enterprise registered."""
        return code.startswith("13") and (
            code in self.counties or code in self.historic_codes or code in self.units
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
        counties={c["code"]: County(c["code"], c["name"], c["unit"]) for c in raw["counties"]},
        historic_codes=frozenset(raw["historic_codes"]),
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
