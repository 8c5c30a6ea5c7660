"""The subsidy rule as a pure function of recorded inputs (the notice: 补助资金为企业上云当前有效合同的年服务费
20%，总金额不超过5万元; our reading in docs/subsidy.md). The calculation event records the inputs, the
rule version and the result, so anyone can call `calculate` on the event's data and get its result.

No I/O and no clock here."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping, Sequence

RULE_VERSION = "annual-fee-share-capped-v1"
FEN = Decimal("0.01")


def yuan(value: Decimal) -> str:
    """Exact decimals in yuan, rounded half up to the fen."""
    return str(value.quantize(FEN, rounding=ROUND_HALF_UP))


def in_force(contract: Mapping[str, Any], reference_date: date) -> bool:
    """当前有效: the reference date lies within the contract's term (both ends included)."""
    return date.fromisoformat(contract["term_start"]) <= reference_date <= date.fromisoformat(contract["term_end"])


def term_months(start: date, end: date) -> int | None:
    """Whole months from the start to the day after the end (2018-05-01 to 2019-04-30: 12); None
    when the term is not a whole number of months."""
    after = end + timedelta(days=1)
    if after.day != start.day:
        return None
    return (after.year - start.year) * 12 + after.month - start.month


def fee_disagrees(contract: Mapping[str, Any]) -> bool:
    """Whether the annual fee disagrees with the contract's total over its term: for a term of whole
    months, the fee times months/12 (to the fen) must equal the total; otherwise the fee times
    days/365 must be within 1% of it."""
    start, end = date.fromisoformat(contract["term_start"]), date.fromisoformat(contract["term_end"])
    fee, total = Decimal(contract["annual_fee"]), Decimal(contract["total_amount"])
    months = term_months(start, end)
    if months is not None:
        return (fee * months / 12).quantize(FEN, rounding=ROUND_HALF_UP) != total
    expected = fee * Decimal((end - start).days + 1) / Decimal(365)
    return abs(expected - total) > total * Decimal("0.01")


def calculate(contracts: Sequence[Mapping[str, Any]], confirmed: Sequence[str], rate: str, cap: str,
              reference_date: str, invoices: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The subsidy: `rate` times the sum of the annual fees of the contracts in force on the
    reference date and confirmed by the provider, then capped at `cap`; rounded half up to the fen.
    Several contracts in force: their fees are summed first, then the cap applies to the sum.
    A fee that disagrees with its contract's total and term, or that the invoices given for it do
    not cover, is flagged for the province; the amount is computed on the confirmed annual fee."""
    ref = date.fromisoformat(reference_date)
    used, flags = [], []
    for c in contracts:
        if c["contract_id"] not in confirmed or not in_force(c, ref):
            continue
        used.append({k: c[k] for k in ("contract_id", "number", "term_start", "term_end", "total_amount", "annual_fee")})
        if fee_disagrees(c):
            flags.append({"contract_id": c["contract_id"], "flag": "annual_fee_disagrees_with_total"})
        invoiced = sum((Decimal(i["amount"]) for i in invoices
                        if i["contract_id"] == c["contract_id"] and i["kind"] == "invoice"), Decimal(0))
        if invoices and invoiced < Decimal(c["annual_fee"]):
            flags.append({"contract_id": c["contract_id"], "flag": "invoices_below_annual_fee",
                          "invoiced": yuan(invoiced)})
    fees = sum((Decimal(c["annual_fee"]) for c in used), Decimal(0))
    uncapped = fees * Decimal(rate)
    amount = min(uncapped, Decimal(cap))
    return {"rule": RULE_VERSION, "reference_date": reference_date, "rate": rate, "cap": cap,
            "contracts": used, "annual_fees": yuan(fees), "uncapped": yuan(uncapped),
            "capped": uncapped > Decimal(cap), "amount": yuan(amount), "flags": flags}
