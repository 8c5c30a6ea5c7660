"""The kit's own tables beside each service's events: relay positions and lease, parked (poison) events and
idempotency keys. Names are prefixed with the service's name, like the event tables, so services
can share one PostgreSQL database."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, String, Table, Text, UniqueConstraint

_ID = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class Bookkeeping:
    metadata: MetaData
    relay_positions: Table
    relay_lease: Table
    parked: Table
    idempotency: Table
    sessions: Table
    providers: Table
    installation: Table


_made: dict[str, Bookkeeping] = {}


def bookkeeping(service: str) -> Bookkeeping:
    if service in _made:
        return _made[service]
    md = MetaData()
    sessions, providers = _tables_of_identity(service, md)
    made = Bookkeeping(
        metadata=md,
        relay_positions=Table(
            f"{service}_relay_positions",
            md,
            Column("channel", String(64), primary_key=True),
            Column("position", _ID, nullable=False),
        ),
        # Which replica relays (shared/lease.py): one at a time per service, until its lease expires.
        relay_lease=Table(
            f"{service}_relay_lease",
            md,
            Column("channel", String(64), primary_key=True),
            Column("holder", String(200), nullable=False),
            Column("expires_at", Float, nullable=False),  # seconds since the epoch, the holder's clock
        ),
        parked=Table(
            f"{service}_parked_events",
            md,
            Column("id", _ID, primary_key=True, autoincrement=True),
            Column("upstream", String(32), nullable=False),
            Column("position", _ID, nullable=False),
            Column("event_type", String(80), nullable=False),
            Column("envelope", Text, nullable=False),
            Column("error", Text, nullable=False),
            Column("attempts", Integer, nullable=False),
            Column("parked_at", String(40), nullable=False),
            Column("resolved_at", String(40)),
            Column("resolution", String(200)),
            UniqueConstraint("upstream", "position", name=f"{service}_parked_once"),
        ),
        idempotency=Table(
            f"{service}_idempotency_keys",
            md,
            Column("key", String(200), primary_key=True),
            Column("account_id", String(64), nullable=False),
            Column("command", String(80), nullable=False),
            # The key is bound to the operation and its input: a reuse with other input is a conflict.
            Column("request_sha256", String(64)),
            Column("result", Text, nullable=False),
            Column("recorded_at", String(40), nullable=False),
        ),
        sessions=sessions,
        providers=providers,
        # One row: this installation's id, drawn at random when the store is first created.
        installation=Table(f"{service}_installation", md, Column("name", String(32), primary_key=True),
                           Column("value", String(64), nullable=False)),
    )
    _made[service] = made
    return made


def _tables_of_identity(service: str, md: MetaData) -> tuple[Table, Table]:
    """What every service knows of accounts, to check a token against the account's current state
    (shared/sessions.py): its session and whether it is active; and which providers left the pool."""
    sessions = Table(
        f"{service}_sessions",
        md,
        Column("account_id", String(64), primary_key=True),
        Column("session", Integer, nullable=False),
        Column("active", Integer, nullable=False),
    )
    providers = Table(
        f"{service}_provider_standing",
        md,
        Column("provider_id", String(64), primary_key=True),
        Column("in_pool", Integer, nullable=False),
    )
    return sessions, providers
