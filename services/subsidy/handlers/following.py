"""What the subsidy service learns upstream: campaign settings, whose application is whose and the
supply pool's names from the application service; awards and revocations from the scoring service."""
from __future__ import annotations

from shared.contract import Envelope, actor_of
from shared.definition import Change
from shared.identity import SYSTEM

from services.subsidy import projections as rm
from services.subsidy.domain import SubsidyCase, case_id_for
from services.subsidy.store import SubsidyStore


def on_provider_added(store: SubsidyStore, envelope: Envelope) -> Change:
    data = envelope["data"]
    return Change(project=lambda s: rm.save_provider(s, data["provider_id"], data["name"]))


def on_application_started(store: SubsidyStore, envelope: Envelope) -> Change | None:
    application_id = envelope["application_id"]
    if not application_id:
        return None
    enterprise_id = str(envelope["data"]["enterprise_id"])
    return Change(project=lambda s: rm.save_owner(s, application_id, enterprise_id))


def on_awarded(store: SubsidyStore, envelope: Envelope) -> Change | None:
    """An award opens the subsidy case, with the campaign's terms as they stood at the award."""
    application_id, data = envelope["application_id"], envelope["data"]
    if not application_id or store.find(SubsidyCase, case_id_for(application_id)) is not None:
        return None
    with store.reading() as session:
        settings = rm.campaign_settings(session, data["campaign_code"])
    if settings is None:
        raise LookupError(f"campaign {data['campaign_code']} not known yet")  # retried, then parked
    terms = {k: str(settings[k]) for k in ("subsidy_rate", "subsidy_cap", "reference_date")}
    case = SubsidyCase.open(
        store.clock.now(), SYSTEM.actor(), application_id=application_id, campaign_code=data["campaign_code"],
        document_number=data["document_number"], uscc=data["uscc"], enterprise_name=data["enterprise_name"],
        county_code=data["county_code"], unit_code=data["unit_code"], provider_id=data["provider_id"],
        confirmed_contracts=data["confirmed_contracts"], content=data["content"],
        provider_confirmation=data["provider_confirmation"], county_checklist=data.get("county_checklist") or {},
        city_opinion=data.get("city_opinion") or "", terms=terms)
    return Change([case], lambda s: rm.project_case(s, case))


def on_award_revoked(store: SubsidyStore, envelope: Envelope) -> Change | None:
    """A revoked title: an unpaid case is cancelled; a paid one opens a reclaim of what was paid."""
    application_id = envelope["application_id"]
    case = store.find(SubsidyCase, case_id_for(application_id)) if application_id else None
    source = {"source": envelope["source"], "event_id": envelope["event_id"], "type": envelope["type"],
              "actor": actor_of(envelope)}
    if case is None or not case.revoke(store.clock.now(), SYSTEM.actor(), envelope["data"].get("reason", ""), source):
        return None
    return Change([case], lambda s: rm.project_case(s, case))
