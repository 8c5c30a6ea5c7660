"""弄虚作假: the province decides, with reasons, on a spot check's finding or on any other ground found
after submission (a county's review, an objection upheld in the public notice, a report). Fraud by
an enterprise bans it (ban_years of its campaign) and disqualifies the provider that confirmed its
claims; the scoring service revokes its title and the subsidy service reclaims what was paid, both
following `audit.fraud_found`. Fraud by a provider alone disqualifies the provider."""
from __future__ import annotations

from typing import Any
from uuid import uuid4

from sqlalchemy import select

from shared.clock import ban_end, local_date
from shared.definition import Change, Context
from shared.entity import stable_id
from shared.errors import InvalidInput, InvalidState, NotFound

from services.audit import projections as rm
from services.audit.domain import FraudDecision, already_decided
from services.audit.store import AuditStore

Ctx = Context[AuditStore]


def _findings_on(session: Any, campaign_code: str, application_id: str) -> dict[str, str]:
    """finding id -> spot check id, for every finding recorded on the application (in its campaign's checks)."""
    return {f["finding_id"]: check["spot_check_id"] for check in rm.list_spot_checks(session, campaign_code)
            for f in check["findings"] if f["application_id"] == application_id}


def decide_fraud(ctx: Ctx, data: dict[str, Any]) -> Change:
    application_id, provider_id = data["application_id"], data["provider_id"]
    grounds, fraud = data["grounds"], data["outcome"] == "fraud"
    errors: dict[str, list[str]] = {}
    with ctx.store.reading() as session:
        if application_id is not None:
            app = rm.application(session, application_id)
            if app is None:
                raise NotFound({"application_id": application_id}, zh="没有该已提交的申报", en="No submitted application with this id")
            settings = rm.campaign_book.get(session, app["campaign_code"])
            findings = _findings_on(session, app["campaign_code"], application_id)
            if grounds["kind"] == "spot_check":
                check = rm.spot_check(session, grounds["reference"])
                if check is None or not any(s["application_id"] == application_id for s in check["sample"]):
                    errors["grounds.reference"] = ["not a spot check that sampled this application / 不是抽中该企业的抽查"]
            unknown = [f for f in data["findings"] if f not in findings]
            if unknown:
                errors["findings"] = [f"not findings on this application: {', '.join(unknown)} / 不是对该企业的检查结论"]
            prior = rm.list_decisions(session, application_id=application_id, outcome="fraud")
        else:
            known = session.execute(select(ctx.store.books.providers.c.provider_id)
                                    .where(ctx.store.books.providers.c.provider_id == provider_id)).scalar()
            if known is None:
                raise NotFound({"provider_id": provider_id}, zh="资源池中从未有该服务商", en="No such provider in the supply pool's history")
            if data["findings"]:
                errors["findings"] = ["findings belong to an enterprise's decision / 检查结论只用于企业认定"]
            if grounds["kind"] == "spot_check" and rm.spot_check(session, grounds["reference"]) is None:
                errors["grounds.reference"] = ["no such spot check / 没有该抽查"]
            prior = [d for d in rm.list_decisions(session, provider_id=provider_id, outcome="fraud")
                     if d["subject"] == "provider"]
    if errors:
        raise InvalidInput.fields(errors)
    if prior:  # fraud is found once; no later decision contradicts it
        raise already_decided()
    ban = None
    if application_id is not None:
        assert app is not None
        subject = {"application_id": application_id, "subject": "enterprise", "uscc": app["uscc"],
                   "enterprise_name": app["enterprise_name"], "campaign_code": app["campaign_code"],
                   "provider_id": app["provider_id"]}
        if fraud:
            if settings is None:
                raise InvalidState({"campaign_code": app["campaign_code"]}, zh="尚未获知该批次的设置",
                                   en="The campaign's settings are not known yet")
            starts = local_date(ctx.now)
            ban = (starts, ban_end(starts, int(settings["ban_years"])), int(settings["ban_years"]))
    else:
        subject = {"application_id": None, "subject": "provider", "uscc": None, "enterprise_name": None,
                   "campaign_code": None, "provider_id": provider_id}
    # A finding of fraud has one id per subject: two province desks deciding at once cannot both record it.
    decision_id = stable_id("fraud-found", subject["subject"], application_id or provider_id) if fraud else uuid4()
    decision = FraudDecision.decide(decision_id, ctx.now, ctx.actor(), fraud, ban, reasons=data["reasons"],
                                    grounds=dict(grounds), findings=list(data["findings"]), **subject)
    return Change([decision], lambda s: rm.project_decision(s, decision), decision.view())


def get_decision(ctx: Ctx, decision_id: str) -> dict[str, Any]:
    with ctx.store.reading() as session:
        found = rm.decision(session, decision_id)
    if found is None:
        raise NotFound({"decision_id": decision_id})
    return found


def list_decisions(ctx: Ctx, query: dict[str, Any]) -> list[dict[str, Any]]:
    with ctx.store.reading() as session:
        return rm.list_decisions(session, query["application_id"], query["provider_id"], query["outcome"])
