"""Score sheets: an assigned evaluator saves drafts and submits its final sheet, criterion by
criterion with a justification each; only the province reopens a final sheet, with a reason."""
from __future__ import annotations

from typing import Any

from shared.definition import Change, Context

from services.scoring.handlers.assignment import candidate_for, saved, sheet_view
from services.scoring.store import ScoringStore

Ctx = Context[ScoringStore]


def save_sheet(ctx: Ctx, application_id: str, sheet: dict[str, Any]) -> Change:
    candidate = candidate_for(ctx, application_id)
    rubric = {c.code: c.max for c in ctx.store.rules(candidate.campaign_code).rubric}
    result = candidate.save_sheet(ctx.now, ctx.actor(), ctx.me.account_id, rubric, sheet["scores"],
                                  sheet["justifications"], sheet["final"])
    return saved(candidate, answer={"application_id": application_id, **sheet_view(result)})


def reopen_sheet(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    candidate = candidate_for(ctx, application_id)
    candidate.reopen_sheet(ctx.now, ctx.actor(), data["evaluator_id"], data["reason"])
    return saved(candidate, answer={"application_id": application_id, "evaluator_id": data["evaluator_id"],
                                    "status": "draft"})
