"""The printed dossier (打印审核后的申报材料) and its check: every page of the PDF carries the application
id, the position of the case's event it was made at, and a digest of the record at that position;
`verify_dossier` takes those three from a stamped paper copy and says whether they match the record.
Printing again at the same position gives the same digest (and the same bytes)."""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from shared.definition import Context

from services.subsidy import projections as rm
from services.subsidy.domain import SubsidyCase, case_id_for
from services.subsidy.handlers.cases import visible_case
from services.subsidy.store import SubsidyStore

Ctx = Context[SubsidyStore]


def digest(position: int, record: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of {position, record}."""
    canonical = json.dumps({"position": position, "record": record}, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def print_dossier(ctx: Ctx, application_id: str) -> dict[str, Any]:
    from services.subsidy import dossier  # reportlab and the font load only when a dossier is printed

    case = visible_case(ctx, application_id)
    position = ctx.store.positions(case.id)[case.version]
    record = case.dossier_record()
    printed = digest(position, record)
    with ctx.store.reading() as session:
        settings = rm.campaign_settings(session, case.campaign_code) or {}
        provider = rm.provider_name(session, case.provider_id)
    pdf = dossier.render({**record, "position": position, "digest": printed, "provider_name": provider,
                          "campaign_name": settings.get("name", case.campaign_code)})
    return {"application_id": application_id, "position": position, "digest": printed,
            "filename": f"{case.uscc}-{case.campaign_code}-dossier-p{position}.pdf", "content_type": "application/pdf",
            "sha256": hashlib.sha256(pdf).hexdigest(), "content_base64": base64.b64encode(pdf).decode()}


def verify_dossier(ctx: Ctx, printed: dict[str, Any]) -> dict[str, Any]:
    """Whether a paper copy's id, position and digest match the record: the position must be one of
    the case's own events, and the digest that of the record as it stood there."""
    case = visible_case(ctx, printed["application_id"])
    versions = {position: version for version, position in ctx.store.positions(case.id).items()}
    version = versions.get(printed["position"])
    if version is None:
        return {"matches": False, "reason": "position_not_of_this_case"}
    at = ctx.store.get(SubsidyCase, case_id_for(case.application_id), version)
    expected = digest(printed["position"], at.dossier_record())
    if expected != printed["digest"]:
        return {"matches": False, "reason": "digest_differs"}
    return {"matches": True, "reason": None, "status_now": case.status}
