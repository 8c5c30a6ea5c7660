"""What the scoring service learns upstream: campaign settings, the supply pool's credit codes and
the evaluator accounts from the application service; the cities' recommendations from the review
service. It never reads another service's store."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared.contract import Envelope
from shared.definition import Change
from shared.identity import SYSTEM, Role

from services.scoring import projections as rm
from services.scoring.domain import Candidate, Selection, Stage, candidate_id_for, selection_id_for
from services.scoring.store import ScoringStore


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
        fraud = rm.barred_reason(session, application_id)
    candidate = Candidate.open(
        store.clock.now(), SYSTEM.actor(), application_id=application_id, campaign_code=content["campaign_code"],
        round=data["round"], uscc=content["uscc"], enterprise_name=content["enterprise_name"],
        county_code=content["county_code"], unit_code=content["unit_code"],
        provider_id=content.get("cloud", {}).get("provider_id", ""), submitted_at=data["submitted_at"],
        confirmed_contracts=data["confirmed_contracts"], content=content,
        provider_confirmation=data["provider_confirmation"], county_checklist=data["county_checklist"],
        opinion=data["opinion"])
    if fraud is not None:  # audit found fraud first: it never enters the expert review
        candidate.withdraw(store.clock.now(), SYSTEM.actor(), fraud)
    return Change([candidate], lambda s: rm.project_candidate(s, candidate))


def on_withdrawn(store: ScoringStore, envelope: Envelope) -> Change | None:
    """The enterprise withdrew after its recommendation: the candidate leaves the expert review and
    any list not yet announced (the review service closes the case: review.case_withdrawn)."""
    application_id = envelope["application_id"]
    candidate = store.find(Candidate, candidate_id_for(application_id)) if application_id else None
    reason = envelope["data"].get("reason", "")
    if candidate is None:
        return None
    return _leave(store, candidate, reason, f"the enterprise withdrew / 企业撤回申报: {reason}".rstrip(": "))


def on_fraud_found(store: ScoringStore, envelope: Envelope) -> Change | None:
    """audit.fraud_found on an enterprise (弄虚作假): its title is revoked (scoring.award_revoked, which
    the subsidy service follows to cancel or reclaim); a candidate not yet awarded leaves the expert
    review and any list not yet announced."""
    application_id = envelope["application_id"]
    if not application_id:
        return None
    candidate = store.find(Candidate, candidate_id_for(application_id))
    reason = "弄虚作假，取消上云标杆企业资格：" + "；".join(envelope["data"].get("reasons") or [])
    if candidate is None:  # not recommended yet: if it ever is, it does not enter the expert review
        return Change(project=lambda s: rm.bar(s, application_id, envelope["event_id"], reason))
    if candidate.award is None:
        return _leave(store, candidate, reason, f"fraud found / 认定弄虚作假: {envelope['event_id']}")
    source = {"source": envelope["source"], "event_id": envelope["event_id"], "type": envelope["type"]}
    if not candidate.revoke(store.clock.now(), SYSTEM.actor(), reason, source):
        return None
    return Change([candidate], lambda s: rm.project_candidate(s, candidate))


def _leave(store: ScoringStore, candidate: Candidate, reason: str, why: str) -> Change | None:
    """The candidate leaves the expert review, and any list adopted or under notice."""
    if not candidate.withdraw(store.clock.now(), SYSTEM.actor(), reason):
        return None
    application_id = candidate.application_id
    changed: list[Any] = [candidate]
    selection = store.find(Selection, selection_id_for(candidate.campaign_code))
    if selection is not None and selection.stage in (Stage.ADOPTED, Stage.ON_NOTICE) and application_id in selection.entries:
        selection.remove_entry(store.clock.now(), SYSTEM.actor(), application_id, "", why)
        changed.append(selection)

    def project(session: Session) -> None:
        rm.project_candidate(session, candidate)
        if selection is not None:
            rm.project_selection(session, selection)

    return Change(changed, project)
