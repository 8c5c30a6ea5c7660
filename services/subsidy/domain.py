"""Subsidy cases: one per benchmark enterprise (the notice: 打印审核后的申报材料，经县、市工信部门审核盖章后，
报省工业和信息化厅备案 … 补助资金为企业上云当前有效合同的年服务费20%，总金额不超过5万元). Event classes are public
contracts (stored as `module:Class`): never move or rename one.

A case moves: the enterprise gives what finance needs (payee, invoices and vouchers) → the county
stamps → the city stamps (定州, 辛集: one stamp as both) → the province files (备案) or sends it back
→ the subsidy is calculated → finance approves → finance records the payment. A revoked award
cancels an unpaid case, or opens a reclaim of what was paid."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from shared.entity import Entity, stable_id
from shared.errors import InvalidInput, InvalidState

Actor = dict[str, str]


class Status(StrEnum):
    AWAITING_DETAILS = "awaiting_details"  # the enterprise gives payee and invoices
    AWAITING_COUNTY = "awaiting_county"  # 县级盖章
    AWAITING_CITY = "awaiting_city"  # 市级盖章
    AWAITING_PROVINCE = "awaiting_province"  # 省厅备案
    SENT_BACK = "sent_back"  # the province sent the filing back: details again, then the stamps
    FILED = "filed"
    CALCULATED = "calculated"
    APPROVED = "approved"
    PAID = "paid"
    CANCELLED = "cancelled"  # the award was revoked before any payment
    RECLAIMING = "reclaiming"  # revoked after payment: recovering what was paid
    RECLAIMED = "reclaimed"


class Level(StrEnum):
    COUNTY = "county"
    CITY = "city"
    BOTH = "both"  # 定州 and 辛集: one bureau, one stamp for both levels


DETAILS_OPEN = (Status.AWAITING_DETAILS, Status.AWAITING_COUNTY, Status.SENT_BACK)
ENDED = (Status.CANCELLED, Status.RECLAIMED)


def case_id_for(application_id: str) -> UUID:
    return stable_id("subsidy-case", application_id)


class SubsidyCase(Entity):
    class CaseEvent(Aggregate.Event):
        """Every case event names its application: the correlation id across services."""

        actor: Actor
        application_id: str

    class Opened(Aggregate.Created):
        actor: Actor
        application_id: str
        campaign_code: str
        document_number: str
        uscc: str
        enterprise_name: str
        county_code: str
        unit_code: str
        provider_id: str
        confirmed_contracts: list[dict[str, str]]
        content: dict[str, Any]
        provider_confirmation: dict[str, Any]
        county_checklist: dict[str, Any]
        city_opinion: str
        terms: dict[str, str]  # subsidy_rate, subsidy_cap, reference_date: the campaign's, at the award

    class DetailsGiven(CaseEvent):
        """What finance needs and the application does not hold: the payee account, and each invoice
        and payment voucher (number, date, amount) of the contracts."""

        payee: dict[str, str]
        invoices: list[dict[str, str]]

        def apply(self, case: "SubsidyCase") -> None:
            case.payee, case.invoices = self.payee, self.invoices
            case.stamps = {}
            case.status = Status.AWAITING_COUNTY

    class Stamped(CaseEvent):
        """审核盖章 by the county, the city, or (定州, 辛集) both at once."""

        level: str
        remarks: str

        def apply(self, case: "SubsidyCase") -> None:
            levels = [Level.COUNTY, Level.CITY] if self.level == Level.BOTH else [Level(self.level)]
            for level in levels:
                case.stamps[level] = {"by": self.actor, "at": self.timestamp.isoformat(), "remarks": self.remarks}
            case.status = Status.AWAITING_CITY if Level.CITY not in case.stamps else Status.AWAITING_PROVINCE

    class Filed(CaseEvent):
        """报省工业和信息化厅备案: the province records the stamped dossier."""

        remarks: str

        def apply(self, case: "SubsidyCase") -> None:
            case.status = Status.FILED

    class SentBack(CaseEvent):
        reasons: list[str]

        def apply(self, case: "SubsidyCase") -> None:
            case.status, case.stamps = Status.SENT_BACK, {}

    class Calculated(CaseEvent):
        """`rules.calculate(**inputs)` gives `result` again: the contracts, fees and invoices used,
        the rule version, the flags and the amount."""

        rule: str
        inputs: dict[str, Any]
        result: dict[str, Any]

        def apply(self, case: "SubsidyCase") -> None:
            case.calculation, case.status = self.result, Status.CALCULATED

    class Approved(CaseEvent):
        amount: str

        def apply(self, case: "SubsidyCase") -> None:
            case.approved, case.status = self.amount, Status.APPROVED

    class Paid(CaseEvent):
        paid_on: str
        amount: str
        voucher_reference: str

        def apply(self, case: "SubsidyCase") -> None:
            case.payment = {"paid_on": self.paid_on, "amount": self.amount, "voucher_reference": self.voucher_reference}
            case.status = Status.PAID

    class Cancelled(CaseEvent):
        """The award was revoked before any payment: nothing is owed."""

        reason: str
        source: dict[str, Any]

        def apply(self, case: "SubsidyCase") -> None:
            case.status = Status.CANCELLED

    class ReclaimOpened(CaseEvent):
        """[default] The award was revoked after payment: what was paid is to be recovered."""

        amount: str
        reason: str
        source: dict[str, Any]

        def apply(self, case: "SubsidyCase") -> None:
            case.reclaim = {"amount": self.amount, "recovered": "0.00", "recoveries": []}
            case.status = Status.RECLAIMING

    class Recovered(CaseEvent):
        recovered_on: str
        amount: str
        reference: str
        outstanding: str

        def apply(self, case: "SubsidyCase") -> None:
            assert case.reclaim is not None
            case.reclaim["recoveries"].append({"recovered_on": self.recovered_on, "amount": self.amount,
                                               "reference": self.reference})
            case.reclaim["recovered"] = str(Decimal(case.reclaim["recovered"]) + Decimal(self.amount))
            if Decimal(self.outstanding) == 0:
                case.status = Status.RECLAIMED

    def __init__(self, actor: Actor, application_id: str, campaign_code: str, document_number: str, uscc: str,
                 enterprise_name: str, county_code: str, unit_code: str, provider_id: str,
                 confirmed_contracts: list[dict[str, str]], content: dict[str, Any], provider_confirmation: dict[str, Any],
                 county_checklist: dict[str, Any], city_opinion: str, terms: dict[str, str]) -> None:
        self.application_id, self.campaign_code, self.document_number = application_id, campaign_code, document_number
        self.uscc, self.enterprise_name = uscc, enterprise_name
        self.county_code, self.unit_code, self.provider_id = county_code, unit_code, provider_id
        self.confirmed_contracts, self.content = confirmed_contracts, content
        self.provider_confirmation, self.county_checklist, self.city_opinion = provider_confirmation, county_checklist, city_opinion
        self.terms = terms
        self.status: str = Status.AWAITING_DETAILS
        self.payee: dict[str, str] | None = None
        self.invoices: list[dict[str, str]] = []
        self.stamps: dict[str, dict[str, Any]] = {}
        self.calculation: dict[str, Any] | None = None
        self.approved: str | None = None
        self.payment: dict[str, str] | None = None
        self.reclaim: dict[str, Any] | None = None

    @classmethod
    def open(cls, at: datetime, actor: Actor, **awarded: Any) -> "SubsidyCase":
        return cls._begin(cls.Opened, case_id_for(awarded["application_id"]), at, actor, **awarded)

    # -- the record the dossier prints
    def dossier_record(self) -> dict[str, Any]:
        return {"application_id": self.application_id, "campaign_code": self.campaign_code,
                "document_number": self.document_number, "content": self.content,
                "provider_confirmation": self.provider_confirmation, "county_checklist": self.county_checklist,
                "city_opinion": self.city_opinion}

    def _at(self, *statuses: str) -> None:
        if self.status not in statuses:
            raise InvalidState({"status": self.status, "expected": list(statuses)},
                               zh="补助案件当前状态不允许此操作", en=f"Not possible while the case is {self.status}")

    # -- filing
    def give_details(self, at: datetime, actor: Actor, payee: dict[str, str], invoices: list[dict[str, str]]) -> None:
        self._at(*DETAILS_OPEN)
        contracts = {c["contract_id"]: c for c in self.content.get("contracts", [])}
        errors: dict[str, list[str]] = {}
        for i, invoice in enumerate(invoices):
            contract = contracts.get(invoice["contract_id"])
            if contract is None:
                errors[f"invoices.{i}.contract_id"] = ["not a contract of the application / 非申报中的合同"]
            elif Decimal(invoice["amount"]) > Decimal(contract["total_amount"]):
                errors[f"invoices.{i}.amount"] = ["more than the contract's total / 超过合同总金额"]
        if errors:
            raise InvalidInput.fields(errors)
        self._happen(self.DetailsGiven, at, actor, application_id=self.application_id, payee=payee, invoices=invoices)

    def stamp(self, at: datetime, actor: Actor, level: str, remarks: str) -> None:
        self._at(Status.AWAITING_CITY if level == Level.CITY else Status.AWAITING_COUNTY)
        self._happen(self.Stamped, at, actor, application_id=self.application_id, level=level, remarks=remarks)

    def file(self, at: datetime, actor: Actor, remarks: str) -> None:
        self._at(Status.AWAITING_PROVINCE)
        self._happen(self.Filed, at, actor, application_id=self.application_id, remarks=remarks)

    def send_back(self, at: datetime, actor: Actor, reasons: list[str]) -> None:
        self._at(Status.AWAITING_COUNTY, Status.AWAITING_CITY, Status.AWAITING_PROVINCE)
        self._happen(self.SentBack, at, actor, application_id=self.application_id, reasons=reasons)

    # -- money
    def calculate(self, at: datetime, actor: Actor, inputs: dict[str, Any], result: dict[str, Any]) -> None:
        self._at(Status.FILED, Status.CALCULATED)
        self._happen(self.Calculated, at, actor, application_id=self.application_id, rule=result["rule"],
                     inputs=inputs, result=result)

    def approve(self, at: datetime, actor: Actor, amount: str) -> None:
        self._at(Status.CALCULATED)
        assert self.calculation is not None
        if Decimal(amount) != Decimal(self.calculation["amount"]):
            raise InvalidInput.fields({"amount": [f"the calculated amount is {self.calculation['amount']} / 须与核定金额一致"]})
        self._happen(self.Approved, at, actor, application_id=self.application_id, amount=self.calculation["amount"])

    def pay(self, at: datetime, actor: Actor, paid_on: str, amount: str, voucher_reference: str) -> None:
        self._at(Status.APPROVED)
        assert self.approved is not None
        if Decimal(amount) != Decimal(self.approved):
            raise InvalidInput.fields({"amount": [f"the approved amount is {self.approved} / 须与批准金额一致"]})
        self._happen(self.Paid, at, actor, application_id=self.application_id, paid_on=paid_on, amount=self.approved,
                     voucher_reference=voucher_reference)

    # -- a revoked award
    def revoke(self, at: datetime, actor: Actor, reason: str, source: dict[str, Any]) -> bool:
        if self.status in ENDED or self.status in (Status.RECLAIMING,):
            return False
        if self.payment is None:
            self._happen(self.Cancelled, at, actor, application_id=self.application_id, reason=reason, source=source)
        else:
            self._happen(self.ReclaimOpened, at, actor, application_id=self.application_id,
                         amount=self.payment["amount"], reason=reason, source=source)
        return True

    def recover(self, at: datetime, actor: Actor, recovered_on: str, amount: str, reference: str) -> None:
        self._at(Status.RECLAIMING)
        assert self.reclaim is not None
        outstanding = Decimal(self.reclaim["amount"]) - Decimal(self.reclaim["recovered"])
        if Decimal(amount) <= 0 or Decimal(amount) > outstanding:
            raise InvalidInput.fields({"amount": [f"between 0.01 and the outstanding {outstanding} / 须在0.01至未追回金额之间"]})
        if any(r["reference"] == reference for r in self.reclaim["recoveries"]):
            raise InvalidInput.fields({"reference": ["recorded already / 该凭证已登记"]})
        self._happen(self.Recovered, at, actor, application_id=self.application_id, recovered_on=recovered_on,
                     amount=str(Decimal(amount)), reference=reference, outstanding=str(outstanding - Decimal(amount)))
