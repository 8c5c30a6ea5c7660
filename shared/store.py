"""Event store wiring: an eventsourcing Application per service with a pinned name, on SQLite (a
file per service) or PostgreSQL, chosen by the URL alone.

Two fixes over eventsourcing-sqlalchemy 1.0.1 live here:
- the tracking write is one conditional upsert (insert, or update only where the stored position
  is lower); "no row changed" is the duplicate. The library's SELECT-then-INSERT let two processes
  both process the same upstream event (docs/architecture.md, pitfalls).
- `record()` writes events, tracking and read-model rows in one transaction.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence, TypeVar, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Notification, Recording, Tracking
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyProcessRecorder
from sqlalchemy import CursorResult, MetaData, Result, Table, event, insert, select, text
from sqlalchemy.orm import Session

from shared.bookkeeping import bookkeeping
from shared.clock import Clock, SystemClock
from shared.errors import NotFound


A = TypeVar("A", bound=Aggregate)


def rowcount(result: Result[Any]) -> int:
    """Rows an INSERT/UPDATE/DELETE changed (its result is a CursorResult)."""
    return cast(CursorResult[Any], result).rowcount


def _sqlite_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout = 30000")


_UPSERTS: dict[tuple[str, tuple[str, ...], str], Any] = {}


def upsert_if_greater(
    session: Session, table: Table, key: dict[str, Any], column: str, value: int
) -> bool:
    """Insert the row, or raise `column` to `value` only where it is lower. One statement that is
    its own check, so concurrent writers cannot both win. Returns False when nothing changed.

    Written as SQL text, built once per table: SQLAlchemy cannot cache the compiled form of an
    ON CONFLICT ... WHERE construct, and compiling it again cost more than running it (every followed
    event runs it). SQLite and PostgreSQL read this SQL alike."""
    shape = (table.name, tuple(key), column)
    stmt = _UPSERTS.get(shape)
    if stmt is None:
        names = [*key, column]
        stmt = text(
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {column} = excluded.{column} "
            f"WHERE {table.name}.{column} < excluded.{column}")
        _UPSERTS[shape] = stmt
    return rowcount(session.execute(stmt, {**key, column: value})) == 1


class AtomicTrackingProcessRecorder(SQLAlchemyProcessRecorder):
    # Reading the log with Core selects: the library's ORM queries build an object per row (and load
    # the whole last event to learn the head), 2–3 ms a call; every follower's pull and every relay
    # batch reads a page and the head.
    def max_notification_id(self) -> int | None:
        table = self.events_record_cls.__table__
        with self.transaction(commit=False) as session:
            return cast(int | None, session.execute(select(table.c.id).order_by(table.c.id.desc()).limit(1)).scalar())

    def select_notifications(self, start: int | None, limit: int, stop: int | None = None, topics: Sequence[str] = (),
                             *, inclusive_of_start: bool = True) -> list[Notification]:
        table = self.events_record_cls.__table__
        query = select(table.c.id, table.c.originator_id, table.c.originator_version, table.c.topic, table.c.state)
        if start is not None:
            query = query.where(table.c.id >= start if inclusive_of_start else table.c.id > start)
        if stop is not None:
            query = query.where(table.c.id <= stop)
        if topics:
            query = query.where(table.c.topic.in_(topics))
        with self.transaction(commit=False) as session:
            rows = session.execute(query.order_by(table.c.id).limit(limit)).all()
        return [Notification(id=id_, originator_id=originator_id, originator_version=version, topic=topic,
                             state=bytes(state) if isinstance(state, memoryview) else state)
                for id_, originator_id, version, topic, state in rows]

    def _insert_tracking(self, session: Session, tracking: Tracking) -> None:
        if not upsert_if_greater(
            session,
            self.tracking_table,
            {"application_name": tracking.application_name},
            "notification_id",
            tracking.notification_id,
        ):
            raise IntegrityError(
                f"{tracking.application_name} position {tracking.notification_id} already processed"
            )


class StoreFactory(SQLAlchemyFactory):
    process_recorder_class = AtomicTrackingProcessRecorder


class ServiceStore(Application):
    """Base of every service's eventsourcing Application. Subclasses pin `name` (it prefixes the
    table names) and may declare read-model tables on `read_models`."""

    name = "unnamed"
    read_models: MetaData | None = None
    log_section_size = 1000  # pages of ~1,000 read several times faster (ENVIRONMENT.md)

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        env = {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": url,
        }
        super().__init__(env)
        engine = self.datastore.engine
        assert engine is not None
        if engine.dialect.name == "sqlite":
            # Several processes may share the file: wait for the writer rather than fail at once.
            event.listen(engine, "connect", _sqlite_busy_timeout)
            engine.dispose()
        self.books = bookkeeping(self.name)
        self.books.metadata.create_all(engine)
        if self.read_models is not None:
            self.read_models.create_all(engine)
        self.installation_id = self._installation_id()

    def _installation_id(self) -> str:
        """This installation's id (part of every event_id), made once; replicas and restarts share it."""
        table = self.books.installation
        for _ in range(2):
            with self.reading() as session:
                found = session.execute(select(table.c.value).where(table.c.name == "id")).scalar()
            if found:
                return str(found)
            try:
                with self.transaction() as session:
                    session.execute(insert(table).values(name="id", value=str(uuid4())))
            except Exception:  # another process made it first: read theirs
                continue
        raise RuntimeError("cannot record the installation id")

    def construct_factory(self, env: Any) -> StoreFactory:  # type: ignore[override]
        return StoreFactory(env)

    def construct_recorder(self) -> AtomicTrackingProcessRecorder:
        recorder = self.factory.process_recorder()
        assert isinstance(recorder, AtomicTrackingProcessRecorder)
        return recorder

    @property
    def process_recorder(self) -> AtomicTrackingProcessRecorder:
        return cast(AtomicTrackingProcessRecorder, self.recorder)

    @property
    def datastore(self) -> Any:
        return self.process_recorder.datastore

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One database transaction; everything recorded inside it commits together."""
        with self.datastore.transaction(commit=True) as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self.datastore.transaction(commit=False) as session:
            yield session

    def record(
        self,
        *aggregates: Any,
        tracking: Tracking | None = None,
        project: Callable[[Session, Sequence[Recording]], None] | None = None,
    ) -> int | None:
        """Store the aggregates' pending events, the tracking position (if any) and the read-model
        changes made by `project`, atomically. Returns the last notification position written."""
        processing: ProcessingEvent[UUID] = ProcessingEvent(tracking)
        processing.collect_events(*aggregates)
        with self.transaction() as session:
            recordings = self._record(processing)
            if project is not None:
                project(session, recordings)
        return max((r.notification.id for r in recordings), default=None)

    def find(self, kind: type[A], aggregate_id: UUID, version: int | None = None) -> A | None:
        """The aggregate of that kind (as at `version`), or None when there is none."""
        try:
            found: Aggregate = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, kind) else None

    def get(self, kind: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        """The aggregate of that kind, or the typed NotFound a caller receives."""
        found = self.find(kind, aggregate_id, version)
        if found is None:
            raise NotFound()
        return found

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def positions(self, aggregate_id: UUID) -> dict[int, int]:
        """{version: log position} of one aggregate's events: where each stands in the service's log."""
        table = self.process_recorder.events_record_cls.__table__
        with self.reading() as session:
            rows = session.execute(select(table.c.originator_version, table.c.id)
                                   .where(table.c.originator_id == aggregate_id))
            return {int(version): int(position) for version, position in rows}

    def mark_processed(self, session: Session, upstream: str, position: int) -> bool:
        """Raise the tracked position of `upstream` to `position` inside `session`; False when it
        was there already (another process, or a redelivery, did it first)."""
        return upsert_if_greater(session, self.process_recorder.tracking_table, {"application_name": upstream},
                                 "notification_id", position)

    def tracked_position(self, upstream: str) -> int:
        """The last position of `upstream` processed here (0: none). One row per upstream (the tracking
        write is an upsert); read with a Core select whose compiled form SQLAlchemy caches: the
        library's ORM query cost milliseconds, and a follower asks before every page and on every prompt."""
        table = self.process_recorder.tracking_table
        with self.reading() as session:
            found = session.execute(select(table.c.notification_id)
                                    .where(table.c.application_name == upstream)).scalar()
        return int(found or 0)
