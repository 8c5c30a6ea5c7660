"""Base aggregate of the project: every event records who acted and when (from the injected
clock, not the wall clock), so history shows the actor and a campaign replays on its own dates."""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://hbcloud.example/ids")

E = TypeVar("E", bound="Entity")


def stable_id(kind: str, *parts: str) -> UUID:
    """Deterministic ids make uniqueness a property of the store: a second aggregate with the same
    natural key cannot be saved (one account per user name, one application per enterprise and
    campaign)."""
    return uuid5(ID_NAMESPACE, ":".join((kind, *parts)))


class Entity(Aggregate):
    @classmethod
    def _begin(cls: type[E], event_class: type, id: UUID, at: datetime, actor: dict[str, str], **data: Any) -> E:
        return cls._create(event_class, id=id, timestamp=at, actor=actor, **data)

    def _happen(self, event_class: type, at: datetime, actor: dict[str, str], **data: Any) -> None:
        self.trigger_event(event_class, timestamp=at, actor=actor, **data)
