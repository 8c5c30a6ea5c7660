"""What the audit service does with every upstream event: appends it to the ledger. Some also teach
it what it needs to draw and decide: campaign settings (ban_years), each submitted application (its
enterprise, city-level unit and provider), awards and revocations, and the expert accounts that may
inspect."""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import update
from sqlalchemy.orm import Session

from shared.contract import Envelope
from shared.definition import Change, EventHandler, both
from shared.readmodels import upsert

from services.audit import projections as rm
from services.audit.store import AuditStore


def on_any(store: AuditStore, envelope: Envelope) -> Change:
    def append(session: Session) -> None:
        store.append_to_ledger(session, dict(envelope))

    return Change(project=append)


def on_submitted(store: AuditStore, envelope: Envelope) -> Change | None:
    content, application_id = envelope["data"]["content"], envelope["application_id"]
    if not application_id:
        return None
    return _learn(application_id, content, (content.get("cloud") or {}).get("provider_id"))


def on_awarded(store: AuditStore, envelope: Envelope) -> Change | None:
    """The award carries the enterprise, its unit and its provider: the row stands even when the
    scoring log is followed before the application log (each source is followed on its own)."""
    data, application_id = envelope["data"], envelope["application_id"]
    if not application_id:
        return None
    return _learn(application_id, data, data["provider_id"], awarded=1)


def _learn(application_id: str, facts: dict[str, Any], provider_id: str | None, **marks: int) -> Change:
    row = {"application_id": application_id, "campaign_code": facts["campaign_code"], "uscc": facts["uscc"],
           "enterprise_name": facts["enterprise_name"], "county_code": facts["county_code"],
           "unit_code": facts["unit_code"], "provider_id": provider_id, **marks}
    return Change(project=lambda s: rm.save_application(s, row))


def on_award_revoked(store: AuditStore, envelope: Envelope) -> Change | None:
    """Always after its award in the scoring log, so the row is there."""
    application_id = envelope["application_id"]
    if not application_id:
        return None

    def mark(session: Session) -> None:
        session.execute(update(rm.applications).where(rm.applications.c.application_id == application_id)
                        .values(revoked=1))

    return Change(project=mark)


def on_account_provisioned(store: AuditStore, envelope: Envelope) -> Change | None:
    data = envelope["data"]
    if data.get("role") != "expert":
        return None
    row = {"account_id": envelope["aggregate_id"], "username": data["username"], "display_name": data["display_name"]}
    return Change(project=lambda s: upsert(s, rm.inspectors, "account_id", row))


LEARNS: dict[str, dict[str, EventHandler]] = {
    "application": {
        "application.campaign_opened": rm.campaign_book.on_opened,
        "application.submitted": on_submitted,
        "application.resubmitted": on_submitted,
        "application.account_provisioned": on_account_provisioned,
    },
    "scoring": {"scoring.awarded": on_awarded, "scoring.award_revoked": on_award_revoked},
}


def follows(sources: tuple[str, ...]) -> dict[str, Mapping[str, EventHandler]]:
    """Every source's every event into the ledger ("*"), with what the audit service learns besides."""
    return {source: {"*": on_any, **{kind: both(on_any, learn) for kind, learn in LEARNS.get(source, {}).items()}}
            for source in sources}


