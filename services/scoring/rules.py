"""The expert review's rules as pure functions of recorded inputs (the notice: 通过打分排序，提出上云标杆
企业专家推荐名单; our defaults in docs/reference-data.md, "Expert review"). Every event that applies
a rule records the rule's name, its settings and its inputs, so anyone can call the same function on
the event's data and get the event's result: the draw of evaluators, the aggregation, the
normalisation, the outlier flags and the cut of the list.

No I/O and no clock here: the service layer supplies both."""
from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

DRAW_RULE = "balanced-seeded-v1"
AGGREGATION_RULE = "mean-of-totals-v1"

# Campaign settings the expert review reads, with our defaults where the notice is silent.
DEFAULTS: dict[str, Any] = {
    "experts_per_application": 3,
    "trim_extremes_from": 5,  # with this many sheets or more, drop the highest and the lowest total
    "quota": None,  # at most this many on the experts' list (None: no quota)
    "threshold": None,  # at least this mean total to be on the list (None: no threshold)
    "outlier_distance": 15,  # a sheet whose total is further than this from the others' mean is flagged
    "tie_break_criterion": None,  # ties go to the higher mean of this criterion (None: the rubric's first), then the earlier submission
    "declaration_valid_days": 365,  # an evaluator's declaration of interests older than this must be renewed
    "expert_review_deadline": None,  # ISO date: sheets not final by its end are overdue (None: never)
}


@dataclass(frozen=True)
class Criterion:
    code: str
    name_zh: str
    name_en: str
    max: int


@dataclass(frozen=True)
class ScoringRules:
    """A campaign's expert-review settings, defaults filled in."""

    rubric: tuple[Criterion, ...]
    experts_per_application: int
    trim_extremes_from: int
    quota: int | None
    threshold: int | None
    outlier_distance: int
    tie_break_criterion: str
    declaration_valid_days: int
    expert_review_deadline: date | None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "ScoringRules":
        merged = {**DEFAULTS, **{k: v for k, v in settings.items() if k in DEFAULTS and v is not None}}
        deadline = merged["expert_review_deadline"]
        return cls(
            rubric=tuple(Criterion(c["code"], c["name_zh"], c["name_en"], int(c["max"])) for c in settings["rubric"]),
            experts_per_application=int(merged["experts_per_application"]),
            trim_extremes_from=int(merged["trim_extremes_from"]),
            quota=merged["quota"], threshold=merged["threshold"],
            outlier_distance=int(merged["outlier_distance"]),
            tie_break_criterion=str(merged["tie_break_criterion"] or settings["rubric"][0]["code"]),
            declaration_valid_days=int(merged["declaration_valid_days"]),
            expert_review_deadline=date.fromisoformat(deadline) if deadline else None,
        )

    def aggregation(self) -> dict[str, Any]:
        """The settings a ranking records beside its rule's name."""
        return {"trim_extremes_from": self.trim_extremes_from, "outlier_distance": self.outlier_distance,
                "tie_break_criterion": self.tie_break_criterion, "quota": self.quota, "threshold": self.threshold}

    def criterion_codes(self) -> list[str]:
        return [c.code for c in self.rubric]

    def declaration_current(self, declared_on: date | None, today: date) -> bool:
        return declared_on is not None and today - declared_on <= timedelta(days=self.declaration_valid_days)


# ------------------------------------------------------------------ conflicts of interest
@dataclass(frozen=True)
class Interests:
    """What an evaluator declared: employers and enterprises by credit code, providers by pool id."""

    employers: frozenset[str]
    enterprises: frozenset[str]
    providers: frozenset[str]


@dataclass(frozen=True)
class Parties:
    """Who an application concerns: the enterprise and the providers of its confirmed contracts,
    with the providers' credit codes as the supply pool knows them."""

    uscc: str
    provider_ids: frozenset[str]
    provider_usccs: frozenset[str]


def conflicts(interests: Interests, parties: Parties) -> list[str]:
    """Why an evaluator may not score an application (empty: no conflict): declared interests, and
    those derived from the data (employed by the enterprise or by one of its providers)."""
    found = []
    if parties.uscc in interests.enterprises:
        found.append("declared_enterprise")
    if parties.provider_ids & interests.providers:
        found.append("declared_provider")
    if parties.uscc in interests.employers:
        found.append("employed_by_enterprise")
    if parties.provider_usccs & interests.employers:
        found.append("employed_by_provider")
    return found


# ------------------------------------------------------------------ the draw
def draw(seed: str, applications: Sequence[str], evaluators: Sequence[str], loads: Mapping[str, int],
         needed: Mapping[str, int], excluded: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Assign `needed[a]` evaluators to each application `a`, never one in `excluded[a]` (conflicted,
    declined or already assigned). Applications are served in sorted order; for each, the evaluators
    with the lowest load so far come first, ties broken by the seeded generator, so the load stays
    balanced (without exclusions, no evaluator has two more than another) and the same inputs give
    the same result. Fewer than needed are assigned when too few remain."""
    rng = random.Random(seed)
    load = {e: int(loads.get(e, 0)) for e in evaluators}
    pool = sorted(set(evaluators))
    out: dict[str, list[str]] = {}
    for app in sorted(applications):
        barred = set(excluded.get(app, ()))
        lots = {e: rng.random() for e in pool}  # drawn for everyone, so one exclusion moves no other lot
        ranked = sorted((e for e in pool if e not in barred), key=lambda e: (load[e], lots[e]))
        chosen = ranked[:max(0, needed.get(app, 0))]
        for e in chosen:
            load[e] += 1
        out[app] = chosen
    return out


# ------------------------------------------------------------------ aggregation and ranking
def exact(value: Fraction) -> str:
    """A score as published: two decimals, half up (the exact value decides order and ties)."""
    return str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def counted_totals(totals: Sequence[int], trim_from: int) -> list[int]:
    """The totals the mean is taken over: all, or without one highest and one lowest when there are
    `trim_from` or more."""
    ordered = sorted(totals)
    return ordered[1:-1] if len(ordered) >= trim_from else ordered


def mean(values: Sequence[int]) -> Fraction:
    return Fraction(sum(values), len(values)) if values else Fraction(0)


def zscores(sheets: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], float]:
    """Per-evaluator normalisation: each evaluator's totals as z-scores over that evaluator's own
    sheets, keyed (application_id, evaluator_id). An evaluator with one sheet, or all alike, scores 0."""
    by_evaluator: dict[str, list[Mapping[str, Any]]] = {}
    for s in sheets:
        by_evaluator.setdefault(s["evaluator_id"], []).append(s)
    out: dict[tuple[str, str], float] = {}
    for evaluator, own in by_evaluator.items():
        totals = [s["total"] for s in own]
        mu = statistics.fmean(totals)
        sigma = statistics.pstdev(totals) if len(totals) > 1 else 0.0
        for s in own:
            out[(s["application_id"], evaluator)] = 0.0 if sigma == 0 else (s["total"] - mu) / sigma
    return out


def outliers(totals: Mapping[str, int], distance: int) -> list[str]:
    """Evaluators whose total is further than `distance` from the mean of the others' totals."""
    if len(totals) < 2:
        return []
    flagged = []
    for evaluator, total in sorted(totals.items()):
        others = [t for e, t in totals.items() if e != evaluator]
        if abs(Fraction(total) - mean(others)) > distance:
            flagged.append(evaluator)
    return flagged


def rank(candidates: Sequence[Mapping[str, Any]], rules: ScoringRules) -> list[dict[str, Any]]:
    """The experts' ranking. Each candidate: application_id, submitted_at (ISO instant, the second
    tie-break) and sheets [{evaluator_id, total, scores{criterion: int}}] (final sheets only).
    Returns rows in rank order with the raw mean (the result), the normalised mean beside it, the
    outlier sheets and whether the row is on the experts' list (quota and threshold)."""
    all_sheets = [{"application_id": c["application_id"], **s} for c in candidates for s in c["sheets"]]
    z = zscores(all_sheets)
    rows = []
    for c in candidates:
        totals = [s["total"] for s in c["sheets"]]
        score = mean(counted_totals(totals, rules.trim_extremes_from))
        tie = mean([s["scores"].get(rules.tie_break_criterion, 0) for s in c["sheets"]])
        normalised = statistics.fmean([z[(c["application_id"], s["evaluator_id"])] for s in c["sheets"]]) if c["sheets"] else 0.0
        rows.append({"application_id": c["application_id"], "_score": score, "_tie": tie,
                     "submitted_at": c.get("submitted_at") or "", "score": exact(score), "tie_break_score": exact(tie),
                     "normalised": round(normalised, 4), "sheets": len(totals),
                     "outliers": outliers({s["evaluator_id"]: s["total"] for s in c["sheets"]}, rules.outlier_distance)})
    rows.sort(key=lambda r: (-r["_score"], -r["_tie"], r["submitted_at"] or "~", r["application_id"]))
    listed = 0
    for position, row in enumerate(rows, start=1):
        row["rank"] = position
        meets = rules.threshold is None or row["_score"] >= rules.threshold
        row["listed"] = bool(meets and (rules.quota is None or listed < rules.quota))
        listed += row["listed"]
        del row["_score"], row["_tie"]
    return rows
