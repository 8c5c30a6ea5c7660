"""Helpers for read-model tables, which services write in the same transaction as their events."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert, update
from sqlalchemy.orm import Session

from shared.store import rowcount


def upsert(session: Session, table: Table, key: str, row: dict[str, Any]) -> None:
    """Replace the row whose `key` column matches, or add it. Rows are only written inside the
    transaction that records the aggregate's events, and an aggregate's writes are serialised by its
    version, so update-then-insert cannot race for the same key."""
    if not rowcount(session.execute(update(table).where(table.c[key] == row[key]).values(**row))):
        session.execute(insert(table).values(**row))
