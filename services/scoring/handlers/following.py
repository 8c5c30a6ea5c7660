"""What the scoring service learns upstream: campaign settings, the supply pool's credit codes and
the evaluator accounts from the application service; the cities' recommendations from the review
service. It never reads another service's store."""
from __future__ import annotations

from shared.contract import Envelope
from shared.definition import Change
from shared.identity import SYSTEM, Role

from services.scoring import projections as rm
from services.scoring.domain import Candidate, candidate_id_for
from services.scoring.store import ScoringStore


def on_campaign_opened(store: ScoringStore, envelope: Envelope) -> Change:
    data = envelope["data"]
    return Change(project=lambda s: rm.save_campaign(s, data["code"], data["settings"]))


def on_provider_added(store: ScoringStore, envelope: Envelope) -> Change:
    data = envelope["data"]
    return Change(project=lambda s: rm.save_provider(s, data["provider_id"], data["uscc"]))


def on_account_provisioned(store: ScoringStore, envelope: Envelope) -> Change | None:
    data = envelope["data"]
    if data["role"] != Role.EXPERT.value:
        return None
    return Change(project=lambda s: rm.save_evaluator_account(s, envelope["aggregate_id"], data["username"],
                                                             data["display_name"]))


def on_recommended(store: ScoringStore, envelope: Envelope) -> Change | None:
    """A city's recommendation opens a candidate for the expert review (once per application)."""
    application_id, data = envelope["application_id"], envelope["data"]
    if application_id is None or store.find(Candidate, candidate_id_for(application_id)) is not None:
        return None
    content = data["content"]
    with store.reading() as session:
        if rm.campaign_settings(session, content["campaign_code"]) is None:
            raise LookupError(f"campaign {content['campaign_code']} not known yet")  # retried, then parked
    candidate = Candidate.open(
        store.clock.now(), SYSTEM.actor(), application_id=application_id, campaign_code=content["campaign_code"],
        round=data["round"], uscc=content["uscc"], enterprise_name=content["enterprise_name"],
        county_code=content["county_code"], unit_code=content["unit_code"],
        provider_id=content.get("cloud", {}).get("provider_id", ""), submitted_at=data["submitted_at"],
        confirmed_contracts=data["confirmed_contracts"], content=content,
        provider_confirmation=data["provider_confirmation"], county_checklist=data["county_checklist"],
        opinion=data["opinion"])
    return Change([candidate], lambda s: rm.project_candidate(s, candidate))
