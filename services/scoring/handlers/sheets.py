"""Score sheets: an assigned evaluator saves drafts and submits its final sheet, criterion by
criterion with a justification each; only the province reopens a final sheet, with a reason."""
from __future__ import annotations

from typing import Any

from shared.definition import Change, Context
from shared.errors import Forbidden, NotFound

from services.scoring import projections as rm
from services.scoring import rules as r
from services.scoring.domain import Candidate, Evaluator, evaluator_id_for
from services.scoring.handlers.assignment import candidate_for, saved, scores_open, sheet_view
from services.scoring.store import ScoringStore

Ctx = Context[ScoringStore]


def save_sheet(ctx: Ctx, application_id: str, sheet: dict[str, Any]) -> Change:
    candidate = candidate_for(ctx, application_id)
    scores_open(ctx, candidate.campaign_code)
    conflicted = conflicts_now(ctx, candidate)
    if conflicted:
        raise Forbidden({"conflicts": conflicted}, zh="您申报的利益关系与该申报冲突，请申请回避",
                        en="Your declared interests conflict with this application: decline it")
    rubric = {c.code: c.max for c in ctx.store.rules(candidate.campaign_code).rubric}
    result = candidate.save_sheet(ctx.now, ctx.actor(), ctx.me.account_id, rubric, sheet["scores"],
                                  sheet["justifications"], sheet["final"])
    return saved(candidate, answer={"application_id": application_id, **sheet_view(result)})


def conflicts_now(ctx: Ctx, candidate: Candidate) -> list[str]:
    """The caller's conflicts with the candidate by its current declaration (renewed after the draw)."""
    found = ctx.store.find(Evaluator, evaluator_id_for(ctx.me.account_id))
    if found is None:
        return []
    interests = r.Interests(frozenset(found.employers), frozenset(found.enterprises), frozenset(found.providers))
    with ctx.store.reading() as session:
        parties = r.Parties(candidate.uscc, candidate.provider_ids(), rm.provider_usccs(session, candidate.provider_ids()))
    return r.conflicts(interests, parties)


def reopen_sheet(ctx: Ctx, application_id: str, data: dict[str, Any]) -> Change:
    candidate = candidate_for(ctx, application_id)
    scores_open(ctx, candidate.campaign_code)
    if data["evaluator_id"] not in candidate.assigned:
        raise NotFound({"evaluator_id": data["evaluator_id"]}, zh="该专家未分配评审此申报",
                       en="No such evaluator on this application")
    candidate.reopen_sheet(ctx.now, ctx.actor(), data["evaluator_id"], data["reason"])
    return saved(candidate, answer={"application_id": application_id, "evaluator_id": data["evaluator_id"],
                                    "status": "draft"})
