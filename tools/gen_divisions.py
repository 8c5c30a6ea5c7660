"""Regenerate shared/refdata/divisions.json from python-stdnum's GB/T 2260 history (stdnum/cn/loc.dat).

Run by hand when the division list changes: `python tools/gen_divisions.py`. The output is committed, so
the services never parse loc.dat at run time. Entries look like `0102 county="[1983-]长安区"`: a code
with the years it was valid; an open end means it is still in force.
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


def main() -> None:
    codes = parse()
    current = {c: spans[-1][2] for c, spans in codes.items() if spans[-1][1] is None}
    cities = {c: n for c, n in current.items() if c.endswith("00") and c != "130000"}
    units = [{"code": c, "name": n, "kind": "prefecture"} for c, n in sorted(cities.items())]
    units += [
        {"code": DINGZHOU, "name": "定州市", "kind": "province_administered"},
        {"code": XINJI, "name": "辛集市", "kind": "province_administered"},
        {"code": XIONGAN_UNIT, "name": "雄安新区", "kind": "new_area"},
    ]
    counties = []
    for code, name in sorted(current.items()):
        if code.endswith("00") or name == "市辖区":
            continue
        if code in (DINGZHOU, XINJI):
            unit = code
        elif code in XIONGAN_COUNTIES:
            unit = XIONGAN_UNIT
        else:
            unit = code[:4] + "00"
        counties.append({"code": code, "name": name, "prefecture": code[:4] + "00", "unit": unit})
    historic = sorted(c for c in codes if c not in current)
    out = {
        "source": "GB/T 2260 via python-stdnum stdnum/cn/loc.dat",
        "city_level_units": units,
        "counties": counties,
        "historic_codes": historic,
    }
    path = Path(__file__).resolve().parent.parent / "shared" / "refdata" / "divisions.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(units)} city-level units, {len(counties)} counties, {len(historic)} historic codes")


if __name__ == "__main__":
    main()
