"""Aggregates of the application service and their events. Event classes are public contracts
(stored as `module:Class`): never move or rename one without registering the old topic.

Inputs arriving here are already validated for shape (schemas.py); these classes guard state."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from shared.clock import end_of_day
from shared.entity import Entity, stable_id
from shared.errors import Conflict, DeadlinePassed, InvalidInput, InvalidState, NotFound

Actor = dict[str, str]


def account_id_for(username: str) -> UUID:
    return stable_id("account", username.strip().lower())


def enterprise_id_for(uscc: str) -> UUID:
    return stable_id("enterprise", uscc.upper())


def campaign_id_for(code: str) -> UUID:
    return stable_id("campaign", code)


def application_id_for(campaign_id: UUID, enterprise_id: UUID) -> UUID:
    return stable_id("application", str(campaign_id), str(enterprise_id))


POOL_ID = stable_id("supply-pool")


# ---------------------------------------------------------------- accounts and enterprises
class Account(Entity):
    class Registered(Aggregate.Created):
        """An enterprise registered itself."""

        actor: Actor
        username: str
        role: str
        display_name: str
        password_hash: str
        enterprise_id: str

    class Provisioned(Aggregate.Created):
        """The province issued an account (用户名和密码由省工信厅统一分配和发放)."""

        actor: Actor
        username: str
        role: str
        display_name: str
        password_hash: str
        division_code: str | None
        provider_id: str | None

    class PasswordChanged(Aggregate.Event):
        actor: Actor
        password_hash: str

        def apply(self, account: "Account") -> None:
            account.password_hash = self.password_hash
            account.must_change_password = False
            account.session += 1  # every token issued before ends

    class PasswordReset(Aggregate.Event):
        """The province handed out a new initial password (the account holder forgot theirs)."""

        actor: Actor
        password_hash: str
        reason: str

        def apply(self, account: "Account") -> None:
            account.password_hash = self.password_hash
            account.must_change_password = True
            account.session += 1

    class Deactivated(Aggregate.Event):
        actor: Actor
        reason: str

        def apply(self, account: "Account") -> None:
            account.active = False
            account.session += 1

    class Reactivated(Aggregate.Event):
        actor: Actor
        reason: str

        def apply(self, account: "Account") -> None:
            account.active = True

    def __init__(
        self,
        actor: Actor,
        username: str,
        role: str,
        display_name: str,
        password_hash: str,
        enterprise_id: str | None = None,
        division_code: str | None = None,
        provider_id: str | None = None,
    ) -> None:
        self.username = username
        self.role = role
        self.display_name = display_name
        self.password_hash = password_hash
        self.enterprise_id = enterprise_id
        self.division_code = division_code
        self.provider_id = provider_id
        self.active = True
        # Tokens carry the session they were issued in; a password change, a reset or a deactivation
        # starts a new one, which ends every token issued before, in every service.
        self.session = 0
        # Issued accounts start with the password the province handed out (用户名和密码由省工信厅统一分配).
        self.must_change_password = role != "enterprise"

    @classmethod
    def register(cls, at: datetime, username: str, display_name: str, password_hash: str, enterprise_id: UUID) -> "Account":
        account_id = account_id_for(username)
        actor = {"id": str(account_id), "role": "enterprise"}
        return cls._begin(
            cls.Registered, account_id, at, actor, username=username, role="enterprise",
            display_name=display_name, password_hash=password_hash, enterprise_id=str(enterprise_id),
        )

    @classmethod
    def provision(
        cls, at: datetime, actor: Actor, username: str, role: str, display_name: str, password_hash: str,
        division_code: str | None, provider_id: str | None,
    ) -> "Account":
        return cls._begin(
            cls.Provisioned, account_id_for(username), at, actor, username=username, role=role,
            display_name=display_name, password_hash=password_hash, division_code=division_code,
            provider_id=provider_id,
        )

    def change_password(self, at: datetime, actor: Actor, password_hash: str) -> None:
        self._happen(self.PasswordChanged, at, actor, password_hash=password_hash)

    def reset_password(self, at: datetime, actor: Actor, password_hash: str, reason: str) -> None:
        self._happen(self.PasswordReset, at, actor, password_hash=password_hash, reason=reason)

    def deactivate(self, at: datetime, actor: Actor, reason: str) -> None:
        if not self.active:
            raise InvalidState({"account": "already inactive"})
        self._happen(self.Deactivated, at, actor, reason=reason)

    def reactivate(self, at: datetime, actor: Actor, reason: str) -> None:
        if self.active:
            raise InvalidState({"account": "already active"})
        self._happen(self.Reactivated, at, actor, reason=reason)


class Enterprise(Entity):
    """One per unified social credit code: a second registration with the same code conflicts."""

    class Registered(Aggregate.Created):
        actor: Actor
        uscc: str
        name: str
        county_code: str
        account_id: str

    def __init__(self, actor: Actor, uscc: str, name: str, county_code: str, account_id: str) -> None:
        self.uscc = uscc
        self.name = name
        self.county_code = county_code
        self.account_id = account_id

    @classmethod
    def register(cls, at: datetime, actor: Actor, uscc: str, name: str, county_code: str, account_id: UUID) -> "Enterprise":
        return cls._begin(
            cls.Registered, enterprise_id_for(uscc), at, actor,
            uscc=uscc.upper(), name=name, county_code=county_code, account_id=str(account_id),
        )


# ---------------------------------------------------------------- campaigns
@dataclass(frozen=True)
class CampaignTerms:
    """A campaign's settings, typed. Every default we chose where the notice is silent is one of these (docs/reference-data.md)."""

    code: str
    name: str
    opens_on: date
    submission_deadline: date
    provider_deadline: date
    county_deadline: date
    city_deadline: date
    system_close: date
    first_contract_on_or_before: date
    reference_date: date
    revenue_years: tuple[int, ...]
    investment_years: tuple[int, ...]
    subsidy_rate: Decimal
    subsidy_cap: Decimal
    notice_period_days: int
    ban_years: int
    evidence_max_bytes: int
    evidence_content_types: tuple[str, ...]

    @classmethod
    def from_settings(cls, s: dict[str, Any]) -> "CampaignTerms":
        d = date.fromisoformat
        return cls(
            code=s["code"], name=s["name"], opens_on=d(s["opens_on"]),
            submission_deadline=d(s["submission_deadline"]), provider_deadline=d(s["provider_deadline"]),
            county_deadline=d(s["county_deadline"]), city_deadline=d(s["city_deadline"]),
            system_close=d(s["system_close"]),
            first_contract_on_or_before=d(s["first_contract_on_or_before"]),
            reference_date=d(s["reference_date"]), revenue_years=tuple(s["revenue_years"]),
            investment_years=tuple(s["investment_years"]), subsidy_rate=Decimal(s["subsidy_rate"]),
            subsidy_cap=Decimal(s["subsidy_cap"]), notice_period_days=s["notice_period_days"],
            ban_years=s["ban_years"], evidence_max_bytes=s["evidence"]["max_bytes"],
            evidence_content_types=tuple(s["evidence"]["content_types"]),
        )

    def check_can_submit(self, now: datetime) -> None:
        if now < end_of_day(self.opens_on - timedelta(days=1)):
            raise InvalidState({"campaign": f"opens on {self.opens_on}"}, zh="申报尚未开始", en="Applications are not open yet")
        if now >= end_of_day(self.submission_deadline):
            raise DeadlinePassed({"deadline": self.submission_deadline.isoformat()},
                                 zh="申报截止时间已过", en="The submission deadline has passed")

    def check_open(self, now: datetime) -> None:
        """After the system close nothing is accepted (申报系统将在12月15日关闭申报和审核功能)."""
        if now >= end_of_day(self.system_close):
            raise DeadlinePassed({"system_close": self.system_close.isoformat()},
                                 zh="申报系统已关闭", en="The declaration system is closed")


class Campaign(Entity):
    class Opened(Aggregate.Created):
        actor: Actor
        code: str
        settings: dict[str, Any]

    def __init__(self, actor: Actor, code: str, settings: dict[str, Any]) -> None:
        self.code = code
        self.settings = settings

    @property
    def terms(self) -> CampaignTerms:
        return CampaignTerms.from_settings(self.settings)

    @classmethod
    def open(cls, at: datetime, actor: Actor, settings: dict[str, Any]) -> "Campaign":
        return cls._begin(cls.Opened, campaign_id_for(settings["code"]), at, actor, code=settings["code"], settings=settings)


# ---------------------------------------------------------------- the supply resource pool
class SupplyPool(Entity):
    """The province's 供给资源池. Its history answers who was in the pool when."""

    class Established(Aggregate.Created):
        actor: Actor

    class ProviderAdded(Aggregate.Event):
        actor: Actor
        provider_id: str
        name: str
        uscc: str
        reason: str

        def apply(self, pool: "SupplyPool") -> None:
            pool.members[self.provider_id] = {"name": self.name, "uscc": self.uscc}
            pool.periods.append({
                "provider_id": self.provider_id, "name": self.name, "uscc": self.uscc,
                "added_at": self.timestamp.isoformat(), "removed_at": None, "removal_reason": None,
            })

    class ProviderRemoved(Aggregate.Event):
        actor: Actor
        provider_id: str
        reason: str
        source: str  # "province", or "audit" when fraud was found
        source_ref: str | None = None  # for "audit": the audit event's event_id (absent before it was recorded)

        def apply(self, pool: "SupplyPool") -> None:
            pool.members.pop(self.provider_id, None)
            for period in pool.periods:
                if period["provider_id"] == self.provider_id and period["removed_at"] is None:
                    period["removed_at"] = self.timestamp.isoformat()
                    period["removal_reason"] = self.reason

    def __init__(self, actor: Actor) -> None:
        self.members: dict[str, dict[str, str]] = {}
        self.periods: list[dict[str, Any]] = []

    @classmethod
    def establish(cls, at: datetime, actor: Actor) -> "SupplyPool":
        return cls._begin(cls.Established, POOL_ID, at, actor)

    def add(self, at: datetime, actor: Actor, provider_id: str, name: str, uscc: str, reason: str) -> None:
        if provider_id in self.members:
            raise Conflict({"provider_id": "already in the pool"}, zh="该服务商已在资源池中", en="The provider is already in the pool")
        self._happen(self.ProviderAdded, at, actor, provider_id=provider_id, name=name, uscc=uscc, reason=reason)

    def remove(self, at: datetime, actor: Actor, provider_id: str, reason: str, source: str,
               source_ref: str | None = None) -> None:
        if provider_id not in self.members:
            raise NotFound({"provider_id": "not in the pool"}, zh="该服务商不在资源池中", en="The provider is not in the pool")
        self._happen(self.ProviderRemoved, at, actor, provider_id=provider_id, reason=reason, source=source,
                     source_ref=source_ref)

    def member_at(self, provider_id: str, at: datetime) -> bool:
        for period in self.periods:
            if period["provider_id"] != provider_id:
                continue
            added = datetime.fromisoformat(period["added_at"])
            removed = period["removed_at"] and datetime.fromisoformat(period["removed_at"])
            if added <= at and (not removed or at < removed):
                return True
        return False

    def members_at(self, at: datetime) -> list[dict[str, Any]]:
        ids = {p["provider_id"] for p in self.periods if self.member_at(p["provider_id"], at)}
        latest = {p["provider_id"]: p for p in self.periods if p["provider_id"] in ids}
        return [{"provider_id": i, "name": latest[i]["name"], "uscc": latest[i]["uscc"]} for i in sorted(ids)]


# ---------------------------------------------------------------- bans (三年内不得申报)
class Ban(Entity):
    class Recorded(Aggregate.Created):
        actor: Actor
        uscc: str
        reason: str
        starts_on: str
        ends_on: str
        source: str  # "province" or "audit"
        source_ref: str | None

    class Lifted(Aggregate.Event):
        actor: Actor
        reason: str

        def apply(self, ban: "Ban") -> None:
            ban.lifted = True

    def __init__(self, actor: Actor, uscc: str, reason: str, starts_on: str, ends_on: str, source: str, source_ref: str | None) -> None:
        self.uscc = uscc
        self.reason = reason
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.source = source
        self.source_ref = source_ref
        self.lifted = False

    @classmethod
    def record(cls, ban_id: UUID, at: datetime, actor: Actor, uscc: str, reason: str, starts_on: date, ends_on: date,
               source: str, source_ref: str | None = None) -> "Ban":
        if ends_on < starts_on:
            raise InvalidInput.fields({"ends_on": ["must not be before starts_on / 不得早于开始日期"]})
        return cls._begin(cls.Recorded, ban_id, at, actor, uscc=uscc.upper(), reason=reason,
                          starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat(), source=source, source_ref=source_ref)

    def lift(self, at: datetime, actor: Actor, reason: str) -> None:
        if self.lifted:
            raise InvalidState({"ban": "already lifted"})
        self._happen(self.Lifted, at, actor, reason=reason)


# ---------------------------------------------------------------- applications
class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"


EDITABLE = (Status.DRAFT, Status.RETURNED)


class Application(Entity):
    """申报: the form of 附件2, its evidence and its path from draft to submitted, returned,
    resubmitted or withdrawn."""

    class Started(Aggregate.Created):
        actor: Actor
        campaign_id: str
        campaign_code: str
        enterprise_id: str
        account_id: str
        uscc: str
        enterprise_name: str
        county_code: str
        unit_code: str

    class SectionUpdated(Aggregate.Event):
        """A part of the form (`enterprise` or `cloud`) changed; `values` holds the fields given."""

        actor: Actor
        section: str
        values: dict[str, Any]

        def apply(self, app: "Application") -> None:
            app.sections.setdefault(self.section, {}).update(self.values)

    class ScenariosSet(Aggregate.Event):
        actor: Actor
        scenarios: list[dict[str, Any]]

        def apply(self, app: "Application") -> None:
            app.scenarios = list(self.scenarios)

    class ContractSaved(Aggregate.Event):
        actor: Actor
        contract: dict[str, Any]

        def apply(self, app: "Application") -> None:
            app.contracts[self.contract["contract_id"]] = dict(self.contract)

    class ContractRemoved(Aggregate.Event):
        actor: Actor
        contract_id: str

        def apply(self, app: "Application") -> None:
            app.contracts.pop(self.contract_id, None)

    class DocumentAttached(Aggregate.Event):
        actor: Actor
        document: dict[str, Any]  # id, kind, filename, content_type, size, sha256, contract_id

        def apply(self, app: "Application") -> None:
            app.documents[self.document["document_id"]] = dict(self.document)

    class DocumentRemoved(Aggregate.Event):
        actor: Actor
        document_id: str

        def apply(self, app: "Application") -> None:
            app.documents.pop(self.document_id, None)

    class PledgeGiven(Aggregate.Event):
        """真实性承诺: all materials true and complete; whether to share experience; the
        declaration of no bad record (申报条件一)."""

        actor: Actor
        truthful: bool
        no_bad_record: bool
        share_experience: bool

        def apply(self, app: "Application") -> None:
            app.pledge = {"truthful": self.truthful, "no_bad_record": self.no_bad_record,
                          "share_experience": self.share_experience, "given_at": self.timestamp.isoformat()}

    class Submitted(Aggregate.Event):
        actor: Actor
        round: int
        rule_set_version: str
        content: dict[str, Any]

        def apply(self, app: "Application") -> None:
            app.status = Status.SUBMITTED
            app.round = self.round
            app.submitted_at = app.submitted_at or self.timestamp.isoformat()
            app.last_submitted_at = self.timestamp.isoformat()

    class Resubmitted(Submitted):
        """Submitted again after a return for correction; review restarts at the provider step."""

    class Withdrawn(Aggregate.Event):
        actor: Actor
        reason: str

        def apply(self, app: "Application") -> None:
            app.status = Status.WITHDRAWN

    class ReturnedForCorrection(Aggregate.Event):
        actor: Actor
        round: int
        stage: str
        reasons: list[str]
        review_event_id: str

        def apply(self, app: "Application") -> None:
            app.status = Status.RETURNED
            app.returns.append({"round": self.round, "stage": self.stage, "reasons": list(self.reasons),
                                "at": self.timestamp.isoformat(), "by": dict(self.actor)})

    def __init__(self, actor: Actor, campaign_id: str, campaign_code: str, enterprise_id: str, account_id: str,
                 uscc: str, enterprise_name: str, county_code: str, unit_code: str) -> None:
        self.campaign_id = campaign_id
        self.campaign_code = campaign_code
        self.enterprise_id = enterprise_id
        self.account_id = account_id
        self.uscc = uscc
        self.enterprise_name = enterprise_name
        self.county_code = county_code
        self.unit_code = unit_code
        self.status = Status.DRAFT
        self.round = 0
        self.sections: dict[str, dict[str, Any]] = {}
        self.scenarios: list[dict[str, Any]] = []
        self.contracts: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.pledge: dict[str, Any] = {}
        self.returns: list[dict[str, Any]] = []
        self.submitted_at: str | None = None
        self.last_submitted_at: str | None = None

    @classmethod
    def start(cls, at: datetime, actor: Actor, campaign: Campaign, enterprise: Enterprise, unit_code: str) -> "Application":
        return cls._begin(
            cls.Started, application_id_for(campaign.id, enterprise.id), at, actor,
            campaign_id=str(campaign.id), campaign_code=campaign.code, enterprise_id=str(enterprise.id),
            account_id=enterprise.account_id, uscc=enterprise.uscc, enterprise_name=enterprise.name,
            county_code=enterprise.county_code, unit_code=unit_code,
        )

    # -- editing
    def _editable(self) -> None:
        if self.status not in EDITABLE:
            raise InvalidState({"status": self.status}, zh="申报已提交或已撤回，不能修改", en="The application can only be edited as a draft or after a return for correction")

    def update_section(self, at: datetime, actor: Actor, section: str, values: dict[str, Any]) -> None:
        self._editable()
        self._happen(self.SectionUpdated, at, actor, section=section, values=values)

    def set_scenarios(self, at: datetime, actor: Actor, scenarios: list[dict[str, Any]]) -> None:
        self._editable()
        self._happen(self.ScenariosSet, at, actor, scenarios=scenarios)

    def save_contract(self, at: datetime, actor: Actor, contract: dict[str, Any]) -> None:
        self._editable()
        self._happen(self.ContractSaved, at, actor, contract=contract)

    def remove_contract(self, at: datetime, actor: Actor, contract_id: str) -> None:
        self._editable()
        if contract_id not in self.contracts:
            raise NotFound({"contract_id": contract_id})
        self._happen(self.ContractRemoved, at, actor, contract_id=contract_id)

    def attach_document(self, at: datetime, actor: Actor, document: dict[str, Any]) -> None:
        self._editable()
        contract_id = document.get("contract_id")
        if contract_id and contract_id not in self.contracts:
            raise InvalidInput.fields({"contract_id": [f"no contract {contract_id} on this application / 无此合同"]})
        self._happen(self.DocumentAttached, at, actor, document=document)

    def remove_document(self, at: datetime, actor: Actor, document_id: str) -> None:
        self._editable()
        if document_id not in self.documents:
            raise NotFound({"document_id": document_id})
        self._happen(self.DocumentRemoved, at, actor, document_id=document_id)

    def give_pledge(self, at: datetime, actor: Actor, truthful: bool, no_bad_record: bool, share_experience: bool) -> None:
        self._editable()
        self._happen(self.PledgeGiven, at, actor, truthful=truthful, no_bad_record=no_bad_record, share_experience=share_experience)

    # -- moving through the process
    def content(self) -> dict[str, Any]:
        """The application as the reviewers and experts see it."""
        return {
            "campaign_code": self.campaign_code,
            "uscc": self.uscc,
            "enterprise_name": self.enterprise_name,
            "county_code": self.county_code,
            "unit_code": self.unit_code,
            "enterprise": dict(self.sections.get("enterprise", {})),
            "cloud": dict(self.sections.get("cloud", {})),
            "scenarios": list(self.scenarios),
            "contracts": sorted(self.contracts.values(), key=lambda c: (c.get("signed_on", ""), c["contract_id"])),
            "documents": sorted(self.documents.values(), key=lambda d: d["document_id"]),
            "pledge": dict(self.pledge),
        }

    def submit(self, at: datetime, actor: Actor, rule_set_version: str) -> None:
        if self.status == Status.DRAFT:
            self._happen(self.Submitted, at, actor, round=1, rule_set_version=rule_set_version, content=self.content())
        elif self.status == Status.RETURNED:
            self._happen(self.Resubmitted, at, actor, round=self.round + 1, rule_set_version=rule_set_version, content=self.content())
        else:
            raise InvalidState({"status": self.status}, zh="当前状态不能提交", en="Cannot submit in this state")

    def withdraw(self, at: datetime, actor: Actor, reason: str) -> None:
        if self.status == Status.WITHDRAWN:
            raise InvalidState({"status": self.status}, zh="申报已撤回", en="Already withdrawn")
        self._happen(self.Withdrawn, at, actor, reason=reason)

    def return_for_correction(self, at: datetime, actor: Actor, round: int, stage: str, reasons: list[str], review_event_id: str) -> bool:
        """Applied when the review service returns the application. A return for an earlier round,
        or one arriving after withdrawal, changes nothing (returns False)."""
        if self.status != Status.SUBMITTED or round != self.round:
            return False
        self._happen(self.ReturnedForCorrection, at, actor, round=round, stage=stage, reasons=reasons, review_event_id=review_event_id)
        return True
