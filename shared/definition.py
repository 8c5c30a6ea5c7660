"""A service is one declaration (docs/architecture.md, "Adding a service"): its name, its store, its
public event contract, the upstreams it follows with a handler per event type, its timers, and its
operations (commands and queries), each with its input, the roles that may call it, whether it is
idempotent, and its handler. The kit turns the declaration into a nameko service
(shared/nameko_service.py) and into an in-process service for tests (shared/pipeline.py).

Nothing here imports nameko or kombu."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Generic, Mapping, Sequence, TypeVar

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording, StoredEvent, Tracking
from eventsourcing.utils import resolve_topic
from marshmallow import Schema
from marshmallow.fields import Field
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.contract import Contract, Envelope
from shared.errors import NotAuthenticated
from shared.identity import Principal, Role
from shared.readmodels import Projection
from shared.store import ServiceStore

if TYPE_CHECKING:
    from shared.ports import TrackingStore
    from shared.follower import Follower
    from shared.relay import OutboxRelay

S = TypeVar("S", bound=ServiceStore)


@dataclass
class Change:
    """What a command or an upstream event produced: aggregates with pending events, read-model
    writes made in the same transaction, and (for commands) the caller's answer, to which the
    pipeline adds the `position` of the last event recorded."""

    aggregates: Sequence[Aggregate] = ()
    project: Callable[[Session], None] | None = None
    answer: dict[str, Any] = field(default_factory=dict)


NOTHING = Change()


def record(store: "TrackingStore", change: Change, tracking: Tracking | None = None,
           then: Callable[[Session, int | None], None] | None = None) -> int | None:
    """Record a change in one transaction: its events, its read-model writes, the tracking position
    (for an upstream event) and `then(session, position)` (the pipeline's idempotency record).
    Returns the position of the last event recorded."""

    def write(session: Session, recordings: Sequence[Recording]) -> None:
        if change.project is not None:
            change.project(session)
        if then is not None:
            then(session, max((r.notification.id for r in recordings), default=None))

    return store.record(*change.aggregates, tracking=tracking, project=write)


class Anyone:
    """Access of an operation that needs no account (registration, sign-in, public reference data)."""

    def __repr__(self) -> str:
        return "ANYONE"


ANYONE = Anyone()
Access = frozenset[Role] | Anyone
EVERY_ROLE: frozenset[Role] = frozenset(Role)
ACCOUNT_HOLDERS: frozenset[Role] = EVERY_ROLE - {Role.SERVICE}  # roles with an account behind them

# The parameters of an operation, in the RPC's order. A Schema validates a dict argument and reports
# its fields at the top level of `details.fields`; a Field validates a plain argument under its name.
Params = Mapping[str, Schema | Field]


@dataclass
class Runtime(Generic[S]):
    """The parts of a running service an operation may need besides its store."""

    store: S
    contract: Contract
    relay: "OutboxRelay | None" = None
    followers: "dict[str, Follower]" = field(default_factory=dict)


@dataclass
class Context(Generic[S]):
    """What a handler receives besides its validated arguments."""

    runtime: Runtime[S]
    caller: Principal | None
    now: datetime  # one instant per call, from the injected clock

    @property
    def store(self) -> S:
        return self.runtime.store

    @property
    def me(self) -> Principal:
        if self.caller is None:  # only an ANYONE operation runs without one, and it does not ask
            raise NotAuthenticated({"reason": "missing_token"})
        return self.caller

    def actor(self) -> dict[str, str]:
        return self.me.actor()


Handler = Callable[..., Any]  # (ctx, **validated arguments) -> Change | answer


@dataclass(frozen=True)
class Operation:
    """One RPC. `roles` is checked before the input is validated; jurisdiction is the handler's,
    through shared/access.py. An idempotent operation takes an extra `idempotency_key` argument."""

    name: str
    handler: Handler
    access: Access
    params: Params = field(default_factory=dict)
    idempotent: bool = False
    # Issued accounts must replace the password the province handed out before anything else; the
    # few operations they may call until then say so here.
    before_password_change: bool = False
    summary: str = ""
    rate_limit: int | None = None  # calls per minute per process, for operations anyone may call (shared/throttle.py)
    # Fields of the answer given once and never stored (an initial password): a retry with the same
    # idempotency key answers them as null, listed under `withheld`.
    secret_answer: tuple[str, ...] = ()
    # Jurisdiction before input: called as locate(ctx, **identifying arguments) before the rest of
    # the input is validated; raises not_found (outside the caller's jurisdiction) or forbidden.
    locate: Handler | None = None

    @property
    def public(self) -> bool:
        return isinstance(self.access, Anyone)


def operation(name: str, handler: Handler, access: Access, params: Params | None = None, *,
              idempotent: bool = False, before_password_change: bool = False, summary: str = "",
              rate_limit: int | None = None, secret_answer: tuple[str, ...] = (),
              locate: Handler | None = None) -> Operation:
    return Operation(name, handler, access, dict(params or {}), idempotent, before_password_change, summary, rate_limit,
                     secret_answer, locate)


EventHandler = Callable[[Any, "Envelope"], Change | None]  # (store, envelope) -> Change, or None


def combine(changes: Sequence[Change]) -> Change:
    """Several changes as one, recorded in one transaction: their aggregates, their read-model
    writes in order, their answers merged."""
    projects = [c.project for c in changes if c.project is not None]

    def project(session: Session) -> None:
        for p in projects:
            p(session)

    return Change([a for c in changes for a in c.aggregates], project if projects else None,
                  {k: v for c in changes for k, v in c.answer.items()})


def both(first: EventHandler, second: EventHandler) -> EventHandler:
    """Two handlers of one event type, as one: their changes are recorded together."""

    def handle(store: Any, envelope: "Envelope") -> Change | None:
        changes = [c for c in (first(store, envelope), second(store, envelope)) if c is not None]
        return combine(changes) if changes else None

    return handle


@dataclass(frozen=True)
class Timer:
    """A job run every `interval(settings)` seconds against the store (e.g. deadline scans)."""

    name: str
    job: Callable[[Any], Any]
    interval: Callable[[Settings], float]


def rebuild_read_models(store: ServiceStore, projections: Sequence[Projection[Any]]) -> int:
    """Empty the projections' tables and write them again from the aggregates in the store's log
    (operators: after a read model was lost or its shape changed). Returns the aggregates written.

    The log is read once, by one select over the events table, and each aggregate of a projected
    kind is rebuilt from its events as they pass (as the repository would replay them). An event's
    topic names its class, so events of other kinds are skipped without decoding their state. The
    rows are then inserted table by table in bulk (executemany) into the emptied tables: one upsert
    per row, the live path, cost most of a rebuild. Holds the projected aggregates in memory until
    they are written."""
    of_topic: dict[str, Projection[Any] | None] = {}
    latest: dict[Any, tuple[Projection[Any], Aggregate]] = {}
    events = store.process_recorder.events_record_cls.__table__
    to_domain_event = store.mapper.to_domain_event
    with store.reading() as session:
        rows = session.execute(
            select(events.c.originator_id, events.c.originator_version, events.c.topic, events.c.state)
            .order_by(events.c.id), execution_options={"stream_results": True, "yield_per": 1000})
        for originator_id, version, topic, state in rows:
            if topic not in of_topic:
                of_topic[topic] = _projection_of(resolve_topic(topic), projections)
            projection = of_topic[topic]
            if projection is None:
                continue
            event = to_domain_event(StoredEvent(originator_id, version, topic, state))
            before = latest.get(originator_id)
            latest[originator_id] = (projection, event.mutate(before[1] if before else None))  # type: ignore[attr-defined]
    tables: dict[Table, list[dict[str, Any]]] = {t: [] for p in projections for t in p.tables}
    for projection, aggregate in latest.values():
        for table, table_rows in projection.rows(aggregate):
            tables[table] += table_rows
    with store.transaction() as session:
        for table, table_rows in tables.items():
            session.execute(delete(table))
            if table_rows:
                session.execute(insert(table), table_rows)
    return len(latest)


def _projection_of(cls: type, projections: Sequence[Projection[Any]]) -> Projection[Any] | None:
    """The projection of the aggregate whose event `cls` is (its events are classes nested in it)."""
    return next((p for p in projections if cls.__module__ == p.aggregate.__module__
                 and cls.__qualname__.startswith(p.aggregate.__qualname__ + ".")), None)


@dataclass(frozen=True)
class ServiceDefinition(Generic[S]):
    name: str
    make_store: Callable[[Settings], S]
    contract: Contract
    operations: Sequence[Operation]
    # upstream service -> {public event type -> handler}; other types are skipped.
    follows: Mapping[str, Mapping[str, EventHandler]] = field(default_factory=dict)
    timers: Sequence[Timer] = ()
    # Read models of the service's own aggregates, which a replay of its log rebuilds exactly.
    projections: Sequence[Projection[Any]] = ()
    # False: an upstream event that keeps failing stops its follower there (health shows it) instead of
    # being parked and skipped; for a service that must record every event in order (the audit ledger).
    parks_failures: bool = True
    # Upstream events recorded per transaction when all go through (shared/follower.py); more than 1
    # only for handlers that read and write inside the transaction alone (the audit ledger's).
    follow_batch: int = 1
    # The service whose account and pool events every token is checked against (shared/sessions.py);
    # None for the service that owns accounts (it records them with its own changes).
    accounts_from: str | None = "application"

    def effective_follows(self) -> dict[str, Mapping[str, EventHandler]]:
        """The declared upstream handlers, plus the replication of accounts the kit adds."""
        from shared.sessions import replication_handlers  # the kit's own handlers, built on this module

        tables: dict[str, Mapping[str, EventHandler]] = {up: dict(table) for up, table in self.follows.items()}
        if self.accounts_from is not None:
            mine = dict(tables.get(self.accounts_from, {}))
            for event_type, handler in replication_handlers(self.accounts_from).items():
                declared = mine.get(event_type) or mine.get("*")  # "*": the declared handler of every other type
                mine[event_type] = both(declared, handler) if declared is not None else handler
            tables[self.accounts_from] = mine
        return tables

    def operation(self, name: str) -> Operation:
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(name)
