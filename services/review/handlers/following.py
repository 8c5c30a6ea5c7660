"""What the review service learns from the application service's events: campaign settings, the
supply pool, and the submissions, resubmissions and withdrawals that open, restart and close cases.
It never reads another service's store."""
from __future__ import annotations

from typing import Any

from shared.contract import Envelope
from shared.definition import Change
from shared.identity import SYSTEM

from services.review import projections as rm
from services.review.domain import Deadlines, ReviewCase, case_id_for
from services.review.handlers.cases import saved
from services.review.store import ReviewStore


def on_provider_added(store: ReviewStore, envelope: Envelope) -> Change:
    return Change(project=lambda s: rm.set_pool_member(s, envelope["data"]["provider_id"], True))


def on_provider_removed(store: ReviewStore, envelope: Envelope) -> Change:
    return Change(project=lambda s: rm.set_pool_member(s, envelope["data"]["provider_id"], False))


def on_submitted(store: ReviewStore, envelope: Envelope) -> Change | None:
    """A submission opens a case; a resubmission after a return starts its next round."""
    data, application_id, now = envelope["data"], envelope["application_id"], store.clock.now()
    if application_id is None:
        return None
    existing = store.find(ReviewCase, case_id_for(application_id))
    if existing is not None:
        return saved(existing) if existing.restart(now, SYSTEM.actor(), data["round"], data["content"]) else None
    campaign_code = data["content"]["campaign_code"]
    with store.reading() as session:
        settings = rm.campaign_settings(session, campaign_code)
    if settings is None:
        raise LookupError(f"campaign {campaign_code} not known yet")  # retried, then parked
    # The first submission is the one that opens the case: its instant is the experts' tie-break.
    first = envelope["occurred_at"] if envelope["type"] == "application.submitted" else None
    case = ReviewCase.open(now, SYSTEM.actor(), application_id, campaign_code, data["round"], data["content"],
                           Deadlines.from_settings(settings), first)
    return saved(case)


def on_withdrawn(store: ReviewStore, envelope: Envelope) -> Change | None:
    application_id = envelope["application_id"]
    existing = store.find(ReviewCase, case_id_for(application_id)) if application_id else None
    if existing is None or not existing.withdraw(store.clock.now(), SYSTEM.actor(), envelope["data"].get("reason", "")):
        return None
    return saved(existing)
