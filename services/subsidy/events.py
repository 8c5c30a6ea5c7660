"""The subsidy service's public event contract. What a public event leaves out is left out on
purpose: a payee's account number is published masked (its last four digits); finance and the
enterprise read it whole through `get_subsidy_case`."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from shared.contract import Contract

from services.subsidy.domain import SubsidyCase

contract = Contract("subsidy")


def masked(account: str) -> str:
    """A bank account number as everyone but finance and the enterprise sees it."""
    return "*" * max(0, len(account) - 4) + account[-4:]


class OpenedData(Schema):
    """An award opened the case. `terms`: the campaign's `subsidy_rate`, `subsidy_cap` and
    `reference_date` at the award."""

    application_id = fields.String()
    campaign_code = fields.String()
    document_number = fields.String()
    uscc = fields.String()
    enterprise_name = fields.String()
    county_code = fields.String()
    unit_code = fields.String()
    provider_id = fields.String()
    confirmed_contracts = fields.List(fields.Dict())
    terms = fields.Dict()


class DetailsGivenData(Schema):
    """`payee` {name, bank, account} with `account` masked; `invoices` [{contract_id, kind, number,
    date, amount}]."""

    payee = fields.Method("masked_payee")
    invoices = fields.List(fields.Dict())

    def masked_payee(self, event: Any) -> dict[str, str]:
        return event.payee | {"account": masked(event.payee["account"])}


class StampedData(Schema):
    level = fields.String()
    remarks = fields.String()


class FiledData(Schema):
    remarks = fields.String()


class SentBackData(Schema):
    reasons = fields.List(fields.String())


class CalculatedData(Schema):
    """`rules.calculate(**inputs)` gives `result` (docs/subsidy.md)."""

    rule = fields.String()
    inputs = fields.Dict()
    result = fields.Dict()


class ApprovedData(Schema):
    amount = fields.String()


class PaidData(Schema):
    paid_on = fields.String()
    amount = fields.String()
    voucher_reference = fields.String()


class CancelledData(Schema):
    reason = fields.String()
    source = fields.Dict()


class ReclaimOpenedData(Schema):
    amount = fields.String()
    reason = fields.String()
    source = fields.Dict()


class RecoveredData(Schema):
    recovered_on = fields.String()
    amount = fields.String()
    reference = fields.String()
    outstanding = fields.String()


def application_of(event: Any) -> str:
    return str(event.application_id)


for cls, name, schema in (
    (SubsidyCase.Opened, "subsidy.case_opened", OpenedData),
    (SubsidyCase.DetailsGiven, "subsidy.details_given", DetailsGivenData),
    (SubsidyCase.Stamped, "subsidy.stamped", StampedData),
    (SubsidyCase.Filed, "subsidy.filed", FiledData),
    (SubsidyCase.SentBack, "subsidy.sent_back", SentBackData),
    (SubsidyCase.Calculated, "subsidy.calculated", CalculatedData),
    (SubsidyCase.Approved, "subsidy.approved", ApprovedData),
    (SubsidyCase.Paid, "subsidy.paid", PaidData),
    (SubsidyCase.Cancelled, "subsidy.cancelled", CancelledData),
    (SubsidyCase.ReclaimOpened, "subsidy.reclaim_opened", ReclaimOpenedData),
    (SubsidyCase.Recovered, "subsidy.recovered", RecoveredData),
):
    contract.register(cls, name, schema, application_id=application_of)
