"""Helpers for read-model tables, which services write in the same transaction as their events."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from shared.store import rowcount

_UPDATES: dict[tuple[str, str, tuple[str, ...]], Any] = {}


def upsert(session: Session, table: Table, key: str, row: dict[str, Any]) -> None:
    """Replace the row whose `key` column matches, or add it. Rows are only written inside the
    transaction that records the aggregate's events, and an aggregate's writes are serialised by its
    version, so update-then-insert cannot race for the same key.

    The statements take the row as parameters, built once per table and set of columns: with the
    values written into the statement, SQLAlchemy made a cache key of every value on every call,
    most of the time of a read-model rebuild (bench/bench_province.py)."""
    shape = (table.name, key, tuple(row))
    statement = _UPDATES.get(shape)
    if statement is None:
        statement = update(table).where(table.c[key] == bindparam("where_" + key)).values(
            {name: bindparam("set_" + name) for name in row})
        _UPDATES[shape] = statement
    params = {"where_" + key: row[key], **{"set_" + name: value for name, value in row.items()}}
    if not rowcount(session.execute(statement, params)):
        session.execute(insert(table), row)
