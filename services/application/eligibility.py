"""申报条件 (the notice, 二、申报条件), checked when an application is submitted. Every failed rule is named
with its reason; the caller gets them all at once and nothing is recorded.

RULE_SET_VERSION is recorded on the submission event: change it whenever a rule changes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Iterable

from shared import refdata
from shared.clock import local_date

from services.application.domain import Application, CampaignTerms, SupplyPool

RULE_SET_VERSION = "2018.2"


@dataclass(frozen=True)
class Failure:
    rule: str
    message_zh: str
    message_en: str
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "message_zh": self.message_zh, "message_en": self.message_en, "details": self.details}


@dataclass(frozen=True)
class Facts:
    """Everything the rules look at, gathered by the service layer."""

    application: Application
    terms: CampaignTerms
    pool: SupplyPool | None
    active_bans: list[dict[str, Any]]
    now: datetime


Rule = Callable[[Facts], Iterable[Failure]]


def hebei_legal_person(f: Facts) -> Iterable[Failure]:
    a = f.application
    region = a.uscc[2:8]
    if not refdata.divisions().is_hebei_registration_code(region):
        yield Failure("hebei_legal_person", "统一社会信用代码的登记管理机关行政区划码不属于河北省",
                      "The credit code's registration region is not in Hebei", {"region_code": region})
    if a.uscc[:2] != "91":
        # GB 32100: 9 = registered with market regulation, 1 = enterprise (2 would be a sole trader)
        yield Failure("hebei_legal_person", "统一社会信用代码显示该主体不是企业",
                      "The credit code does not belong to an enterprise", {"uscc_prefix": a.uscc[:2]})
    # Registration accepts any county in force since the first campaign; the campaign uses the
    # divisions in force on its reference date (docs/reference-data.md).
    reference = f.terms.reference_date
    if not refdata.divisions().is_county_on(a.county_code, reference):
        yield Failure("hebei_county", f"所在县（市、区）代码{a.county_code}不是{reference.isoformat()}有效的河北省县级行政区划",
                      f"The county {a.county_code} is not a Hebei county-level division in force on {reference.isoformat()}",
                      {"county_code": a.county_code, "reference_date": reference.isoformat()})


def industrial_enterprise(f: Facts) -> Iterable[Failure]:
    code = f.application.sections.get("enterprise", {}).get("industry_code")
    section = refdata.industries().section_of(code) if code else None
    if section not in refdata.industries().industrial_sections:
        yield Failure("industrial_enterprise", "所属行业须为采矿业、制造业或电力、热力、燃气及水生产和供应业（GB/T 4754-2017 B、C、D门类）",
                      "The industry must be in GB/T 4754-2017 sections B, C or D", {"industry_code": code, "section": section})


def no_bad_record(f: Facts) -> Iterable[Failure]:
    if not f.application.pledge.get("no_bad_record"):
        yield Failure("no_bad_record", "企业须声明在经营管理、社会信用、安全生产、节能减排等方面无不良记录",
                      "The enterprise must declare it has no bad record", {})
    for ban in f.active_bans:
        yield Failure("not_banned", "企业在禁止申报期内（三年内不得申报企业信息化相关项目）",
                      "The enterprise is banned from applying", {"ban_id": ban["ban_id"], "ends_on": ban["ends_on"]})


def three_months_on_cloud(f: Facts) -> Iterable[Failure]:
    contracts = list(f.application.contracts.values())
    cutoff, reference = f.terms.first_contract_on_or_before, f.terms.reference_date
    if not contracts:
        yield Failure("cloud_contracts", "须附近三年上云服务合同", "Cloud service contracts must be attached", {})
        return
    first = min(date.fromisoformat(c["signed_on"]) for c in contracts)
    if first > cutoff:
        yield Failure("three_months_on_cloud", f"首次上云合同须于{cutoff.isoformat()}前签订",
                      f"The first cloud contract must be signed on or before {cutoff.isoformat()}",
                      {"first_signed_on": first.isoformat(), "cutoff": cutoff.isoformat()})
    first_cloud = f.application.sections.get("cloud", {}).get("first_cloud_date")
    if first_cloud and date.fromisoformat(first_cloud) > cutoff:
        yield Failure("three_months_on_cloud", f"上云起始时间须在{cutoff.isoformat()}前",
                      f"The first cloud date must be on or before {cutoff.isoformat()}", {"first_cloud_date": first_cloud})
    if not any(in_force(c, reference) for c in latest_contracts(contracts, reference)):
        yield Failure("contract_in_force", f"截至{reference.isoformat()}最后一次上云合同须仍在服务有效期内",
                      f"The latest cloud contract must be in force on {reference.isoformat()}",
                      {"reference_date": reference.isoformat()})


def in_force(contract: dict[str, Any], on: date) -> bool:
    return date.fromisoformat(contract["term_start"]) <= on <= date.fromisoformat(contract["term_end"])


def latest_contracts(contracts: list[dict[str, Any]], reference: date) -> list[dict[str, Any]]:
    """最后一次上云合同 (the notice, 二、(二)): the most recently signed contract as of the reference date,
    or the contracts signed on that same latest day. [default] A contract signed after the reference
    date is not the latest one *as of* that date (docs/reference-data.md)."""
    signed = [(date.fromisoformat(c["signed_on"]), c) for c in contracts]
    last = max((on for on, _ in signed if on <= reference), default=None)
    return [c for on, c in signed if on == last]


def categories_and_deployment(f: Facts) -> Iterable[Failure]:
    if not f.application.scenarios:
        yield Failure("cloud_categories", "须至少填写一个上云类别及应用场景", "At least one cloud category and scenario is required", {})
    mode = f.application.sections.get("cloud", {}).get("deployment_mode")
    if mode not in refdata.taxonomy().deployment_modes:
        yield Failure("deployment_mode", "须选择部署模式（公有云、私有云、混合云、专属云）",
                      "A deployment mode is required (public, private, hybrid, dedicated)", {})


def provider_in_pool(f: Facts) -> Iterable[Failure]:
    provider = f.application.sections.get("cloud", {}).get("provider_id")
    if not provider:
        yield Failure("provider_in_pool", "须填写服务最多的一个云平台服务商", "The main cloud provider is required", {})
    elif f.pool is None or not f.pool.member_at(provider, f.now):
        yield Failure("provider_in_pool", "所选云平台服务商不在我省企业上云供给资源池中",
                      "The provider is not in the province's supply resource pool", {"provider_id": provider})


REQUIRED_ENTERPRISE = ("legal_representative", "registered_address", "ownership", "contact_address", "postal_code",
                       "contact_person", "phone", "email", "industry_code", "employees", "it_department", "it_headcount", "profile")
REQUIRED_CLOUD = ("provider_id", "deployment_mode", "first_cloud_date", "overall_results", "next_steps", "provider_evaluation")
REQUIRED_PLANNING = ("needs_analysis", "feasibility", "provider_selection", "scope", "deployment_analysis", "timing")


def complete_form(f: Facts) -> Iterable[Failure]:
    a, terms = f.application, f.terms
    ent, cloud = a.sections.get("enterprise", {}), a.sections.get("cloud", {})
    missing = [f"enterprise.{k}" for k in REQUIRED_ENTERPRISE if ent.get(k) in (None, "")]
    missing += [f"enterprise.revenue.{y}" for y in terms.revenue_years if str(y) not in ent.get("revenue", {})]
    missing += [f"cloud.{k}" for k in REQUIRED_CLOUD if cloud.get(k) in (None, "")]
    missing += [f"cloud.planning.{k}" for k in REQUIRED_PLANNING if not cloud.get("planning", {}).get(k)]
    missing += [f"cloud.investments.{y}" for y in terms.investment_years if str(y) not in cloud.get("investments", {})]
    for s in a.scenarios:
        required = refdata.taxonomy().metrics[(s["category"], s["scenario"])]
        missing += [f"scenarios.{s['category']}.{s['scenario']}.metrics.{m}" for m in required if m not in s.get("metrics", {})]
    if missing:
        yield Failure("complete_form", "申报表填写不完整", "The form is incomplete", {"missing": missing})


def investments_match_contracts(f: Facts) -> Iterable[Failure]:
    """[default] the declared investment of a year equals the sum of the contracts signed that year."""
    declared = f.application.sections.get("cloud", {}).get("investments", {})
    for year in f.terms.investment_years:
        if str(year) not in declared:
            continue
        signed = sum((Decimal(c["total_amount"]) for c in f.application.contracts.values()
                      if c["signed_on"].startswith(str(year))), Decimal("0.00"))
        if Decimal(declared[str(year)]) != signed:
            yield Failure("investments_match_contracts",
                          f"{year}年上云投入（{declared[str(year)]}元）与所附当年签订合同金额合计（{signed:.2f}元）不一致",
                          f"Declared {year} investment {declared[str(year)]} differs from the contracts signed that year ({signed:.2f})",
                          {"year": year, "declared": declared[str(year)], "contracts_total": f"{signed:.2f}"})


def evidence_attached(f: Facts) -> Iterable[Failure]:
    docs = list(f.application.documents.values())
    missing: list[str] = []
    if not any(d["kind"] == "business_registration" for d in docs):
        missing.append("business_registration")
    for cid in sorted(f.application.contracts):
        kinds = {d["kind"] for d in docs if d.get("contract_id") == cid}
        missing += [f"{cid}.{k}" for k in ("contract", "invoice", "payment_voucher") if k not in kinds]
    if missing:
        yield Failure("evidence_attached", "相关证明材料不全（工商注册登记证明、合同及对应发票和付款凭证）",
                      "Evidence is missing (registration certificate; each contract with its invoice and payment voucher)",
                      {"missing": missing})


def pledge_given(f: Facts) -> Iterable[Failure]:
    if not f.application.pledge.get("truthful"):
        yield Failure("pledge", "须作出真实性承诺", "The pledge of truthfulness must be given", {})


RULES: tuple[Rule, ...] = (
    hebei_legal_person, industrial_enterprise, no_bad_record, three_months_on_cloud, categories_and_deployment,
    provider_in_pool, complete_form, investments_match_contracts, evidence_attached, pledge_given,
)


def evaluate(facts: Facts) -> list[Failure]:
    return [failure for rule in RULES for failure in rule(facts)]


def ban_is_active(ban: dict[str, Any], now: datetime) -> bool:
    today = local_date(now)
    return not ban["lifted"] and date.fromisoformat(ban["starts_on"]) <= today <= date.fromisoformat(ban["ends_on"])
