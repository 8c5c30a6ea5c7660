"""The audit service's own records (the notice: 省工业和信息化厅将组织专家、第三方服务机构对上云标杆企业上云情况进行
抽查，如发现弄虚作假等情况，将取消上云标杆企业资格，三年内不得申报企业信息化相关项目，取消云平台服务商河北省企业上云供给资源池
服务提供商资格). Event classes are public contracts (stored as `module:Class`): never move or rename one.

- a ledger checkpoint: the Merkle root over the first n entries of the ledger, published so that
  others hold it;
- a spot check (抽查): a reproducible draw of benchmark enterprises, then inspectors' findings;
- a fraud decision (弄虚作假) by the province, on a spot check's finding or on any other ground, with
  its consequences as events: the ban and the provider's disqualification here; the revoked title
  (scoring) and the reclaimed subsidy (subsidy) follow from `audit.fraud_found`."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from shared.entity import Entity, stable_id
from shared.errors import Conflict, Forbidden, InvalidInput

Actor = dict[str, str]


def checkpoint_id(tree_size: int) -> UUID:
    return stable_id("ledger-checkpoint", str(tree_size))


class Checkpoint(Entity):
    class Recorded(Aggregate.Created):
        """The root of the ledger's first `tree_size` entries (RFC 6962) and the chain value of the
        last of them."""

        actor: Actor
        tree_size: int
        root: str
        chain_head: str

    def __init__(self, actor: Actor, tree_size: int, root: str, chain_head: str) -> None:
        self.tree_size, self.root, self.chain_head = tree_size, root, chain_head

    @classmethod
    def record(cls, at: datetime, actor: Actor, tree_size: int, root: str, chain_head: str) -> "Checkpoint":
        return cls._begin(cls.Recorded, checkpoint_id(tree_size), at, actor, tree_size=tree_size, root=root,
                          chain_head=chain_head)


# ====================================================================== spot checks
FINDING_OUTCOMES = ("no_issue", "discrepancy", "fraud_suspected")


class SpotCheck(Entity):
    class Drawn(Aggregate.Created):
        """`rules.draw_sample(seed, population, size, stratify_by_city)` on these values gives `sample`
        again. `population`: every benchmark enterprise whose title stood, [{application_id, unit_code}]."""

        actor: Actor
        campaign_code: str
        rule: str
        seed: str
        population: list[dict[str, str]]
        size: int
        share: str | None
        stratify_by_city: bool
        allocation: dict[str, int]
        sample: list[dict[str, str]]
        inspectors: list[str]

    class FindingRecorded(Aggregate.Event):
        actor: Actor
        application_id: str
        finding_id: str
        outcome: str
        summary: str
        evidence: list[dict[str, Any]]  # [{document_id, filename, content_type, sha256, size}]

        def apply(self, check: "SpotCheck") -> None:
            check.findings.append({"finding_id": self.finding_id, "application_id": self.application_id,
                                   "outcome": self.outcome, "summary": self.summary, "evidence": self.evidence,
                                   "by": self.actor, "at": self.timestamp.isoformat()})

    def __init__(self, actor: Actor, campaign_code: str, rule: str, seed: str, population: list[dict[str, str]],
                 size: int, share: str | None, stratify_by_city: bool, allocation: dict[str, int],
                 sample: list[dict[str, str]], inspectors: list[str]) -> None:
        self.campaign_code, self.rule, self.seed, self.population = campaign_code, rule, seed, population
        self.size, self.share, self.stratify_by_city, self.allocation = size, share, stratify_by_city, allocation
        self.sample, self.inspectors = sample, inspectors
        self.drawn_by = actor
        self.findings: list[dict[str, Any]] = []

    @property
    def drawn_at(self) -> str:
        return self.created_on.isoformat()

    @classmethod
    def draw(cls, id: UUID, at: datetime, actor: Actor, **drawn: Any) -> "SpotCheck":
        return cls._begin(cls.Drawn, id, at, actor, **drawn)

    def sampled(self, application_id: str) -> bool:
        return any(s["application_id"] == application_id for s in self.sample)

    def record_finding(self, at: datetime, actor: Actor, application_id: str, finding_id: str, outcome: str,
                       summary: str, evidence: list[dict[str, Any]]) -> None:
        if not self.sampled(application_id):
            raise InvalidInput.fields({"application_id": ["not in this spot check's sample / 不在本次抽查样本中"]})
        if actor["role"] == "expert" and actor["id"] not in self.inspectors:
            raise Forbidden({"reason": "not_an_inspector_of_this_check"}, zh="您不是本次抽查的检查人员",
                            en="You are not an inspector of this spot check")
        self._happen(self.FindingRecorded, at, actor, application_id=application_id, finding_id=finding_id,
                     outcome=outcome, summary=summary, evidence=evidence)

    def view(self) -> dict[str, Any]:
        return {"spot_check_id": str(self.id), "campaign_code": self.campaign_code, "rule": self.rule,
                "seed": self.seed, "population_size": len(self.population), "size": self.size, "share": self.share,
                "stratify_by_city": self.stratify_by_city, "allocation": self.allocation, "sample": self.sample,
                "inspectors": self.inspectors, "drawn_by": self.drawn_by, "drawn_at": self.drawn_at,
                "findings": self.findings}


# ====================================================================== fraud decisions
class FraudDecision(Entity):
    """The province's decision on a suspicion of fraud. `subject` is `enterprise` (the application's
    claims were false: its provider confirmed them) or `provider` (a provider's own false confirmations)."""

    class DecisionEvent(Aggregate.Created):
        actor: Actor
        outcome: str  # fraud | no_fraud
        application_id: str | None
        subject: str
        uscc: str | None
        enterprise_name: str | None
        campaign_code: str | None
        provider_id: str | None
        reasons: list[str]
        grounds: dict[str, str]  # {kind: spot_check|county|objection|report, reference}
        findings: list[str]

    class FraudFound(DecisionEvent):
        """弄虚作假: consequences follow (see the events after it and docs/audit.md)."""

    class FraudCleared(DecisionEvent):
        """No fraud: the suspicion is closed with reasons."""

    class EnterpriseBanned(Aggregate.Event):
        """三年内不得申报企业信息化相关项目: from `starts_on` to `ends_on`, both included."""

        actor: Actor
        application_id: str | None
        uscc: str
        enterprise_name: str
        reason: str
        starts_on: str  # ISO dates
        ends_on: str
        ban_years: int

        def apply(self, decision: "FraudDecision") -> None:
            decision.consequences["ban"] = {"starts_on": self.starts_on, "ends_on": self.ends_on}

    class ProviderDisqualified(Aggregate.Event):
        """取消云平台服务商河北省企业上云供给资源池服务提供商资格."""

        actor: Actor
        application_id: str | None
        provider_id: str
        reason: str

        def apply(self, decision: "FraudDecision") -> None:
            decision.consequences["provider_disqualified"] = self.provider_id

    def __init__(self, actor: Actor, outcome: str, application_id: str | None, subject: str, uscc: str | None,
                 enterprise_name: str | None, campaign_code: str | None, provider_id: str | None,
                 reasons: list[str], grounds: dict[str, str], findings: list[str]) -> None:
        self.outcome = outcome
        self.application_id, self.subject, self.uscc, self.enterprise_name = application_id, subject, uscc, enterprise_name
        self.campaign_code, self.provider_id, self.reasons, self.grounds = campaign_code, provider_id, reasons, grounds
        self.findings, self.decided_by = findings, actor
        self.consequences: dict[str, Any] = {}

    @property
    def decided_at(self) -> str:
        return self.created_on.isoformat()

    @classmethod
    def decide(cls, id: UUID, at: datetime, actor: Actor, fraud: bool, ban: tuple[date, date, int] | None,
               **decided: Any) -> "FraudDecision":
        decision = cls._begin(cls.FraudFound if fraud else cls.FraudCleared, id, at, actor,
                              outcome="fraud" if fraud else "no_fraud", **decided)
        if fraud:
            reason = "；".join(decided["reasons"])
            if ban is not None:
                starts, ends, years = ban
                decision._happen(cls.EnterpriseBanned, at, actor, application_id=decided["application_id"],
                                 uscc=decided["uscc"], enterprise_name=decided["enterprise_name"], reason=reason,
                                 starts_on=starts.isoformat(), ends_on=ends.isoformat(), ban_years=years)
            if decided["provider_id"]:
                decision._happen(cls.ProviderDisqualified, at, actor, application_id=decided["application_id"],
                                 provider_id=decided["provider_id"], reason=reason)
        return decision

    def view(self) -> dict[str, Any]:
        return {"decision_id": str(self.id), "outcome": self.outcome, "subject": self.subject,
                "application_id": self.application_id, "uscc": self.uscc, "enterprise_name": self.enterprise_name,
                "campaign_code": self.campaign_code, "provider_id": self.provider_id, "reasons": self.reasons,
                "grounds": self.grounds, "findings": self.findings, "decided_by": self.decided_by,
                "decided_at": self.decided_at, "consequences": self.consequences}


def already_decided() -> Conflict:
    return Conflict({"reason": "fraud_already_found"}, zh="已认定弄虚作假，不能再作认定",
                    en="Fraud has already been found here; no further decision is taken")
