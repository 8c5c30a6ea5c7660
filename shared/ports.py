"""The narrow interfaces the relay and the followers need of a store (ServiceStore provides both),
so that each depends on what it uses, and a test can give it something smaller."""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Callable, Protocol, Sequence
from uuid import UUID

from eventsourcing.persistence import Mapper, Recording, Tracking
from sqlalchemy.orm import Session

from shared.bookkeeping import Bookkeeping
from shared.clock import Clock


class Transactions(Protocol):
    @property
    def books(self) -> Bookkeeping: ...

    @property
    def clock(self) -> Clock: ...

    def transaction(self) -> AbstractContextManager[Session]: ...

    def reading(self) -> AbstractContextManager[Session]: ...


class PublishedLog(Transactions, Protocol):
    """What the outbox relay reads, and where it records how far it published."""

    @property
    def notification_log(self) -> Any: ...  # select(start, limit) -> notifications

    @property
    def mapper(self) -> Mapper[UUID]: ...

    @property
    def installation_id(self) -> str: ...  # part of every event_id (shared/contract.py)


class TrackingStore(Transactions, Protocol):
    """What a follower writes to: events with the upstream position they came from, atomically."""

    def tracked_position(self, upstream: str) -> int: ...

    def mark_processed(self, session: Session, upstream: str, position: int) -> bool: ...

    def record(self, *aggregates: Any, tracking: Tracking | None = None,
               project: Callable[[Session, Sequence[Recording]], None] | None = None) -> int | None: ...
