"""Evaluators (专家、第三方服务机构): their declarations of interests, and the province's view of them."""
from __future__ import annotations

from datetime import date
from typing import Any

from shared.clock import local_date
from shared.definition import Change, Context

from services.scoring import projections as rm
from services.scoring.domain import Evaluator, evaluator_id_for
from services.scoring.store import ScoringStore

Ctx = Context[ScoringStore]


def declare_interests(ctx: Ctx, declaration: dict[str, Any]) -> Change:
    """The evaluator declares (or renews) its interests; the declaration date is today's."""
    me, today = ctx.me.account_id, local_date(ctx.now)
    found = ctx.store.find(Evaluator, evaluator_id_for(me))
    if found is None:
        evaluator = Evaluator.declare(ctx.now, ctx.actor(), me, declaration, today)
    else:
        evaluator = found
        evaluator.renew(ctx.now, ctx.actor(), declaration, today)
    return Change([evaluator], lambda s: rm.project_declaration(s, evaluator),
                  {"account_id": me, "declared_on": today.isoformat(), **declaration})


def my_declaration(ctx: Ctx) -> dict[str, Any] | None:
    found = ctx.store.find(Evaluator, evaluator_id_for(ctx.me.account_id))
    if found is None:
        return None
    return {"account_id": found.account_id, "kind": found.kind, "employers": found.employers,
            "enterprises": found.enterprises, "providers": found.providers, "declared_on": found.declared_on}


def list_evaluators(ctx: Ctx, campaign_code: str) -> dict[str, Any]:
    """Every evaluator account, its declaration, whether that is current for the campaign, its load."""
    rules, today = ctx.store.rules(campaign_code), local_date(ctx.now)
    inactive = ctx.store.inactive_accounts()
    with ctx.store.reading() as session:
        pool, loads = rm.evaluator_pool(session), rm.loads(session, campaign_code)
    items = []
    for e in pool:
        declared = e["declared_on"]
        current = rules.declaration_current(date_of(declared), today)
        items.append({"account_id": e["account_id"], "username": e["username"], "display_name": e["display_name"],
                      "kind": e["kind"], "interests": e["interests"], "declared_on": declared,
                      "declaration_current": current, "active": e["account_id"] not in inactive,
                      "assigned": loads.get(e["account_id"], 0)})
    return {"campaign_code": campaign_code, "declaration_valid_days": rules.declaration_valid_days, "items": items}


def date_of(iso: str | None) -> date | None:
    return date.fromisoformat(iso) if iso else None
