"""抽查: the province draws benchmark enterprises by a reproducible draw; inspectors (expert accounts:
专家、第三方服务机构) record a finding per sampled enterprise, with evidence. An inspector sees only the
checks it was named on; the province and auditors see all."""
from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select

from shared import evidence
from shared.definition import Change, Context
from shared.errors import InvalidInput, InvalidState, NotFound
from shared.identity import Role

from services.audit import projections as rm
from services.audit import rules
from services.audit.domain import SpotCheck
from services.audit.schemas import EVIDENCE_MAX_BYTES, EVIDENCE_TYPES
from services.audit.store import AuditStore

Ctx = Context[AuditStore]


def _as_uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFound() from None


def visible_check(ctx: Ctx, spot_check_id: str) -> SpotCheck:
    """The check, if the caller may see it: an inspector only the checks it was named on."""
    check = ctx.store.find(SpotCheck, _as_uuid(spot_check_id))
    if check is None or (ctx.me.role is Role.EXPERT and ctx.me.account_id not in check.inspectors):
        raise NotFound({"spot_check_id": spot_check_id})
    return check


def locate_check(ctx: Ctx, spot_check_id: str) -> None:
    visible_check(ctx, spot_check_id)


def draw_spot_check(ctx: Ctx, data: dict[str, Any]) -> Change:
    campaign, inspectors = data["campaign_code"], sorted(set(data["inspectors"]))
    with ctx.store.reading() as session:
        members = rm.benchmarks(session, campaign)
        known = set(session.execute(select(rm.inspectors.c.account_id)
                                    .where(rm.inspectors.c.account_id.in_(inspectors))).scalars())
    if set(inspectors) - known:
        raise InvalidInput.fields({"inspectors": [f"not expert accounts: {', '.join(sorted(set(inspectors) - known))} "
                                                  f"/ 不是专家账号"]})
    if not members:
        raise InvalidState({"campaign_code": campaign}, zh="该批次没有可抽查的上云标杆企业",
                           en="The campaign has no benchmark enterprises to draw from")
    # The seed is the service's own, never the caller's: a seed chosen offline against the public
    # population could leave out an enterprise. Every draw is an event, so a redraw shows.
    seed = secrets.token_hex(16)
    population = [{"application_id": m["application_id"], "unit_code": m["unit_code"]} for m in members]
    size = rules.size_for(len(population), data["size"], data["share"])
    allocation, drawn = rules.draw_sample(seed, population, size, data["stratify_by_city"])
    by_id = {m["application_id"]: m for m in members}
    sample = [{"application_id": a, "unit_code": by_id[a]["unit_code"], "uscc": by_id[a]["uscc"],
               "enterprise_name": by_id[a]["enterprise_name"]} for a in drawn]
    check = SpotCheck.draw(uuid4(), ctx.now, ctx.actor(), campaign_code=campaign, rule=rules.RULE, seed=seed,
                           population=population, size=size,
                           share=None if data["share"] is None else str(data["share"]),
                           stratify_by_city=data["stratify_by_city"], allocation=allocation, sample=sample,
                           inspectors=inspectors)
    return Change([check], lambda s: rm.project_spot_check(s, check), check.view())


def record_finding(ctx: Ctx, spot_check_id: str, application_id: str, finding: dict[str, Any]) -> Change:
    check = visible_check(ctx, spot_check_id)
    files, errors = [], {}
    for i, item in enumerate(finding["evidence"]):
        name, problems = evidence.check(item["filename"], item["content_type"], item["content_base64"],
                                        EVIDENCE_TYPES, EVIDENCE_MAX_BYTES)
        errors.update({f"evidence.{i}.{field}": messages for field, messages in problems.items()})
        files.append({"document_id": str(uuid4()), "filename": name, "content_type": item["content_type"],
                      "sha256": hashlib.sha256(item["content_base64"]).hexdigest(), "size": len(item["content_base64"]),
                      "content": item["content_base64"]})
    if errors:
        raise InvalidInput.fields(errors)
    finding_id = str(uuid4())
    check.record_finding(ctx.now, ctx.actor(), application_id, finding_id, finding["outcome"],
                         finding["summary"].strip(), [{k: v for k, v in f.items() if k != "content"} for f in files])

    def project(session: Any) -> None:
        rm.project_spot_check(session, check)
        for f in files:
            session.execute(rm.evidence.insert().values(
                document_id=f["document_id"], spot_check_id=str(check.id), application_id=application_id,
                filename=f["filename"], content_type=f["content_type"], sha256=f["sha256"], content=f["content"]))

    return Change([check], project, {"spot_check_id": str(check.id), "finding_id": finding_id})


def get_spot_check(ctx: Ctx, spot_check_id: str) -> dict[str, Any]:
    return visible_check(ctx, spot_check_id).view()


def list_spot_checks(ctx: Ctx, query: dict[str, Any]) -> list[dict[str, Any]]:
    with ctx.store.reading() as session:
        checks = rm.list_spot_checks(session, query["campaign_code"])
    if ctx.me.role is Role.EXPERT:
        checks = [c for c in checks if ctx.me.account_id in c["inspectors"]]
    return [{k: v for k, v in c.items() if k != "findings"} | {"findings": len(c["findings"])} for c in checks]


def get_evidence(ctx: Ctx, document_id: str) -> dict[str, Any]:
    with ctx.store.reading() as session:
        row = session.execute(select(rm.evidence).where(rm.evidence.c.document_id == document_id)).mappings().first()
    try:
        if row is None:
            raise NotFound()
        visible_check(ctx, row["spot_check_id"])
    except NotFound:
        raise NotFound({"document_id": document_id}) from None  # the same answer whether it exists or not
    return {"document_id": document_id, "spot_check_id": row["spot_check_id"], "application_id": row["application_id"],
            "filename": row["filename"], "content_type": row["content_type"], "sha256": row["sha256"],
            "content_base64": base64.b64encode(row["content"]).decode()}
