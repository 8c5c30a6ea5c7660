"""The public event contract (docs/architecture.md, docs/events.md): every stored domain event maps to a public type
with a versioned marshmallow schema, and is published in a plain-JSON envelope that any subscriber
can read. Consumers read only envelopes, never another service's classes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from typing import Any, Callable, Sequence, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import Mapper, Notification
from marshmallow import Schema, ValidationError, fields, validate

from shared.errors import IntegrityFailure
from shared.fields import Pattern

EVENT_ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://hbcloud.example/events")


class Actor(TypedDict):
    id: str
    role: str


class Envelope(TypedDict):
    """A public event as consumers read it (the envelope of docs/events.md), validated."""

    event_id: str
    type: str
    schema_version: int
    source: str
    position: int
    occurred_at: str
    aggregate_id: str
    aggregate_version: int
    application_id: str | None
    actor: Actor
    data: dict[str, Any]


def actor_of(envelope: Envelope) -> dict[str, str]:
    """Who acted upstream, in the form a downstream event records it."""
    return {"id": envelope["actor"]["id"], "role": envelope["actor"]["role"]}


class ActorSchema(Schema):
    id = fields.String(required=True)
    role = fields.String(required=True)


class EnvelopeSchema(Schema):
    """What every published message and every get_notifications item looks like."""

    event_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=Pattern(r"^[a-z_]+\.[a-z_.]+$"))
    schema_version = fields.Integer(required=True, validate=validate.Range(min=1))
    source = fields.String(required=True)
    position = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.String(required=True)
    aggregate_id = fields.String(required=True)
    aggregate_version = fields.Integer(required=True)
    application_id = fields.String(allow_none=True, load_default=None)
    actor = fields.Nested(ActorSchema, required=True)
    data = fields.Dict(required=True)


@dataclass(frozen=True)
class PublicType:
    name: str
    schema: type[Schema]
    version: int
    # How to find the correlating application id, if the event concerns one.
    application_id: Callable[[Any], str | None]


def not_about_an_application(_event: Any) -> None:
    return None


def is_the_application(event: Any) -> str:
    return str(event.originator_id)


def event_id(installation: str, source: str, aggregate_id: Any, aggregate_version: int) -> str:
    """The same for the same event however often it is published (deduplicate on it), and different
    in another installation replaying the same history: a subscriber that deduplicates across
    environments (a test system and production) must not drop real events."""
    return str(uuid5(EVENT_ID_NAMESPACE, f"{installation}:{source}:{aggregate_id}:{aggregate_version}"))


class Contract:
    """One service's public event types."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._by_class: dict[type, PublicType] = {}

    def register(
        self,
        event_class: type,
        name: str,
        schema: type[Schema],
        *,
        version: int = 1,
        application_id: Callable[[Any], str | None] = not_about_an_application,
    ) -> None:
        assert name.startswith(self.source + "."), name
        self._by_class[event_class] = PublicType(name, schema, version, application_id)

    def types(self) -> list[PublicType]:
        return list(self._by_class.values())

    def entries(self) -> list[tuple[type, PublicType]]:
        """(stored event class, its public type) pairs."""
        return list(self._by_class.items())

    def registered_classes(self) -> set[type]:
        return set(self._by_class)

    def public_type(self, event: Any) -> PublicType:
        return self._by_class[type(event)]

    def envelope(self, position: int, event: Any, installation: str) -> dict[str, Any]:
        public = self.public_type(event)
        return {
            "event_id": event_id(installation, self.source, event.originator_id, event.originator_version),
            "type": public.name,
            "schema_version": public.version,
            "source": self.source,
            "position": position,
            "occurred_at": event.timestamp.astimezone(timezone.utc).isoformat(),
            "aggregate_id": str(event.originator_id),
            "aggregate_version": event.originator_version,
            "application_id": public.application_id(event),
            "actor": dict(event.actor),
            "data": public.schema().dump(event),
        }

    def history(self, events: Any, installation: str) -> list[dict[str, Any]]:
        """One aggregate's events as envelopes, oldest first, for replay views. Stored events do not
        carry their log position, so the answer has none."""
        return [{k: v for k, v in self.envelope(0, e, installation).items() if k != "position"} for e in events]

    def envelopes(self, mapper: Mapper[UUID], notifications: Sequence[Notification],
                  installation: str) -> list[dict[str, Any]]:
        envelopes = []
        for n in notifications:
            try:
                envelopes.append(self.envelope(n.id, mapper.to_domain_event(n), installation))
            except Exception as e:
                raise UnreadableEvent(self.source, n.id, f"{type(e).__name__}: {e}") from e
        return envelopes


class UnreadableEvent(Exception):
    """A stored event its own service cannot turn into its public envelope (a changed byte, a class
    that moved): an integrity failure at a position, not a passing error."""

    def __init__(self, source: str, position: int, reason: str) -> None:
        super().__init__(f"{source} cannot read its own event at position {position}: {reason}")
        self.source, self.position, self.reason = source, position, reason


def log_page(store: Any, contract: Contract, after: int, limit: int) -> dict[str, Any]:
    """A page of a service's log as envelopes: the answer of every `get_notifications` RPC. An
    unreadable record is reported as the integrity failure it is, naming its position."""
    notifications = store.notification_log.select(start=after + 1, limit=limit)
    try:
        envelopes = contract.envelopes(store.mapper, notifications, store.installation_id)
    except UnreadableEvent as e:
        raise IntegrityFailure({"source": e.source, "position": e.position, "reason": e.reason}) from None
    return {"source": contract.source, "notifications": envelopes, "max_position": store.max_position()}


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# (public type, schema_version) -> a function that turns that version's `data` into the next
# version's. A consumer registers one for each old shape it may still receive (from get_notifications
# of old positions, or a publisher not yet upgraded), and reads only the newest shape.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def register_upcaster(public_type: str, from_version: int, upcast: Upcaster) -> None:
    UPCASTERS[(public_type, from_version)] = upcast


_ENVELOPE = EnvelopeSchema()  # one instance: building a schema costs more than loading with it


def read_envelope(message: dict[str, Any]) -> Envelope:
    """Validate an incoming envelope and bring its `data` to the newest shape this consumer knows;
    raises marshmallow.ValidationError when malformed."""
    loaded: Envelope = _ENVELOPE.load(message)
    loaded["event_id"] = str(loaded["event_id"])
    while (loaded["type"], loaded["schema_version"]) in UPCASTERS:
        loaded["data"] = UPCASTERS[(loaded["type"], loaded["schema_version"])](dict(loaded["data"]))
        loaded["schema_version"] += 1
    return loaded


__all__ = ["Contract", "EnvelopeSchema", "ValidationError", "read_envelope", "is_the_application"]
