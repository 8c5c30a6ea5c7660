"""The eligibility rules (申报条件, the notice §3) one by one, on domain objects built directly: a complete
2018 application passes every rule; each case breaks exactly one rule and only that rule fails, with
details that say what is wrong."""
from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable
from uuid import UUID

import pytest

from services.application.domain import Application, Ban, Campaign, Enterprise, SupplyPool
from services.application.eligibility import RULES, Facts, Failure, ban_is_active, evaluate
from shared.clock import SHANGHAI
from tests.support import builders as b

NOW = datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI)
PROVINCE = {"id": "province-admin", "role": "province"}
OWNER = {"id": "account-steelworks", "role": "enterprise"}
PROVIDER = b.CLOUD_SECTION["provider_id"]

RULE_NAMES = {
    "hebei_legal_person", "industrial_enterprise", "no_bad_record", "three_months_on_cloud",
    "categories_and_deployment", "provider_in_pool", "complete_form", "investments_match_contracts",
    "evidence_attached", "pledge_given",
}


def document_metas(contracts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The builders' documents as the application stores them (what attach_document records)."""
    metas = []
    for i, doc in enumerate(b.documents(contracts)):
        digest = hashlib.sha256(doc["content_base64"].encode()).hexdigest()
        metas.append({"document_id": f"d{i:02d}", "kind": doc["kind"], "filename": doc["filename"],
                      "content_type": doc["content_type"], "size": 100, "sha256": digest,
                      "contract_id": doc.get("contract_id")})
    return metas


def complete_parts() -> dict[str, Any]:
    """Everything that goes into the facts, for a complete and eligible 2018 application."""
    contracts = copy.deepcopy(b.CONTRACTS)
    return {
        "uscc": b.uscc("130102", 1),
        "enterprise": copy.deepcopy(b.ENTERPRISE_SECTION),
        "cloud": copy.deepcopy(b.CLOUD_SECTION),
        "scenarios": copy.deepcopy(b.SCENARIOS),
        "contracts": contracts,
        "documents": document_metas(contracts),
        "pledge": dict(b.PLEDGE),
        "pool": [("add", PROVIDER, NOW - timedelta(days=30))],
        "bans": [],
        "now": NOW,
    }


def build(parts: dict[str, Any]) -> Facts:
    campaign = Campaign.open(NOW - timedelta(days=10), PROVINCE, b.campaign_2018())
    county = parts.get("county", "130102")
    enterprise = Enterprise.register(NOW - timedelta(days=5), OWNER, parts["uscc"], "石家庄钢结构有限公司", county,
                                     UUID(int=3))
    app = Application.start(NOW - timedelta(days=4), OWNER, campaign, enterprise, county[:4] + "00")
    t = NOW - timedelta(days=3)
    app.update_section(t, OWNER, "enterprise", parts["enterprise"])
    app.update_section(t, OWNER, "cloud", parts["cloud"])
    app.set_scenarios(t, OWNER, parts["scenarios"])
    for contract in parts["contracts"]:
        app.save_contract(t, OWNER, contract)
    for document in parts["documents"]:
        app.attach_document(t, OWNER, document)
    if parts["pledge"] is not None:
        app.give_pledge(t, OWNER, **parts["pledge"])

    pool = None
    if parts["pool"] is not None:
        pool = SupplyPool.establish(NOW - timedelta(days=60), PROVINCE)
        for action, provider_id, when in parts["pool"]:
            if action == "add":
                pool.add(when, PROVINCE, provider_id, "某云服务有限公司", b.uscc("130100", 9), "入池")
            else:
                pool.remove(when, PROVINCE, provider_id, "出池", "province")
    return Facts(application=app, terms=campaign.terms, pool=pool, active_bans=parts["bans"], now=parts["now"])


def failing_rules(facts: Facts) -> set[str]:
    return {rule.__name__ for rule in RULES if list(rule(facts))}


def reported(failures: list[Failure]) -> list[tuple[str, dict[str, Any]]]:
    return [(f.rule, f.details) for f in failures]


# ---------------------------------------------------------------- changes that break one rule each
def set_in(part: str, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda p: p[part].update(values)


def drop(part: str, *path: str) -> Callable[[dict[str, Any]], None]:
    def change(p: dict[str, Any]) -> None:
        target = p[part]
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


def set_contract(contract_id: str, **values: Any) -> Callable[[dict[str, Any]], None]:
    def change(p: dict[str, Any]) -> None:
        next(c for c in p["contracts"] if c["contract_id"] == contract_id).update(values)
    return change


def only_contract_signed_on(signed_on: str) -> Callable[[dict[str, Any]], None]:
    """The 2018 contract alone (investments agreeing), signed on that day and running a year from the next."""
    def change(p: dict[str, Any]) -> None:
        only = {**b.CONTRACTS[1], "signed_on": signed_on, "term_start": "2018-09-01", "term_end": "2019-08-31"}
        p["contracts"] = [only]
        p["documents"] = document_metas([only])
        p["cloud"]["investments"] = {"2016": "0.00", "2017": "0.00", "2018": "90000.00"}
    return change


def no_contracts(p: dict[str, Any]) -> None:
    p["contracts"] = []
    p["documents"] = document_metas([])
    p["cloud"]["investments"] = {"2016": "0.00", "2017": "0.00", "2018": "0.00"}


def without_document(kind: str, contract_id: str | None) -> Callable[[dict[str, Any]], None]:
    def change(p: dict[str, Any]) -> None:
        p["documents"] = [d for d in p["documents"] if not (d["kind"] == kind and d["contract_id"] == contract_id)]
    return change


def document_of_another_contract(kind: str, contract_id: str, other: str) -> Callable[[dict[str, Any]], None]:
    def change(p: dict[str, Any]) -> None:
        for d in p["documents"]:
            if d["kind"] == kind and d["contract_id"] == contract_id:
                d["contract_id"] = other
    return change


def pool_events(*events: tuple[str, str, datetime]) -> Callable[[dict[str, Any]], None]:
    return lambda p: p.update(pool=list(events))


BAN = Ban.record(UUID(int=7), NOW - timedelta(days=400), PROVINCE, b.uscc("130102", 1), "申报材料造假",
                 date(2017, 10, 30), date(2020, 10, 29), "audit", "audit-event-1")
ACTIVE_BAN = {"ban_id": str(BAN.id), "uscc": BAN.uscc, "starts_on": BAN.starts_on, "ends_on": BAN.ends_on,
              "lifted": BAN.lifted}


@dataclass(frozen=True)
class Case:
    rule: str  # the rule (function) that must be the only one to fail
    change: Callable[[dict[str, Any]], None]
    failures: list[tuple[str, dict[str, Any]]]  # what evaluate() reports: (failure name, details)


CASES: dict[str, Case] = {
    # 1. registered in Hebei as an enterprise
    "region_outside_hebei": Case("hebei_legal_person", lambda p: p.update(uscc=b.uscc("110101", 1)),
                                 [("hebei_legal_person", {"region_code": "110101"})]),
    "sole_trader_not_enterprise": Case("hebei_legal_person", lambda p: p.update(uscc=b.uscc("130102", 1, kind="92")),
                                       [("hebei_legal_person", {"uscc_prefix": "92"})]),
    # 2. an industrial enterprise
    "software_industry": Case("industrial_enterprise", set_in("enterprise", industry_code="6510"),
                              [("industrial_enterprise", {"industry_code": "6510", "section": "I"})]),
    "agriculture_division": Case("industrial_enterprise", set_in("enterprise", industry_code="01"),
                                 [("industrial_enterprise", {"industry_code": "01", "section": "A"})]),
    # 3. no bad record: the declaration, and the ban list
    "no_bad_record_not_declared": Case("no_bad_record", set_in("pledge", no_bad_record=False),
                                       [("no_bad_record", {})]),
    "banned": Case("no_bad_record", lambda p: p.update(bans=[ACTIVE_BAN]),
                   [("not_banned", {"ban_id": str(BAN.id), "ends_on": "2020-10-29"})]),
    # 4. three months on the cloud, a contract in force on the reference date
    "no_contracts": Case("three_months_on_cloud", no_contracts, [("cloud_contracts", {})]),
    "first_contract_after_cutoff": Case("three_months_on_cloud", only_contract_signed_on("2018-09-01"),
                                        [("three_months_on_cloud", {"first_signed_on": "2018-09-01", "cutoff": "2018-08-31"})]),
    "first_cloud_date_after_cutoff": Case("three_months_on_cloud", set_in("cloud", first_cloud_date="2018-09-01"),
                                          [("three_months_on_cloud", {"first_cloud_date": "2018-09-01"})]),
    "no_contract_in_force": Case("three_months_on_cloud", set_contract("c2018", term_end="2018-11-29"),
                                 [("contract_in_force", {"reference_date": "2018-11-30"})]),
    "contract_not_yet_in_force": Case("three_months_on_cloud", set_contract("c2018", term_start="2018-12-01"),
                                      [("contract_in_force", {"reference_date": "2018-11-30"})]),
    # 5. categories and deployment mode
    "no_scenarios": Case("categories_and_deployment", lambda p: p.update(scenarios=[]), [("cloud_categories", {})]),
    "unknown_deployment_mode": Case("categories_and_deployment", set_in("cloud", deployment_mode="multi_cloud"),
                                    [("deployment_mode", {})]),
    # 7. the provider is in the pool at submission time
    "provider_not_in_pool": Case("provider_in_pool", set_in("cloud", provider_id="other-cloud"),
                                 [("provider_in_pool", {"provider_id": "other-cloud"})]),
    "no_pool_yet": Case("provider_in_pool", lambda p: p.update(pool=None),
                        [("provider_in_pool", {"provider_id": PROVIDER})]),
    "provider_removed_from_pool": Case(
        "provider_in_pool",
        pool_events(("add", PROVIDER, NOW - timedelta(days=30)), ("remove", PROVIDER, NOW - timedelta(minutes=1))),
        [("provider_in_pool", {"provider_id": PROVIDER})]),
    "provider_added_after_now": Case("provider_in_pool", pool_events(("add", PROVIDER, NOW + timedelta(minutes=1))),
                                     [("provider_in_pool", {"provider_id": PROVIDER})]),
    # the form of 附件2 is complete
    "missing_phone": Case("complete_form", set_in("enterprise", phone=""),
                          [("complete_form", {"missing": ["enterprise.phone"]})]),
    "missing_revenue_year": Case("complete_form", drop("enterprise", "revenue", "2016"),
                                 [("complete_form", {"missing": ["enterprise.revenue.2016"]})]),
    "missing_results": Case("complete_form", drop("cloud", "overall_results"),
                            [("complete_form", {"missing": ["cloud.overall_results"]})]),
    "missing_planning_item": Case("complete_form", set_in("cloud", planning={**b.CLOUD_SECTION["planning"], "timing": ""}),
                                  [("complete_form", {"missing": ["cloud.planning.timing"]})]),
    "missing_investment_year": Case("complete_form", drop("cloud", "investments", "2016"),
                                    [("complete_form", {"missing": ["cloud.investments.2016"]})]),
    "missing_scenario_metric": Case(
        "complete_form", lambda p: p["scenarios"][1]["metrics"].pop("total_devices"),
        [("complete_form", {"missing": ["scenarios.equipment.production_equipment.metrics.total_devices"]})]),
    # declared investments agree with the contracts signed each year
    "investment_differs_from_contracts": Case(
        "investments_match_contracts",
        set_in("cloud", investments={"2016": "0.00", "2017": "60000.00", "2018": "90000.01"}),
        [("investments_match_contracts", {"year": 2018, "declared": "90000.01", "contracts_total": "90000.00"})]),
    "investment_without_contract": Case(
        "investments_match_contracts",
        set_in("cloud", investments={"2016": "5000.00", "2017": "60000.00", "2018": "90000.00"}),
        [("investments_match_contracts", {"year": 2016, "declared": "5000.00", "contracts_total": "0.00"})]),
    # evidence
    "no_business_registration": Case("evidence_attached", without_document("business_registration", None),
                                     [("evidence_attached", {"missing": ["business_registration"]})]),
    "contract_without_invoice": Case("evidence_attached", without_document("invoice", "c2018"),
                                     [("evidence_attached", {"missing": ["c2018.invoice"]})]),
    "voucher_attached_to_the_wrong_contract": Case(
        "evidence_attached", document_of_another_contract("payment_voucher", "c2017", "c2018"),
        [("evidence_attached", {"missing": ["c2017.payment_voucher"]})]),
    # the pledge of truthfulness
    "not_truthful": Case("pledge_given", set_in("pledge", truthful=False), [("pledge", {})]),
}


def test_the_rule_set_is_exactly_the_ten_named_rules():
    assert len(RULES) == 10
    assert {rule.__name__ for rule in RULES} == RULE_NAMES


def test_every_rule_has_a_case_that_breaks_it():
    assert {case.rule for case in CASES.values()} == RULE_NAMES


def test_a_complete_application_passes_every_rule():
    facts = build(complete_parts())
    assert failing_rules(facts) == set()
    assert evaluate(facts) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_breaking_one_rule_fails_that_rule_only(name):
    case = CASES[name]
    parts = complete_parts()
    case.change(parts)
    facts = build(parts)
    assert failing_rules(facts) == {case.rule}
    failures = evaluate(facts)
    assert reported(failures) == case.failures
    for failure in failures:
        assert failure.message_zh and failure.message_en
        assert failure.to_dict() == {"rule": failure.rule, "message_zh": failure.message_zh,
                                     "message_en": failure.message_en, "details": failure.details}


def test_every_failure_is_reported_at_once():
    parts = complete_parts()
    for name in ("region_outside_hebei", "software_industry", "not_truthful", "provider_not_in_pool"):
        CASES[name].change(parts)
    facts = build(parts)
    assert failing_rules(facts) == {"hebei_legal_person", "industrial_enterprise", "pledge_given", "provider_in_pool"}
    assert [f.rule for f in evaluate(facts)] == ["hebei_legal_person", "industrial_enterprise", "provider_in_pool", "pledge"]


def test_an_empty_application_fails_every_rule_that_looks_at_the_form():
    parts = complete_parts()
    parts.update(enterprise={}, cloud={}, scenarios=[], contracts=[], documents=[], pledge=None)
    assert failing_rules(build(parts)) == RULE_NAMES - {"hebei_legal_person", "investments_match_contracts"}


# ---------------------------------------------------------------- edges that must still pass
@pytest.mark.parametrize("name, change", [
    ("city_level_unit_region", lambda p: p.update(uscc=b.uscc("130100", 1))),
    ("historic_region_code", lambda p: p.update(uscc=b.uscc("130103", 1))),  # no longer in force; kept by the enterprise
    ("lower_case_credit_code", lambda p: p.update(uscc=b.uscc("130102", 1).lower())),
    ("mining_class", set_in("enterprise", industry_code="0610")),
    ("utilities_division", set_in("enterprise", industry_code="44")),
    ("first_contract_signed_on_the_cutoff", only_contract_signed_on("2018-08-31")),
    ("first_cloud_date_on_the_cutoff", set_in("cloud", first_cloud_date="2018-08-31")),
    ("contract_ending_on_the_reference_date", set_contract("c2018", term_end="2018-11-30")),
    ("contract_starting_on_the_reference_date", set_contract("c2018", term_start="2018-11-30")),
    ("amounts_equal_as_numbers", set_in("cloud", investments={"2016": "0", "2017": "60000", "2018": "90000.0"})),
    ("provider_added_exactly_now", pool_events(("add", PROVIDER, NOW))),
    ("provider_removed_and_back", pool_events(("add", PROVIDER, NOW - timedelta(days=30)),
                                              ("remove", PROVIDER, NOW - timedelta(days=20)),
                                              ("add", PROVIDER, NOW - timedelta(days=10)))),
    ("no_experience_sharing", set_in("pledge", share_experience=False)),
    ("extra_other_document", lambda p: p["documents"].append({**p["documents"][0], "document_id": "x", "kind": "other"})),
])
def test_edge_cases_that_are_still_eligible(name, change):
    parts = complete_parts()
    change(parts)
    assert evaluate(build(parts)) == []


# ---------------------------------------------------------------- the latest contract (最后一次上云合同)
def test_an_older_contract_in_force_does_not_satisfy_the_reference_date():
    parts = complete_parts()
    set_contract("c2017", term_end="2019-12-31")(parts)  # the older contract still runs
    set_contract("c2018", term_end="2018-10-31")(parts)  # the latest one has expired
    assert reported(evaluate(build(parts))) == [("contract_in_force", {"reference_date": "2018-11-30"})]


def add_contract(**values: Any) -> Callable[[dict[str, Any]], None]:
    """One more contract (with its evidence), the declared investment of its year agreeing."""
    def change(p: dict[str, Any]) -> None:
        extra = {**b.CONTRACTS[1], "contract_id": "cx", "number": "HT-X", **values}
        p["contracts"].append(extra)
        p["documents"] = document_metas(p["contracts"])
        year = extra["signed_on"][:4]
        p["cloud"]["investments"][year] = f"{Decimal(p['cloud']['investments'][year]) + Decimal(extra['total_amount']):.2f}"
    return change


@pytest.mark.parametrize("name, change, eligible", [
    # a renewal signed after the reference date is not the latest contract as of that date
    ("renewal_signed_after_the_reference_date",
     add_contract(signed_on="2018-12-01", term_start="2019-05-01", term_end="2020-04-30"), True),
    # the latest contract signed before the reference date, not yet running on it
    ("latest_contract_not_yet_running",
     add_contract(signed_on="2018-11-20", term_start="2018-12-01", term_end="2019-11-30"), False),
    # two contracts signed on the same latest day: one of them in force is enough
    ("two_latest_contracts_one_in_force",
     add_contract(signed_on="2018-04-25", term_start="2018-05-01", term_end="2018-06-30"), True),
])
def test_the_latest_contract_is_the_last_signed_by_the_reference_date(name, change, eligible):
    parts = complete_parts()
    change(parts)
    expected = [] if eligible else [("contract_in_force", {"reference_date": "2018-11-30"})]
    assert reported(evaluate(build(parts))) == expected


# ---------------------------------------------------------------- registration regions and counties (GB/T 2260)
@pytest.mark.parametrize("region", ["130000", "130101"])
def test_province_level_and_city_district_registration_regions_are_hebei(region):
    parts = complete_parts()
    parts["uscc"] = b.uscc(region, 1)
    assert evaluate(build(parts)) == []


@pytest.mark.parametrize("county", ["130521", "130526", "130527", "130502", "130503"])
def test_a_county_in_force_on_the_reference_date_is_eligible(county):
    """邢台县 任县 南和县 and 桥东区/桥西区 (today 襄都区/信都区) were 2018's divisions."""
    parts = complete_parts()
    parts["county"] = county
    assert evaluate(build(parts)) == []


@pytest.mark.parametrize("county", ["130505", "130506"])
def test_a_county_created_after_the_reference_date_is_not(county):
    """任泽区 and 南和区 date from 2020: an enterprise registered there cannot be in the 2018 campaign."""
    parts = complete_parts()
    parts["county"] = county
    assert reported(evaluate(build(parts))) == [("hebei_county", {"county_code": county, "reference_date": "2018-11-30"})]


# ---------------------------------------------------------------- which bans count
def ban(starts_on: str, ends_on: str, lifted: bool = False) -> dict[str, Any]:
    return {"ban_id": "b1", "starts_on": starts_on, "ends_on": ends_on, "lifted": lifted}


@pytest.mark.parametrize(("a_ban", "now", "active"), [
    (ban("2017-12-03", "2020-12-02"), NOW, True),
    (ban("2018-12-03", "2021-12-02"), NOW, True),  # starts today
    (ban("2015-12-04", "2018-12-03"), NOW, True),  # ends today: still in force
    (ban("2015-12-03", "2018-12-02"), NOW, False),  # ended yesterday
    (ban("2018-12-04", "2021-12-03"), NOW, False),  # starts tomorrow
    (ban("2017-12-03", "2020-12-02", lifted=True), NOW, False),
    # the day is Shanghai's: 17:00 UTC on 12-02 is already 12-03 in Shanghai
    (ban("2015-12-03", "2018-12-02"), datetime(2018, 12, 2, 17, 0, tzinfo=timezone.utc), False),
    (ban("2015-12-03", "2018-12-02"), datetime(2018, 12, 2, 15, 59, tzinfo=timezone.utc), True),
])
def test_a_ban_counts_from_its_first_to_its_last_day_in_shanghai_unless_lifted(a_ban, now, active):
    assert ban_is_active(a_ban, now) is active
