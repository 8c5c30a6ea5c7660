"""Operations every service offers on its own log and its followers, added by the kit to every
declaration: `get_notifications` for consumers and subscribers, `health` and parked events for
operators (docs/rpc.md, "Every service")."""
from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from shared.fields import WholeNumber

from shared.contract import log_page
from shared.definition import Context, Operation, operation
from shared.errors import NotFound
from shared.follower import list_parked
from shared.identity import READS_EVENT_LOGS, Role

OPERATORS = frozenset({Role.PROVINCE, Role.SERVICE})
MAX_PAGE = 1000


def get_notifications(ctx: Context[Any], after: int, limit: int) -> dict[str, Any]:
    return log_page(ctx.store, ctx.runtime.contract, after, limit)


def list_parked_events(ctx: Context[Any], include_resolved: bool) -> list[dict[str, Any]]:
    return list_parked(ctx.store, include_resolved)


def retry_parked_event(ctx: Context[Any], upstream: str, parked_id: int) -> dict[str, Any]:
    follower = ctx.runtime.followers.get(upstream)
    if follower is None:
        raise NotFound({"upstream": upstream, "followed": sorted(ctx.runtime.followers)})
    return {"retried": follower.retry_parked(parked_id)}


def health(ctx: Context[Any]) -> dict[str, Any]:
    """How far this service got: its log, what the relay published, what it processed of each
    upstream, and how many events are parked."""
    store, relay = ctx.store, ctx.runtime.relay
    head = store.max_position()
    published = relay.published_position() if relay is not None else None
    return {
        "service": ctx.runtime.contract.source,
        "max_position": head,
        "published_position": published,
        "relay_lag": head - published if published is not None else None,  # events not yet published
        "relay_error": relay.last_error if relay is not None else None,  # e.g. an unreadable record
        # the replica relaying when this one last looked (shared/lease.py); the others stand by
        "relay_holder": relay.lease.seen_holder if relay is not None and relay.lease is not None else None,
        "tracked": {upstream: store.tracked_position(upstream) for upstream in ctx.runtime.followers},
        "parked": len(list_parked(store)),
        # followers stuck at an event (one that may skip nothing, or writes that keep conflicting)
        "stalled": {up: f.stalled for up, f in ctx.runtime.followers.items() if f.stalled is not None},
        "now": ctx.now.isoformat(),
    }


POSITION = validate.Range(min=0, max=2**63 - 1)
EVENT_LOG_OPERATIONS: list[Operation] = [
    operation("get_notifications", get_notifications, READS_EVENT_LOGS,
              {"after": WholeNumber(required=True, validate=POSITION),
               "limit": WholeNumber(load_default=500, validate=validate.Range(min=1, max=MAX_PAGE))},
              summary="A page of the service's public events after a position."),
    operation("list_parked_events", list_parked_events, OPERATORS,
              {"include_resolved": fields.Boolean(load_default=False)}),
    operation("retry_parked_event", retry_parked_event, OPERATORS,
              {"upstream": fields.String(required=True, validate=validate.Length(max=64)),
               "parked_id": WholeNumber(required=True, validate=POSITION)}),
    operation("health", health, OPERATORS),
]
