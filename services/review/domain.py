"""Review cases: one per application, moving provider → county → city (the notice: 服务商确认、县级审核、市级审核推荐).
Event classes are public contracts (stored as `module:Class`): never move or rename one.

A case works in rounds: a resubmission after a return for correction starts the next round at the
provider step; the earlier round's approvals stay in the history, superseded."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from shared.clock import end_of_day
from shared.entity import Entity, stable_id
from shared.errors import DeadlinePassed, InvalidInput, InvalidState

Actor = dict[str, str]

class Stage(StrEnum):
    """The steps of a case, in order: 服务商确认, 县级审核, 市级审核推荐."""

    PROVIDER = "provider"
    COUNTY = "county"
    CITY = "city"


PROVIDER, COUNTY, CITY = Stage.PROVIDER, Stage.COUNTY, Stage.CITY
STAGES = tuple(Stage)


class Status(StrEnum):
    OPEN = "open"  # at one of the stages
    RETURNED = "returned"  # back with the enterprise for correction
    RECOMMENDED = "recommended"
    DECLINED = "declined"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"


FINAL = (Status.RECOMMENDED, Status.DECLINED, Status.REJECTED, Status.WITHDRAWN, Status.LAPSED)


def case_id_for(application_id: str) -> UUID:
    return stable_id("review-case", application_id)


def ranking_id_for(campaign_code: str, unit_code: str) -> UUID:
    return stable_id("city-ranking", campaign_code, unit_code)


@dataclass(frozen=True)
class Deadlines:
    """The campaign's stage target dates and its system close (campaign settings)."""

    provider: date
    county: date
    city: date
    system_close: date

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> "Deadlines":
        d = date.fromisoformat
        return cls(d(settings["provider_deadline"]), d(settings["county_deadline"]), d(settings["city_deadline"]),
                   d(settings["system_close"]))

    def due(self, stage: str) -> date:
        return {PROVIDER: self.provider, COUNTY: self.county, CITY: self.city}[Stage(stage)]

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> "Deadlines":
        return cls(*(date.fromisoformat(d[k]) for k in ("provider", "county", "city", "system_close")))

    def as_dict(self) -> dict[str, str]:
        return {"provider": self.provider.isoformat(), "county": self.county.isoformat(), "city": self.city.isoformat(),
                "system_close": self.system_close.isoformat()}

    def check_open(self, now: datetime) -> None:
        if now >= end_of_day(self.system_close):
            raise DeadlinePassed({"system_close": self.system_close.isoformat()},
                                 zh="申报系统已关闭，不再受理审核", en="The system is closed to review actions")


class ReviewCase(Entity):
    class CaseEvent(Aggregate.Event):
        """Every case event names its application: the correlation id across services."""

        actor: Actor
        application_id: str

    class Opened(Aggregate.Created):
        actor: Actor
        application_id: str
        campaign_code: str
        round: int
        county_code: str
        unit_code: str
        provider_id: str
        content: dict[str, Any]  # the application as submitted
        deadlines: dict[str, str]
        submitted_at: str | None  # the application's first submission (ISO, UTC): the experts' tie-break

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["submitted_at"] = None  # opened before the case kept it

    class Restarted(CaseEvent):
        """The enterprise resubmitted: a new round starts at the provider step."""

        round: int
        provider_id: str
        content: dict[str, Any]

        def apply(self, case: "ReviewCase") -> None:
            case.round, case.provider_id, case.content = self.round, self.provider_id, self.content
            case.stage, case.status = PROVIDER, Status.OPEN
            case.overdue_stages = []
            case.step_results = {}

    class ProviderConfirmed(CaseEvent):
        """云平台服务商确认: every item confirmed; the provider answers for their truth."""

        round: int
        items: dict[str, Any]
        remarks: str

        def apply(self, case: "ReviewCase") -> None:
            case.step_results[PROVIDER] = {"items": self.items, "remarks": self.remarks, "by": self.actor}
            case.stage = COUNTY

    class CountyPassed(CaseEvent):
        """县级审核: materials complete, each copy matches the original shown, and the county's
        attestation 此企业确系我县（区、市）工业企业 (None: recorded before the attestation was asked)."""

        round: int
        checklist: dict[str, Any]
        remarks: str
        local_industrial_enterprise: bool | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["local_industrial_enterprise"] = None

        def apply(self, case: "ReviewCase") -> None:
            case.step_results[COUNTY] = {"checklist": self.checklist, "remarks": self.remarks,
                                         "local_industrial_enterprise": self.local_industrial_enterprise,
                                         "by": self.actor}
            case.stage = CITY

    class Recommended(CaseEvent):
        """市级审核推荐: carries what the experts need, so scoring never asks another service: the
        application's first submission time (the tie-break) and, per confirmed contract, the provider
        that confirmed it (conflicts of interest)."""

        round: int
        opinion: str
        content: dict[str, Any]
        provider_confirmation: dict[str, Any]
        county_checklist: dict[str, Any]
        submitted_at: str | None
        confirmed_contracts: list[dict[str, str]]

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["submitted_at"] = None
            state["confirmed_contracts"] = confirmed_contracts(state["content"], state["provider_confirmation"])

        def apply(self, case: "ReviewCase") -> None:
            case.step_results[CITY] = {"decision": "recommend", "opinion": self.opinion, "by": self.actor}
            case.status = Status.RECOMMENDED

    class Declined(CaseEvent):
        round: int
        opinion: str

        def apply(self, case: "ReviewCase") -> None:
            case.step_results[CITY] = {"decision": "decline", "opinion": self.opinion, "by": self.actor}
            case.status = Status.DECLINED

    class ReturnedForCorrection(CaseEvent):
        """Back to the enterprise, with reasons (and, from the provider, the disputed items)."""

        round: int
        stage: str
        reasons: list[str]
        details: dict[str, Any]

        def apply(self, case: "ReviewCase") -> None:
            case.status = Status.RETURNED
            case.returns.append({"round": self.round, "stage": self.stage, "reasons": list(self.reasons)})

    class Rejected(CaseEvent):
        round: int
        stage: str
        reasons: list[str]

        def apply(self, case: "ReviewCase") -> None:
            case.status = Status.REJECTED

    class Withdrawn(CaseEvent):
        reason: str

        def apply(self, case: "ReviewCase") -> None:
            case.status = Status.WITHDRAWN

    class StageOverdue(CaseEvent):
        """The case passed its stage's target date (flag only: the hard stop is the system close)."""

        round: int
        stage: str
        due: str

        def apply(self, case: "ReviewCase") -> None:
            case.overdue_stages.append(self.stage)

    class Lapsed(CaseEvent):
        """Unfinished at the system close (申报系统关闭): no further action is accepted."""

        round: int
        stage: str
        status_before: str

        def apply(self, case: "ReviewCase") -> None:
            case.status = Status.LAPSED

    def __init__(self, actor: Actor, application_id: str, campaign_code: str, round: int, county_code: str,
                 unit_code: str, provider_id: str, content: dict[str, Any], deadlines: dict[str, str],
                 submitted_at: str | None = None) -> None:
        self.application_id = application_id
        self.submitted_at = submitted_at
        self.campaign_code = campaign_code
        self.round = round
        self.county_code = county_code
        self.unit_code = unit_code
        self.provider_id = provider_id
        self.content = content
        self.deadlines = deadlines
        self.stage = PROVIDER
        self.status = Status.OPEN
        self.overdue_stages: list[str] = []
        self.step_results: dict[str, Any] = {}
        self.returns: list[dict[str, Any]] = []

    def _happen(self, event_class: type, at: datetime, actor: Actor, **data: Any) -> None:
        super()._happen(event_class, at, actor, application_id=self.application_id, **data)

    # ---------------------------------------------------------------- following the application
    @classmethod
    def open(cls, at: datetime, actor: Actor, application_id: str, campaign_code: str, round: int, content: dict[str, Any],
             deadlines: Deadlines, submitted_at: str | None = None) -> "ReviewCase":
        """`submitted_at`: when the application was first submitted (ISO, UTC), None if not known."""
        return cls._begin(
            cls.Opened, case_id_for(application_id), at, actor, application_id=application_id,
            campaign_code=campaign_code, round=round, county_code=content["county_code"], unit_code=content["unit_code"],
            provider_id=content["cloud"].get("provider_id", ""), content=content, deadlines=deadlines.as_dict(),
            submitted_at=submitted_at)

    def restart(self, at: datetime, actor: Actor, round: int, content: dict[str, Any]) -> bool:
        if round <= self.round or self.status in FINAL:
            return False
        self._happen(self.Restarted, at, actor, round=round, provider_id=content["cloud"].get("provider_id", ""),
                     content=content)
        return True

    def withdraw(self, at: datetime, actor: Actor, reason: str) -> bool:
        """The enterprise withdrew: an unfinished case closes, and so does a recommendation (the
        expert review drops it: the scoring service follows review.case_withdrawn)."""
        if self.status in FINAL and self.status != Status.RECOMMENDED:
            return False
        self._happen(self.Withdrawn, at, actor, reason=reason)
        return True

    # ---------------------------------------------------------------- reviewers' actions
    @property
    def terms(self) -> Deadlines:
        return Deadlines.from_dict(self.deadlines)

    def _at_stage(self, stage: str, now: datetime) -> None:
        self.terms.check_open(now)
        if self.status != Status.OPEN or self.stage != stage:
            raise InvalidState({"status": self.status, "stage": self.stage, "round": self.round},
                               zh="该申报当前不在此审核环节", en=f"The case is not at the {stage} step")

    def contract_ids(self) -> list[str]:
        return [c["contract_id"] for c in self.content.get("contracts", [])]

    def document_ids(self) -> list[str]:
        return [d["document_id"] for d in self.content.get("documents", [])]

    def provider_answer(self, now: datetime, actor: Actor, items: dict[str, Any], decision: str, reasons: list[str],
                        remarks: str) -> None:
        """Confirm or dispute each item; all confirmed moves on, any disputed returns the application
        with the provider's reasons, unless the provider rejects it outright."""
        self._at_stage(PROVIDER, now)
        missing = sorted(set(self.contract_ids()) - set(items["contracts"]))
        extra = sorted(set(items["contracts"]) - set(self.contract_ids()))
        if missing or extra:
            raise InvalidInput.fields({"items.contracts": [f"answer each contract of the application: missing {missing}, unknown {extra}"
                                                           " / 须逐一确认申报中的每份合同"]})
        disputed = disputed_items(items)
        if decision == "reject":
            if not reasons:
                raise InvalidInput.fields({"reasons": ["a rejection states its reasons / 驳回须说明理由"]})
            self._happen(self.Rejected, now, actor, round=self.round, stage=PROVIDER, reasons=reasons)
        elif disputed:
            stated = reasons or [f"{item}: {remark}" for item, remark in disputed.items()]
            self._happen(self.ReturnedForCorrection, now, actor, round=self.round, stage=PROVIDER, reasons=stated,
                         details={"disputed": disputed})
        else:
            self._happen(self.ProviderConfirmed, now, actor, round=self.round, items=items, remarks=remarks)

    def county_review(self, now: datetime, actor: Actor, checklist: dict[str, Any], complete: bool, decision: str,
                      reasons: list[str], remarks: str, *, local_industrial_enterprise: bool) -> None:
        """`local_industrial_enterprise`: the county's attestation on the form, 此企业确系我县（区、市）
        工业企业; a pass needs it, the materials complete and every copy matching its original."""
        self._at_stage(COUNTY, now)
        missing = sorted(set(self.document_ids()) - set(checklist))
        extra = sorted(set(checklist) - set(self.document_ids()))
        if missing or extra:
            raise InvalidInput.fields({"checklist": [f"one entry per document: missing {missing}, unknown {extra}"
                                                     " / 须逐一核对每份证明材料"]})
        mismatched = sorted(d for d, entry in checklist.items() if not entry["matches_original"])
        if decision == "pass":
            errors: dict[str, list[str]] = {}
            if mismatched or not complete:
                errors["decision"] = [f"cannot pass: incomplete or copies not matching {mismatched}"
                                      " / 材料不完备或复印件与原件不一致，不能通过"]
            if not local_industrial_enterprise:
                errors["local_industrial_enterprise"] = ["cannot pass without attesting that this is an industrial"
                                                         " enterprise of the county / 须确认此企业确系我县（区、市）工业企业方能通过"]
            if errors:
                raise InvalidInput.fields(errors)
            self._happen(self.CountyPassed, now, actor, round=self.round, checklist=checklist, remarks=remarks,
                         local_industrial_enterprise=True)
            return
        if not reasons:
            raise InvalidInput.fields({"reasons": ["state the reasons / 须说明理由"]})
        if decision == "return":
            self._happen(self.ReturnedForCorrection, now, actor, round=self.round, stage=COUNTY, reasons=reasons,
                         details={"checklist": checklist, "complete": complete,
                                  "local_industrial_enterprise": local_industrial_enterprise})
        else:
            self._happen(self.Rejected, now, actor, round=self.round, stage=COUNTY, reasons=reasons)

    def city_review(self, now: datetime, actor: Actor, decision: str, opinion: str, reasons: list[str]) -> None:
        self._at_stage(CITY, now)
        if PROVIDER not in self.step_results or COUNTY not in self.step_results:
            raise InvalidState({"missing_steps": [s for s in (PROVIDER, COUNTY) if s not in self.step_results]},
                               zh="服务商确认或县级审核未完成", en="The provider or county step is not complete")
        if decision == "recommend":
            confirmation = self.step_results[PROVIDER]
            self._happen(self.Recommended, now, actor, round=self.round, opinion=opinion, content=self.content,
                         provider_confirmation=confirmation, county_checklist=self.step_results[COUNTY],
                         submitted_at=self.submitted_at,
                         confirmed_contracts=confirmed_contracts(self.content, confirmation, self.provider_id))
        elif decision == "decline":
            self._happen(self.Declined, now, actor, round=self.round, opinion=opinion)
        else:
            if not reasons:
                raise InvalidInput.fields({"reasons": ["state the reasons / 须说明理由"]})
            self._happen(self.ReturnedForCorrection, now, actor, round=self.round, stage=CITY, reasons=reasons,
                         details={"opinion": opinion})

    # ---------------------------------------------------------------- the clock
    def due_changes(self, now: datetime, system: Actor) -> bool:
        """Flag the current stage overdue, or lapse the case at the system close. True if changed."""
        if self.status in FINAL:
            return False
        terms = self.terms
        if now >= end_of_day(terms.system_close):
            self._happen(self.Lapsed, now, system, round=self.round, stage=self.stage, status_before=self.status)
            return True
        if self.status == Status.OPEN and self.stage not in self.overdue_stages and now >= end_of_day(terms.due(self.stage)):
            self._happen(self.StageOverdue, now, system, round=self.round, stage=self.stage,
                         due=terms.due(self.stage).isoformat())
            return True
        return False


def confirmed_contracts(content: dict[str, Any], confirmation: dict[str, Any],
                        provider_id: str | None = None) -> list[dict[str, str]]:
    """[{contract_id, provider_id}] for each contract of the application its provider confirmed: the
    provider named on the application, which confirmed it and answers for it (the notice, 二、(二)).
    Contracts name their counterparty only by name; the provider's id is the confirming provider's."""
    provider = provider_id if provider_id is not None else content.get("cloud", {}).get("provider_id", "")
    answered = confirmation.get("items", {}).get("contracts", {})
    return [{"contract_id": c["contract_id"], "provider_id": provider} for c in content.get("contracts", [])
            if answered.get(c["contract_id"], {}).get("confirmed")]


def disputed_items(items: dict[str, Any]) -> dict[str, str]:
    """{item: remark} for every item the provider did not confirm."""
    out = {name: entry.get("remark", "") for name, entry in items.items() if name != "contracts" and not entry["confirmed"]}
    out.update({f"contract:{cid}": entry.get("remark", "") for cid, entry in items["contracts"].items() if not entry["confirmed"]})
    return out


class CityRanking(Entity):
    """A city's own order of its recommended applications (市级推荐排序)."""

    class Set(Aggregate.Created):
        actor: Actor
        campaign_code: str
        unit_code: str
        application_ids: list[str]

    class Changed(Aggregate.Event):
        actor: Actor
        application_ids: list[str]

        def apply(self, ranking: "CityRanking") -> None:
            ranking.application_ids = list(self.application_ids)

    def __init__(self, actor: Actor, campaign_code: str, unit_code: str, application_ids: list[str]) -> None:
        self.campaign_code = campaign_code
        self.unit_code = unit_code
        self.application_ids = list(application_ids)

    @classmethod
    def set(cls, at: datetime, actor: Actor, campaign_code: str, unit_code: str, application_ids: list[str]) -> "CityRanking":
        return cls._begin(cls.Set, ranking_id_for(campaign_code, unit_code), at, actor, campaign_code=campaign_code,
                          unit_code=unit_code, application_ids=list(application_ids))

    def change(self, at: datetime, actor: Actor, application_ids: list[str]) -> None:
        self._happen(self.Changed, at, actor, application_ids=list(application_ids))
