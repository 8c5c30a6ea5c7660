"""Who takes part in a played campaign, decided from a seed alone: each enterprise's city-level unit,
county, industry, categories, provider, contracts and what happens to it (its fate). The same seed
and size give the same plan, so a rerun or a retry sends the same inputs."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tools.play import forms

REFDATA = forms.ROOT / "shared" / "refdata"

# What happens to an enterprise. `ineligible:<rule>` fails that rule of 申报条件 at submission.
BENCHMARK = "benchmark"          # through every step to the announced list and the payment
RETURNED = "returned"            # returned for correction by its county, resubmitted, then through
LATE = "late"                    # its county reviews after the county deadline (overdue), then through
LAPSED = "lapsed"                # its county never reviews: the case lapses at the system close
DECLINED = "declined"            # its city declines to recommend it
OBJECTED = "objected"            # on the public notice, an objection against it is upheld
INELIGIBLE_RULES = ("industrial_enterprise", "three_months_on_cloud", "investments_match_contracts", "no_bad_record")

# Shares of the enterprises for each fate (at least one each, the rest benchmark).
SHARES = {RETURNED: 0.08, LATE: 0.05, LAPSED: 0.05, DECLINED: 0.04, OBJECTED: 0.0}


@dataclass(frozen=True)
class Provider:
    provider_id: str
    name: str
    uscc: str


PROVIDERS = (
    Provider("yanzhao-cloud", "燕赵云计算有限公司", forms.uscc("130100", 9001)),
    Provider("jibei-data", "冀北数据服务有限公司", forms.uscc("130200", 9002)),
    Provider("taihang-yun", "太行云科技有限公司", forms.uscc("130400", 9003)),
    Provider("bohai-cloud", "渤海云网络有限公司", forms.uscc("130900", 9004)),
)

WORDS = ("钢铁", "装备", "化工", "纺织", "食品", "建材", "电子", "机械", "制药", "汽车零部件", "玻璃", "陶瓷", "家具", "造纸", "轴承")
SUFFIX = ("有限公司", "股份有限公司", "集团有限公司")


@dataclass
class Enterprise:
    serial: int
    username: str
    password: str
    uscc: str
    name: str
    unit_code: str
    unit_name: str
    county_code: str
    industry_code: str
    provider: Provider
    scenarios: list[dict[str, Any]]
    contracts: list[dict[str, Any]]
    fate: str
    failing_rule: str | None = None
    # filled as the campaign is played
    application_id: str | None = None
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def categories(self) -> list[str]:
        return sorted({s["category"] for s in self.scenarios})

    def form(self) -> dict[str, Any]:
        """The whole application form: the sections, scenarios, contracts, documents and the pledge."""
        totals = {y: Decimal("0.00") for y in ("2016", "2017", "2018")}
        for c in self.contracts:
            totals[c["signed_on"][:4]] += Decimal(c["total_amount"])
        if self.failing_rule == "investments_match_contracts":
            totals["2018"] += Decimal("10000.00")
        first = min(c["term_start"] for c in self.contracts)
        enterprise = forms.ENTERPRISE_SECTION | {
            "industry_code": self.industry_code, "registered_address": f"{self.unit_name}工业园区{self.serial}号",
            "contact_address": f"{self.unit_name}工业园区{self.serial}号", "profile": f"{self.name}，主营{self.industry_code}类产品。"}
        cloud = forms.CLOUD_SECTION | {"provider_id": self.provider.provider_id, "first_cloud_date": first,
                                       "investments": {y: f"{v:.2f}" for y, v in totals.items()}}
        pledge = forms.PLEDGE | ({"no_bad_record": False} if self.failing_rule == "no_bad_record" else {})
        return {"enterprise": enterprise, "cloud": cloud, "scenarios": self.scenarios, "contracts": self.contracts,
                "documents": forms.documents(self.contracts), "pledge": pledge}

    def invoices(self) -> list[dict[str, str]]:
        return [{"contract_id": c["contract_id"], "kind": kind, "number": f"{kind[:3].upper()}-{self.serial}-{c['contract_id']}",
                 "date": c["signed_on"], "amount": c["total_amount"]}
                for c in self.contracts for kind in ("invoice", "payment_voucher")]


def _json(name: str) -> Any:
    return json.loads((REFDATA / f"{name}.json").read_text(encoding="utf-8"))


def units() -> list[dict[str, str]]:
    """The 14 city-level units (GB/T 2260 as shipped)."""
    return list(_json("divisions")["city_level_units"])


def counties_of(unit_code: str, year: int = 2018) -> list[dict[str, Any]]:
    return [c for c in _json("divisions")["counties"] if c["unit"] == unit_code and c["from"] <= year
            and (c["until"] is None or c["until"] >= year)]


def _divisions(sections: list[str]) -> list[str]:
    return [d["code"] for s in _json("industries")["sections"] if s["code"] in sections for d in s["divisions"]]


def _metric_value(kind: str, rng: random.Random) -> Any:
    if kind == "integer":
        return rng.randint(20, 400)
    if kind == "money":
        return f"{rng.randint(50, 900) * 1000}.00"
    if kind == "decimal":
        return f"{rng.randint(40, 95)}.5"
    return f"{rng.randint(2, 40)}台云主机"


def _scenarios(rng: random.Random) -> list[dict[str, Any]]:
    pairs = [(c["code"], s) for c in _json("taxonomy")["categories"] for s in c["scenarios"]]
    chosen = rng.sample(pairs, rng.randint(1, 3))
    return [{"category": cat, "scenario": s["code"], "products": [f"云{s['code']}平台"], "functions": "上云应用",
             "problems_solved": "原有系统老旧", "results": f"效率提升{rng.randint(10, 40)}%",
             "metrics": {m["code"]: _metric_value(m["type"], rng) for m in s["metrics"]}} for cat, s in chosen]


def _contracts(provider: Provider, rng: random.Random, late_start: bool) -> list[dict[str, Any]]:
    fee_2017, fee_2018 = rng.randint(3, 60) * 5000, rng.randint(4, 80) * 5000
    second = {"contract_id": "c2018", "provider_name": provider.name, "number": f"HT-2018-{rng.randint(1, 999):03d}",
              "signed_on": "2018-04-25", "term_start": "2018-05-01", "term_end": "2019-04-30",
              "total_amount": f"{fee_2018}.00", "annual_fee": f"{fee_2018}.00"}
    if late_start:  # first on the cloud in September 2018: fewer than three months by the reference date
        return [second | {"signed_on": "2018-09-10", "term_start": "2018-09-15", "term_end": "2019-09-14"}]
    if rng.random() < 0.6:  # one contract of two years, still in force on the reference date
        return [{"contract_id": "c2017", "provider_name": provider.name, "number": f"HT-2017-{rng.randint(1, 999):03d}",
                 "signed_on": "2017-04-20", "term_start": "2017-05-01", "term_end": "2019-04-30",
                 "total_amount": f"{2 * fee_2017}.00", "annual_fee": f"{fee_2017}.00"}]
    return [{"contract_id": "c2017", "provider_name": provider.name, "number": f"HT-2017-{rng.randint(1, 999):03d}",
             "signed_on": "2017-04-20", "term_start": "2017-05-01", "term_end": "2018-04-30",
             "total_amount": f"{fee_2017}.00", "annual_fee": f"{fee_2017}.00"}, second]


def fates(n: int, rng: random.Random) -> list[tuple[str, str | None]]:
    """The fate of each of `n` enterprises, in a seeded order: every ineligibility rule and every
    story at least once (when `n` allows), the rest benchmark."""
    planned: list[tuple[str, str | None]] = [("ineligible", rule) for rule in INELIGIBLE_RULES]
    planned += [("ineligible", INELIGIBLE_RULES[i % 4]) for i in range(max(0, round(n * 0.1) - 4))]
    for fate, share in SHARES.items():
        planned += [(fate, None)] * max(1, round(n * share))
    planned = planned[:max(0, n - 1)]  # at least one benchmark
    planned += [(BENCHMARK, None)] * (n - len(planned))
    rng.shuffle(planned)
    return planned


def plan(n: int, seed: str = "2018", counties_per_unit: int = 2) -> list[Enterprise]:
    """`n` enterprises spread over the 14 city-level units in turn (so every unit has some once n >= 14)."""
    rng = random.Random(f"hbcloud-play:{seed}")
    all_units = units()
    industrial, other = _divisions(["B", "C", "D"]), _divisions(["F", "I", "K"])
    chosen_counties = {u["code"]: counties_of(u["code"])[:counties_per_unit] for u in all_units}
    people = []
    for i, (fate, rule) in enumerate(fates(n, rng)):
        serial = i + 1
        unit = all_units[i % len(all_units)]
        county = rng.choice(chosen_counties[unit["code"]])
        provider = rng.choice(PROVIDERS)
        short = unit["name"].removesuffix("市").removesuffix("新区")
        place = "" if county["name"].startswith(short) else county["name"].rstrip("区县市") or county["name"]
        name = f"{short}{place}{rng.choice(WORDS)}{serial:04d}{rng.choice(SUFFIX)}"
        people.append(Enterprise(
            serial=serial, username=f"ent{serial:05d}", password=f"Ent-pass-{serial:05d}",
            uscc=forms.uscc(county["code"], serial), name=name, unit_code=unit["code"], unit_name=unit["name"],
            county_code=county["code"],
            industry_code=rng.choice(other if rule == "industrial_enterprise" else industrial),
            provider=provider, scenarios=_scenarios(rng),
            contracts=_contracts(provider, rng, late_start=rule == "three_months_on_cloud"),
            fate="ineligible" if rule else fate, failing_rule=rule))
    return people
