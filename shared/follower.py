"""Prompt-and-pull consumption of an upstream service's events (docs/architecture.md, "The delivery guarantee").

A message is only a prompt. Upstream events are processed strictly in position order; the tracked
position is written in the same transaction as the events that processing produced, with an atomic
conditional write, so a duplicate (from redelivery, a republishing relay, or a second process) fails
harmlessly. A gap is filled by pulling `get_notifications(after, limit)` from the upstream. An event
whose processing keeps failing is parked with its error after `max_attempts`, and can be retried;
or, for a follower that may skip nothing (the audit ledger: `parks=False`), it stalls there, says why
in `stalled`, and is tried again at the next pull."""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Callable, Mapping, Protocol, Sequence

from eventsourcing.persistence import IntegrityError, Recording, Tracking
from marshmallow import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from shared.contract import Envelope, read_envelope
from shared.definition import NOTHING, Change, EventHandler, combine, record
from shared.ports import TrackingStore, Transactions
from shared.store import rowcount

log = logging.getLogger(__name__)


Handle = Callable[[Envelope], Change]  # an upstream envelope -> what processing it produced


def dispatch(store: Any, table: Mapping[str, EventHandler]) -> Handle:
    """A Handle from a service's handler table (public type -> handler, "*" for any other type);
    types without a handler change nothing."""

    def handle(envelope: Envelope) -> Change:
        handler = table.get(envelope["type"]) or table.get("*")
        return (handler(store, envelope) if handler is not None else None) or NOTHING

    return handle


class Fetch(Protocol):
    def __call__(self, after: int, limit: int) -> dict[str, Any]: ...


class Stalled(Exception):
    """A follower that may not skip an event could not process it; it stays where it is."""


class Follower:
    MAX_CONFLICTS = 20

    def __init__(
        self,
        store: TrackingStore,
        upstream: str,
        handle: Handle,
        fetch: Fetch,
        *,
        max_attempts: int = 3,
        page_size: int = 500,
        retry_delays: Sequence[float] = (0.5, 2.0),
        parks: bool = True,
        batch: int = 1,
    ) -> None:
        self.store = store
        self.upstream = upstream
        self.handle = handle
        self.fetch = fetch
        self.max_attempts = max_attempts
        self.page_size = page_size
        # Waits between failed attempts, so that a passing failure (an upstream not ready yet, a
        # database restarting) is not parked at once.
        self.retry_delays = tuple(retry_delays)
        self.parks = parks
        self.batch = max(1, batch)  # events per transaction when every one of them goes through
        self.stalled: dict[str, Any] | None = None  # {position, error} while a non-parking follower is stuck
        self._lock = threading.Lock()  # one pull per upstream at a time in this process

    def tracked(self) -> int:
        return self.store.tracked_position(self.upstream)

    def prompt(self, message: dict[str, Any]) -> None:
        """A message arrived: it only says there may be something new. What is processed is what the
        upstream's own log holds, pulled in pages; the body is never trusted (anyone who can publish
        on the virtual host can send one). A message at or below the tracked position is skipped."""
        position = message.get("position") if isinstance(message, dict) else None
        with self._lock:
            if isinstance(position, int) and not isinstance(position, bool) and position <= self.tracked():
                return
            self._pull()

    def read_upstream(self, after: int, limit: int) -> dict[str, Any]:
        """A page of the upstream's log as it answers now, for a comparison (audit's reconciliation);
        pulls and this share one connection, so they take turns."""
        with self._lock:
            return self.fetch(after=after, limit=limit)

    def catch_up(self) -> int:
        """Pull and process everything after the tracked position (start-up and timer)."""
        with self._lock:
            return self._pull()

    def _pull(self) -> int:
        done = 0
        try:
            while True:
                tracked = self.tracked()
                page = self.fetch(after=tracked, limit=self.page_size)
                items = [n for n in page["notifications"] if n["position"] > tracked]
                for start in range(0, len(items), self.batch):
                    chunk = items[start:start + self.batch]
                    if len(chunk) == 1 or not self._process_together(chunk):
                        for item in chunk:
                            self._process(item)
                    done += len(chunk)
                if len(page["notifications"]) < self.page_size:
                    self.stalled = None
                    return done
        except Stalled:
            return done

    def _process_together(self, chunk: list[dict[str, Any]]) -> bool:
        """Several events in one transaction, tracked at the last (`batch` > 1: for handlers that do
        all their reading and writing inside the transaction, as the audit ledger's do, so each sees
        the one before). False, having recorded nothing, when any of them needs the one-by-one path:
        a malformed envelope, a failing handler, a conflict or a duplicate."""
        try:
            together = combine([self.handle(read_envelope(message)) for message in chunk])
            record(self.store, together, tracking=Tracking(self.upstream, chunk[-1]["position"]))
        except Exception:  # whatever it was, the one-by-one path meets it again and deals with it
            return False
        return True

    def _process(self, message: dict[str, Any]) -> None:
        position = message["position"]
        try:
            envelope = read_envelope(message)
        except ValidationError as e:
            self._park(message, f"malformed envelope: {e.messages}")
            return
        error, failures, conflicts = "", 0, 0
        while failures < self.max_attempts:
            try:
                change = self.handle(envelope)
                record(self.store, change, tracking=Tracking(self.upstream, position))
                return
            except IntegrityError:
                if self.tracked() >= position:
                    return  # another process (or a redelivery) did it first
                # Someone changed an aggregate this event touches meanwhile: load and try again. A
                # conflict is not the event's fault, so it never parks it.
                conflicts += 1
                if conflicts >= self.MAX_CONFLICTS:  # not a passing race: something holds this position
                    self._stall(position, f"{self.MAX_CONFLICTS} conflicting writes in a row (integrity error)")
                    if not self.parks:
                        raise Stalled(position)
                    raise
            except Exception as e:  # the handler failed: counts toward parking
                log.exception("processing %s@%s failed", self.upstream, position)
                failures += 1
                error = f"{type(e).__name__}: {e}"
                if failures < self.max_attempts and self.retry_delays:
                    time.sleep(self.retry_delays[min(failures, len(self.retry_delays)) - 1])
        self._park(message, error)

    def _stall(self, position: Any, error: str) -> None:
        """Stuck at `position`: said in `health`, tried again at the next pull."""
        self.stalled = {"position": position, "error": error[:4000], "since": self.store.clock.now().isoformat()}
        log.error("stalled at %s@%s: %s", self.upstream, position, error)

    def _park(self, message: dict[str, Any], error: str) -> None:
        if not self.parks:
            self._stall(message.get("position"), error)
            raise Stalled(error)
        books = self.store.books
        try:
            with self.store.transaction() as session:
                if not self.store.mark_processed(session, self.upstream, message["position"]):
                    return
                session.execute(
                    insert(books.parked).values(
                        upstream=self.upstream,
                        position=message["position"],
                        event_type=str(message.get("type", "?"))[:80],
                        envelope=json.dumps(message, ensure_ascii=False),
                        error=error[:4000],
                        attempts=self.max_attempts,
                        parked_at=self.store.clock.now().isoformat(),
                    )
                )
        except IntegrityError:
            return
        log.error("parked %s@%s: %s", self.upstream, message["position"], error)

    def retry_parked(self, parked_id: int) -> bool:
        """Process a parked event again (out of order, on an operator's word). True when it went
        through; on failure it stays parked with the new error."""
        books = self.store.books
        with self.store.reading() as session:
            row = session.execute(
                select(books.parked).where(
                    books.parked.c.id == parked_id,
                    books.parked.c.upstream == self.upstream,
                    books.parked.c.resolved_at.is_(None),
                )
            ).mappings().first()
        if row is None:
            return False
        message = json.loads(row["envelope"])
        try:
            change = self.handle(read_envelope(message))
        except Exception as e:
            with self.store.transaction() as session:
                session.execute(
                    update(books.parked)
                    .where(books.parked.c.id == parked_id)
                    .values(error=f"{type(e).__name__}: {e}"[:4000], attempts=books.parked.c.attempts + 1)
                )
            return False

        def resolve(session: Session, recordings: Sequence[Recording]) -> None:
            if change.project is not None:
                change.project(session)
            changed = rowcount(session.execute(
                update(books.parked)
                .where(books.parked.c.id == parked_id, books.parked.c.resolved_at.is_(None))
                .values(resolved_at=self.store.clock.now().isoformat(), resolution="retried")
            ))
            if changed != 1:
                raise IntegrityError("parked event already resolved")

        try:
            self.store.record(*change.aggregates, project=resolve)
        except IntegrityError:
            return False
        return True


def list_parked(store: Transactions, include_resolved: bool = False) -> list[dict[str, Any]]:
    parked = store.books.parked
    query = select(parked).order_by(parked.c.id)
    if not include_resolved:
        query = query.where(parked.c.resolved_at.is_(None))
    with store.reading() as session:
        rows = session.execute(query).mappings().all()
    return [{k: v for k, v in row.items() if k != "envelope"} | {"envelope": json.loads(row["envelope"])} for row in rows]
