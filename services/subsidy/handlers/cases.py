"""Subsidy cases: who sees which, the enterprise's details, the stamps and the filing, and the money
(calculation, approval, payment, recovery)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, true

from shared.access import Subject, may_see, scope
from shared.definition import Change, Context
from shared.errors import Forbidden, InvalidState, NotFound
from shared.identity import Principal, Role

from services.subsidy import projections as rm
from services.subsidy import rules
from services.subsidy.domain import Level, Status, SubsidyCase, case_id_for
from services.subsidy.events import contract, masked
from services.subsidy.store import SubsidyStore

Ctx = Context[SubsidyStore]
SEES_EVERY_CASE = frozenset({Role.PROVINCE, Role.AUDITOR, Role.FINANCE})
SEES_BANK_DETAILS = frozenset({Role.FINANCE, Role.ENTERPRISE})


# ------------------------------------------------------------------ jurisdiction
def subject(ctx: Ctx, case: SubsidyCase) -> Subject:
    with ctx.store.reading() as session:
        owner = rm.owner_of(session, case.application_id)
    return Subject(enterprise_id=owner, county_code=case.county_code, unit_code=case.unit_code,
                   provider_ids=frozenset(), submitted=True)


def sees(ctx: Ctx, case: SubsidyCase) -> bool:
    return ctx.me.role in SEES_EVERY_CASE or may_see(ctx.me, subject(ctx, case))


def visible_case(ctx: Ctx, application_id: str) -> SubsidyCase:
    case = ctx.store.find(SubsidyCase, case_id_for(application_id))
    if case is None or not sees(ctx, case):
        raise NotFound({"application_id": application_id}, zh="未找到该补助案件", en="No such subsidy case")
    return case


def locate_case(ctx: Ctx, application_id: str) -> None:
    """Jurisdiction before input (the pipeline's `locate`)."""
    visible_case(ctx, application_id)


def saved(case: SubsidyCase, **answer: Any) -> Change:
    return Change([case], lambda s: rm.project_case(s, case),
                  {"application_id": case.application_id, "status": case.status, **answer})


# ------------------------------------------------------------------ views
def describe(ctx: Ctx, case: SubsidyCase) -> dict[str, Any]:
    payee = dict(case.payee) if case.payee else None
    if payee is not None and ctx.me.role not in SEES_BANK_DETAILS:
        payee["account"] = masked(payee["account"])
    return {"application_id": case.application_id, "campaign_code": case.campaign_code,
            "document_number": case.document_number, "enterprise_name": case.enterprise_name, "uscc": case.uscc,
            "county_code": case.county_code, "unit_code": case.unit_code, "status": case.status,
            "terms": case.terms, "payee": payee, "invoices": case.invoices, "stamps": case.stamps,
            "calculation": case.calculation, "approved": case.approved, "payment": case.payment,
            "reclaim": case.reclaim, "version": case.version}


def get_subsidy_case(ctx: Ctx, application_id: str) -> dict[str, Any]:
    return describe(ctx, visible_case(ctx, application_id))


def subsidy_case_history(ctx: Ctx, application_id: str) -> list[dict[str, Any]]:
    case = visible_case(ctx, application_id)
    return contract.history(ctx.store.events.get(case.id), ctx.store.installation_id)


def list_subsidy_cases(ctx: Ctx, query: dict[str, Any]) -> dict[str, Any]:
    c = rm.cases
    if ctx.me.role in SEES_EVERY_CASE:
        where: Any = true()
    else:
        allowed = scope(ctx.me)  # forbidden for roles that see no application
        if allowed.column not in ("county_code", "unit_code"):
            raise Forbidden()
        where = c.c[allowed.column] == allowed.value
    if query["campaign_code"]:
        where = and_(where, c.c.campaign_code == query["campaign_code"])
    if query["status"]:
        where = and_(where, c.c.status == query["status"])
    with ctx.store.reading() as session:
        rows = rm.case_rows(session, where)
    return {"items": rows, "total": len(rows)}


# ------------------------------------------------------------------ filing
def give_details(ctx: Ctx, application_id: str, details: dict[str, Any]) -> Change:
    case = visible_case(ctx, application_id)
    case.give_details(ctx.now, ctx.actor(), details["payee"], details["invoices"])
    return saved(case)


def stamp_level(principal: Principal, case: SubsidyCase) -> str:
    """The stamp the caller's bureau gives: its county's, its city's, or (定州, 辛集, whose unit is
    the county itself) both at once."""
    if principal.role is Role.COUNTY and principal.division_code == case.county_code and case.unit_code != case.county_code:
        return Level.COUNTY
    if principal.role is Role.CITY and principal.division_code == case.unit_code:
        return Level.BOTH if case.unit_code == case.county_code else Level.CITY
    raise Forbidden({"county_code": case.county_code}, zh="无权为此案件盖章", en="Not your bureau's stamp")


def stamp(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    case = visible_case(ctx, application_id)
    case.stamp(ctx.now, ctx.actor(), stamp_level(ctx.me, case), data["remarks"])
    return saved(case, stamps=sorted(case.stamps))


def file_case(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    case = visible_case(ctx, application_id)
    case.file(ctx.now, ctx.actor(), data["remarks"])
    return saved(case)


def send_back(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    case = visible_case(ctx, application_id)
    case.send_back(ctx.now, ctx.actor(), data["reasons"])
    return saved(case)


# ------------------------------------------------------------------ money
def calculate(ctx: Ctx, application_id: str) -> Change:
    case = visible_case(ctx, application_id)
    if case.status not in (Status.FILED, Status.CALCULATED):
        raise InvalidState({"status": case.status, "expected": [Status.FILED, Status.CALCULATED]},
                           zh="仅在备案后、批准前可核算", en="A case is calculated after its filing and before its approval")
    inputs = {"contracts": case.content.get("contracts", []),
              "confirmed": [c["contract_id"] for c in case.confirmed_contracts],
              "rate": case.terms["subsidy_rate"], "cap": case.terms["subsidy_cap"],
              "reference_date": case.terms["reference_date"], "invoices": case.invoices}
    result = rules.calculate(**inputs)
    case.calculate(ctx.now, ctx.actor(), inputs, result)
    return saved(case, calculation=result)


def approve(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    case = visible_case(ctx, application_id)
    case.approve(ctx.now, ctx.actor(), data["amount"])
    return saved(case, approved=case.approved)


def record_payment(ctx: Ctx, application_id: str, payment: dict[str, Any]) -> Change:
    """Once per voucher: the same voucher again answers the payment recorded."""
    case = visible_case(ctx, application_id)
    if case.payment is not None and case.payment["voucher_reference"] == payment["voucher_reference"]:
        if case.payment["paid_on"] != payment["paid_on"] or case.payment["amount"] != payment["amount"]:
            raise InvalidState({"payment": case.payment}, zh="该凭证已登记为另一笔付款",
                               en="This voucher was recorded with another date or amount")
        return Change(answer={"application_id": application_id, "status": case.status, "payment": case.payment})
    with ctx.store.reading() as session:
        elsewhere = rm.voucher_used(session, payment["voucher_reference"])
    if elsewhere is not None:
        raise InvalidState({"voucher_reference": payment["voucher_reference"], "paid_for": elsewhere},
                           zh="该付款凭证已登记于另一案件", en="This bank voucher was recorded for another case")
    case.pay(ctx.now, ctx.actor(), payment["paid_on"], payment["amount"], payment["voucher_reference"])
    return saved(case, payment=case.payment)


def record_recovery(ctx: Ctx, application_id: str, recovery: dict[str, Any]) -> Change:
    case = visible_case(ctx, application_id)
    case.recover(ctx.now, ctx.actor(), recovery["recovered_on"], recovery["amount"], recovery["reference"])
    return saved(case, reclaim=case.reclaim)
