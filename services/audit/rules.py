"""The spot check's draw (抽查), a pure function of what its event records (docs/audit.md).

`stratified-seeded-v1`: every enterprise of the population is ranked by SHA-256 of
"<seed>:<application_id>" (hex, ascending). Unstratified, the first `size` are drawn. Stratified by
city, each city-level unit receives its share of `size` by the largest-remainder method (quota
size × stratum / population; the remainders ranked largest first, ties to the lower unit code), and
draws its first ones. The same seed and population give the same sample, anywhere."""
from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Sequence

RULE = "stratified-seeded-v1"


def rank_key(seed: str, application_id: str) -> str:
    return hashlib.sha256(f"{seed}:{application_id}".encode("utf-8")).hexdigest()


def size_for(population: int, size: int | None, share: Decimal | None) -> int:
    """How many to draw: `size`, or `share` of the population rounded half up (at least one of a
    population that is not empty); never more than the population."""
    wanted = size if size is not None else int((Decimal(population) * (share or Decimal(0))).quantize(
        Decimal(1), rounding=ROUND_HALF_UP))
    if share is not None and population and wanted == 0:
        wanted = 1
    return min(wanted, population)


def allocate(strata: dict[str, int], size: int) -> dict[str, int]:
    """Largest-remainder apportionment of `size` over the strata (unit code -> how many it holds)."""
    total = sum(strata.values())
    if total == 0:
        return {unit: 0 for unit in strata}
    quotas = {unit: Fraction(size * count, total) for unit, count in strata.items()}
    given = {unit: int(q) for unit, q in quotas.items()}
    left = size - sum(given.values())
    for unit in sorted(strata, key=lambda u: (-(quotas[u] - given[u]), u))[:left]:
        given[unit] += 1
    return dict(sorted(given.items()))


def draw_sample(seed: str, population: Sequence[dict[str, str]], size: int,
                stratify_by_city: bool) -> tuple[dict[str, int], list[str]]:
    """(allocation per unit code, the application ids drawn, by unit then rank)."""
    by_unit: dict[str, list[str]] = {}
    for member in population:
        by_unit.setdefault(member["unit_code"] if stratify_by_city else "*", []).append(member["application_id"])
    for ids in by_unit.values():
        ids.sort(key=lambda a: rank_key(seed, a))
    allocation = allocate({unit: len(ids) for unit, ids in by_unit.items()}, size)
    drawn = [a for unit in sorted(by_unit) for a in by_unit[unit][:allocation[unit]]]
    return ({} if not stratify_by_city else allocation), drawn
