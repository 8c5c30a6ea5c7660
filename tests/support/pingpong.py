"""A minimal upstream ("ping") and a downstream that counts what it processed ("tally"), for the
kit's contract tests. The tally's records get random ids, so nothing but the tracking record stops
a duplicate: exactly-once is measured, not assumed."""
from __future__ import annotations

import os
import random
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate
from marshmallow import Schema, fields
from sqlalchemy import func, select

from shared.contract import Contract
from shared.entity import Entity
from shared.definition import Change
from shared.store import ServiceStore

SYSTEM = {"id": "test", "role": "service"}


class Ping(Entity):
    class Pinged(Aggregate.Created):
        actor: dict[str, str]
        n: int
        poison: bool

    def __init__(self, actor: dict[str, str], n: int, poison: bool) -> None:
        self.n = n
        self.poison = poison


class PingData(Schema):
    n = fields.Integer()
    poison = fields.Boolean()


ping_contract = Contract("ping")
ping_contract.register(Ping.Pinged, "ping.pinged", PingData)


class PingStore(ServiceStore):
    name = "ping"

    def ping(self, n: int, poison: bool = False) -> int | None:
        return self.record(Ping._begin(Ping.Pinged, uuid4(), datetime.now(timezone.utc), SYSTEM, n=n, poison=poison))


class Tallied(Entity):
    class Recorded(Aggregate.Created):
        actor: dict[str, str]
        source: str
        position: int
        event_type: str
        by_pid: int  # which consumer process did it

    def __init__(self, actor: dict[str, str], source: str, position: int, event_type: str, by_pid: int) -> None:
        self.position = position
        self.by_pid = by_pid


class Counter(Entity):
    """A downstream aggregate that several upstream events (or other writers) change."""

    class Started(Aggregate.Created):
        actor: dict[str, str]

    class Incremented(Aggregate.Event):
        actor: dict[str, str]
        by: str

        def apply(self, counter: "Counter") -> None:
            counter.count += 1

    def __init__(self, actor: dict[str, str]) -> None:
        self.count = 0

    @classmethod
    def start(cls) -> "Counter":
        return cls._begin(cls.Started, uuid4(), datetime.now(timezone.utc), SYSTEM)

    def increment(self, by: str) -> None:
        self._happen(self.Incremented, datetime.now(timezone.utc), SYSTEM, by=by)


class TallyStore(ServiceStore):
    name = "tally"

    def __init__(self, url: str, cure_file: Path | None = None, seconds_per_event: float = 0.0, **kw: Any) -> None:
        super().__init__(url, **kw)
        # A slow handler keeps one consumer busy while the other pulls, so that competing consumers
        # really overlap instead of one of them winning every race.
        self.seconds_per_event = seconds_per_event
        # A poison event fails until this file exists (the operator's fix), then retries succeed.
        self.cure_file = cure_file

    def handle(self, envelope: dict[str, Any]) -> Change:
        data = envelope["data"]
        poisoned = data.get("poison") or (envelope["type"] == "application.enterprise_registered"
                                           and data["name"].startswith("POISON"))
        if poisoned and not (self.cure_file and self.cure_file.exists()):
            raise RuntimeError(f"cannot process {envelope['type']} at {envelope['position']}")
        if self.seconds_per_event:
            # Green under nameko: the process goes on serving. Varied, so that the process behind on
            # one event (it lost the race and moved on) can finish the next one first: with equal
            # times the one that started first would win every event.
            time.sleep(random.uniform(0, 2 * self.seconds_per_event))
        record = Tallied._begin(Tallied.Recorded, uuid4(), datetime.now(timezone.utc), SYSTEM,
                                source=envelope["source"], position=envelope["position"], event_type=envelope["type"],
                                by_pid=os.getpid())
        return Change([record])

    def stats(self, upstream: str) -> dict[str, Any]:
        """How many events were recorded, and how many distinct upstream positions they cover."""
        # The tracked position first: what processing recorded commits with it, so the counts read
        # afterwards include at least everything up to it (read the other way round, a commit in
        # between would show a tracked position ahead of its events).
        tracked = self.tracked_position(upstream)
        table = self.recorder.events_record_cls.__table__
        with self.reading() as session:
            recorded = session.execute(select(func.count()).select_from(table)).scalar_one()
        records = [self.mapper.to_domain_event(n) for n in self.notification_log.select(start=1, limit=1000)]
        by_pid: dict[str, int] = {}
        for r in records:
            by_pid[str(r.by_pid)] = by_pid.get(str(r.by_pid), 0) + 1
        return {"recorded": recorded, "distinct": len({r.position for r in records}),
                "tracked": tracked, "pid": os.getpid(), "by_pid": by_pid}
