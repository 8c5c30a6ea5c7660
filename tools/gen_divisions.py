"""Regenerate shared/refdata/divisions.json from python-stdnum's GB/T 2260 history (stdnum/cn/loc.dat).

Run by hand when the division list changes: `python tools/gen_divisions.py`. The output is committed, so
the services never parse loc.dat at run time. Entries look like `0102 county="[1983-]长安区"`: a code
with the years it was valid; an open end means it is still in force.

The history has years, not days, and we read it as the state at the end of each year
(docs/reference-data.md): a code is in force from the first year of its first span; a code whose
last span ends in year Y was abolished in Y (its successor's span starts in the same Y: 滦县
`[1983-2018]` and 滦州市 `[2018-]`), so it is in force up to Y-1. A rename under the same code ends a
name in Y and starts the next in Y+1 (`[1983-2019]桥东区,[2020-]襄都区`): names keep their years.

The county list holds every county-level division in force in some year from SERVED_FROM (the first
campaign's year) on, each with the years it was in force: a campaign uses those in force on its
reference date (168 on 2018-11-30), registration accepts any of them.
"""
from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

# The notice's three city-level units that are not prefecture cities (the notice, 四; docs/reference-data.md).
DINGZHOU, XINJI = "130682", "130181"
XIONGAN_COUNTIES = {"130638", "130629", "130632"}  # 雄县 容城县 安新县 (保定), governed by 雄安新区
XIONGAN_UNIT = "133100"  # project identifier for 雄安新区 (documented in docs/reference-data.md)

SPAN = re.compile(r"\[(\d{4})?-(\d{4})?\]([^,]+)")
SERVED_FROM = 2018  # the first campaign's year: the system serves divisions in force from then on
PROVINCE = "130000"


def parse() -> dict[str, list[tuple[int, int | None, str]]]:
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    codes: dict[str, list[tuple[int, int | None, str]]] = {}
    in_hebei = False
    for line in text.splitlines():
        if not line.startswith(" "):
            in_hebei = line.startswith("13 ")
            continue
        if not in_hebei:
            continue
        code, _, rest = line.strip().partition(" ")
        label = rest.split("=", 1)[1].strip('"')
        spans = [(int(a) if a else 0, int(b) if b else None, name) for a, b, name in SPAN.findall(label)]
        codes["13" + code] = spans or [(0, None, label)]
    return codes


def in_force(spans: list[tuple[int, int | None, str]]) -> tuple[int | None, int | None]:
    """(first year, last year) the code was in force, both included; None for an open end."""
    first, end = spans[0][0] or None, spans[-1][1]
    return first, (end - 1 if end is not None else None)


def names(spans: list[tuple[int, int | None, str]]) -> list[dict[str, object]]:
    first, last = in_force(spans)
    out: list[dict[str, object]] = [{"name": n, "from": a or None, "until": b} for a, b, n in spans]
    out[0]["from"], out[-1]["until"] = first, last
    return out


def main() -> None:
    codes = parse()
    current = {c: spans[-1][2] for c, spans in codes.items() if spans[-1][1] is None}
    cities = {c: n for c, n in current.items() if c.endswith("00") and c != PROVINCE}
    units = [{"code": c, "name": n, "kind": "prefecture"} for c, n in sorted(cities.items())]
    units += [
        {"code": DINGZHOU, "name": "定州市", "kind": "province_administered"},
        {"code": XINJI, "name": "辛集市", "kind": "province_administered"},
        {"code": XIONGAN_UNIT, "name": "雄安新区", "kind": "new_area"},
    ]
    counties = []
    for code, spans in sorted(codes.items()):
        first, last = in_force(spans)
        if code.endswith("00") or spans[-1][2] == "市辖区" or (last is not None and last < SERVED_FROM):
            continue
        if code in (DINGZHOU, XINJI):
            unit = code
        elif code in XIONGAN_COUNTIES:
            unit = XIONGAN_UNIT
        else:
            unit = code[:4] + "00"
        counties.append({"code": code, "name": spans[-1][2], "prefecture": code[:4] + "00", "unit": unit,
                         "from": first, "until": last, "names": names(spans)})
    districts = sorted(c for c, n in current.items() if n == "市辖区")
    historic = sorted(c for c in codes if c not in current)
    out = {
        "source": "GB/T 2260 via python-stdnum stdnum/cn/loc.dat",
        "served_from": SERVED_FROM,
        "city_level_units": units,
        "counties": counties,
        "province_code": PROVINCE,
        "city_district_codes": districts,
        "historic_codes": historic,
    }
    path = Path(__file__).resolve().parent.parent / "shared" / "refdata" / "divisions.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    in_2018 = [c for c in counties if (c["from"] or 0) <= 2018 and (c["until"] or 9999) >= 2018]
    print(f"{len(units)} city-level units, {len(counties)} counties ({len(in_2018)} in force in 2018, "
          f"{sum(c['until'] is None for c in counties)} today), {len(districts)} city districts, "
          f"{len(historic)} historic codes")


if __name__ == "__main__":
    main()
