"""A downstream service for the delivery tests, and the proof that a service is one declaration:
it follows the application service and records one event per upstream event it processed (random
ids: only tracking prevents duplicates), and has one command of its own. Nothing outside this file
names it but the harness that starts it. Events of an enterprise named POISON… fail until the file
TALLY_CURE_FILE exists."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from marshmallow import Schema, fields

from shared.config import Settings
from shared.contract import Contract
from shared.definition import ANYONE, Change, Context, ServiceDefinition, operation
from shared.follower import list_parked
from shared.nameko_service import build
from tests.support.pingpong import Counter, Tallied, TallyStore

contract = Contract("tally")
contract.register(Tallied.Recorded, "tally.recorded", type("TalliedData", (Schema,), {
    "source": fields.String(), "position": fields.Integer(), "event_type": fields.String(), "by_pid": fields.Integer()}))
contract.register(Counter.Started, "tally.counter_started", Schema)
contract.register(Counter.Incremented, "tally.counter_incremented", type("IncrementedData", (Schema,), {"by": fields.String()}))


def make_store(settings: Settings) -> TallyStore:
    cure = os.environ.get("TALLY_CURE_FILE")
    return TallyStore(settings.store_url("tally"), cure_file=Path(cure) if cure else None,
                      seconds_per_event=float(os.environ.get("TALLY_SECONDS_PER_EVENT", "0")), clock=settings.clock())


def stats(ctx: Context[TallyStore]) -> dict[str, Any]:
    return ctx.store.stats("application")


def parked(ctx: Context[TallyStore]) -> list[dict[str, Any]]:
    return list_parked(ctx.store)


def retry(ctx: Context[TallyStore], parked_id: int) -> bool:
    return ctx.runtime.followers["application"].retry_parked(parked_id)


def start_counter(ctx: Context[TallyStore]) -> Change:
    counter = Counter.start()
    return Change([counter], answer={"counter_id": str(counter.id)})


DEFINITION = ServiceDefinition(
    name="tally",
    make_store=make_store,
    contract=contract,
    operations=[
        operation("start_counter", start_counter, ANYONE),
        operation("stats", stats, ANYONE),
        operation("parked", parked, ANYONE),
        operation("retry", retry, ANYONE, {"parked_id": fields.Integer(required=True, strict=True)}),
    ],
    follows={"application": {"*": lambda store, envelope: store.handle(envelope)}},
    accounts_from=None,  # every operation here is public: no tokens to check, and every event is tallied
)

Service = build(DEFINITION)
