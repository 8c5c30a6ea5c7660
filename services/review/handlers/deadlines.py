"""Deadlines against the injected clock: overdue flags and the lapse at the system close."""
from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import IntegrityError

from shared.clock import local_date
from shared.definition import record
from shared.identity import SYSTEM

from services.review import projections as rm
from services.review.domain import ReviewCase
from services.review.handlers.cases import saved
from services.review.store import ReviewStore


def check_deadlines(store: ReviewStore) -> int:
    """Flag overdue stages and lapse unfinished cases at the system close, from the injected clock
    over stored state: survives restarts, and every change is an event."""
    now = store.clock.now()
    with store.reading() as session:
        ids = rm.cases_due(session, local_date(now).isoformat())
    changed = 0
    for case_id in ids:
        case = store.find(ReviewCase, UUID(case_id))
        if case is None:
            continue
        while case.due_changes(now, SYSTEM.actor()):
            pass
        if not case.pending_events:
            continue
        try:
            record(store, saved(case))
            changed += 1
        except IntegrityError:
            continue  # another replica or a reviewer changed it: the next scan looks again
    return changed
