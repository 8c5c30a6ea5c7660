"""Helpers for read-model tables, which services write in the same transaction as their events."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterator, Sequence, TypeVar

from eventsourcing.domain import Aggregate
from sqlalchemy import Table, bindparam, delete, insert, update
from sqlalchemy.orm import Session

from shared.store import rowcount

T = TypeVar("T", bound=Aggregate)
Row = dict[str, Any]

_UPDATES: dict[tuple[str, str, tuple[str, ...]], Any] = {}


def upsert(session: Session, table: Table, key: str, row: Row) -> None:
    """Replace the row whose `key` column matches, or add it. Rows are only written inside the
    transaction that records the aggregate's events, and an aggregate's writes are serialised by its
    version, so update-then-insert cannot race for the same key.

    The statements take the row as parameters, built once per table and set of columns: with the
    values written into the statement, SQLAlchemy made a cache key of every value on every call."""
    shape = (table.name, key, tuple(row))
    statement = _UPDATES.get(shape)
    if statement is None:
        statement = update(table).where(table.c[key] == bindparam("where_" + key)).values(
            {name: bindparam("set_" + name) for name in row})
        _UPDATES[shape] = statement
    params = {"where_" + key: row[key], **{"set_" + name: value for name, value in row.items()}}
    if not rowcount(session.execute(statement, params)):
        session.execute(insert(table), row)


@dataclass(frozen=True)
class Owned(Generic[T]):
    """Rows an aggregate owns in another table (a candidate's assignments; an account's session
    record), found by the `key` column it shares with the aggregate's main row."""

    table: Table
    key: str
    rows: Callable[[T], list[Row]]


@dataclass(frozen=True)
class Projection(Generic[T]):
    """A read-model table holding one row per aggregate of a kind (keyed by the table's primary key),
    plus the rows the aggregate owns elsewhere. `row` and the `owned` builders are the only code that
    shapes them: calling the projection writes one aggregate's rows live, in the transaction that
    records its events; rebuild_read_models (shared/definition.py) empties every table of
    `tables` and inserts the rows of all aggregates at once."""

    aggregate: type[T]
    table: Table
    row: Callable[[T], Row]
    owned: Sequence[Owned[T]] = ()

    @property
    def key(self) -> str:
        (column,) = self.table.primary_key.columns
        return column.name

    @property
    def tables(self) -> list[Table]:
        return [self.table, *(o.table for o in self.owned)]

    def rows(self, aggregate: T) -> Iterator[tuple[Table, list[Row]]]:
        """Every row the aggregate has in the read models, by table."""
        yield self.table, [self.row(aggregate)]
        for owned in self.owned:
            yield owned.table, owned.rows(aggregate)

    def __call__(self, session: Session, aggregate: T) -> None:
        row = self.row(aggregate)
        upsert(session, self.table, self.key, row)
        for owned in self.owned:
            session.execute(delete(owned.table).where(owned.table.c[owned.key] == row[owned.key]))
            rows = owned.rows(aggregate)
            if rows:
                session.execute(insert(owned.table), rows)
