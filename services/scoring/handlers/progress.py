"""The province's view of the expert review: assignment coverage, sheets outstanding per evaluator
and overdue work against the campaign's expert-review date."""
from __future__ import annotations

from typing import Any

from shared.clock import end_of_day
from shared.definition import Context

from services.scoring import projections as rm
from services.scoring.store import ScoringStore

Ctx = Context[ScoringStore]


def scoring_progress(ctx: Ctx, campaign_code: str) -> dict[str, Any]:
    rules = ctx.store.rules(campaign_code)
    overdue = rules.expert_review_deadline is not None and ctx.now >= end_of_day(rules.expert_review_deadline)
    with ctx.store.reading() as session:
        candidates = rm.candidate_rows(session, campaign_code)
        assigned = rm.assignment_rows(session, rm.assignments.c.campaign_code == campaign_code)
    per_evaluator: dict[str, dict[str, int]] = {}
    for a in assigned:
        row = per_evaluator.setdefault(a["evaluator_id"], {"assigned": 0, "final": 0, "outstanding": 0, "overdue": 0})
        row["assigned"] += 1
        done = a["sheet_status"] == rm.FINAL
        row["final" if done else "outstanding"] += 1
        row["overdue"] += int(overdue and not done)
    need = rules.experts_per_application
    return {
        "campaign_code": campaign_code,
        "expert_review_deadline": rules.expert_review_deadline.isoformat() if rules.expert_review_deadline else None,
        "candidates": len(candidates),
        "fully_assigned": sum(1 for c in candidates if c["assigned"] >= need),
        "fully_scored": sum(1 for c in candidates if c["assigned"] >= need and c["final_sheets"] >= c["assigned"]),
        "sheets_outstanding": sum(r["outstanding"] for r in per_evaluator.values()),
        "overdue": sum(r["overdue"] for r in per_evaluator.values()),
        "evaluators": [{"evaluator_id": e, **counts} for e, counts in sorted(per_evaluator.items())],
    }
