"""The expert review and the selection (the notice: 专家评审、研究、公示、正式公布). Event classes are
public contracts (stored as `module:Class`): never move or rename one.

- `Evaluator`: an expert's or third-party body's declaration of interests, renewed over time.
- `Candidate`: one per recommended application: its assignments, score sheets and award.
- `Draw`: one seeded draw of evaluators, with every input it used.
- `Ranking`: one aggregation of the final sheets into the experts' list, with its inputs.
- `Selection`: one per campaign: the adopted list, its public notice, removals, the announcement.
- `Objection`: one per objection lodged during the notice, and its decision."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from shared.entity import Entity, stable_id
from shared.errors import Forbidden, InvalidInput, InvalidState

Actor = dict[str, str]


class EvaluatorKind(StrEnum):
    EXPERT = "expert"  # 专家
    THIRD_PARTY = "third_party"  # 第三方服务机构


class SheetStatus(StrEnum):
    DRAFT = "draft"
    FINAL = "final"


class Stage(StrEnum):
    """Where a campaign's selection stands."""

    ADOPTED = "adopted"  # 研究: the department adopted the list
    ON_NOTICE = "on_notice"  # 公示
    ANNOUNCED = "announced"  # 正式公布


class Outcome(StrEnum):
    UPHELD = "upheld"  # the enterprise leaves the list
    DISMISSED = "dismissed"


def evaluator_id_for(account_id: str) -> UUID:
    return stable_id("scoring-evaluator", account_id)


def candidate_id_for(application_id: str) -> UUID:
    return stable_id("scoring-candidate", application_id)


def selection_id_for(campaign_code: str) -> UUID:
    return stable_id("scoring-selection", campaign_code)


# ====================================================================== evaluators
class Evaluator(Entity):
    class Declared(Aggregate.Created):
        actor: Actor
        account_id: str
        kind: str
        employers: list[str]
        enterprises: list[str]
        providers: list[str]
        declared_on: str

    class Renewed(Aggregate.Event):
        actor: Actor
        account_id: str
        kind: str
        employers: list[str]
        enterprises: list[str]
        providers: list[str]
        declared_on: str

        def apply(self, evaluator: "Evaluator") -> None:
            evaluator._set(self.kind, self.employers, self.enterprises, self.providers, self.declared_on)

    def __init__(self, actor: Actor, account_id: str, kind: str, employers: list[str], enterprises: list[str],
                 providers: list[str], declared_on: str) -> None:
        self.account_id = account_id
        self._set(kind, employers, enterprises, providers, declared_on)

    def _set(self, kind: str, employers: list[str], enterprises: list[str], providers: list[str], declared_on: str) -> None:
        self.kind, self.employers, self.enterprises, self.providers = kind, employers, enterprises, providers
        self.declared_on = declared_on

    @classmethod
    def declare(cls, at: datetime, actor: Actor, account_id: str, declaration: dict[str, Any], today: date) -> "Evaluator":
        return cls._begin(cls.Declared, evaluator_id_for(account_id), at, actor, account_id=account_id,
                          declared_on=today.isoformat(), **declaration)

    def renew(self, at: datetime, actor: Actor, declaration: dict[str, Any], today: date) -> None:
        self._happen(self.Renewed, at, actor, account_id=self.account_id, declared_on=today.isoformat(), **declaration)


# ====================================================================== candidates
class Candidate(Entity):
    class CandidateEvent(Aggregate.Event):
        """Every candidate event names its application: the correlation id across services."""

        actor: Actor
        application_id: str

    class Opened(Aggregate.Created):
        actor: Actor
        application_id: str
        campaign_code: str
        round: int
        uscc: str
        enterprise_name: str
        county_code: str
        unit_code: str
        provider_id: str
        submitted_at: str | None
        confirmed_contracts: list[dict[str, str]]
        content: dict[str, Any]
        provider_confirmation: dict[str, Any]
        county_checklist: dict[str, Any]
        opinion: str

    class Assigned(CandidateEvent):
        evaluator_ids: list[str]
        draw_id: str

        def apply(self, c: "Candidate") -> None:
            for e in self.evaluator_ids:
                c.assigned[e] = self.draw_id

    class Declined(CandidateEvent):
        """The evaluator declared a conflict with this application; a replacement is drawn."""

        evaluator_id: str
        reason: str

        def apply(self, c: "Candidate") -> None:
            c.assigned.pop(self.evaluator_id, None)
            c.sheets.pop(self.evaluator_id, None)
            c.declined[self.evaluator_id] = self.reason

    class SheetSaved(CandidateEvent):
        """A draft: any criteria so far, each an integer within its maximum, with its justification."""

        evaluator_id: str
        scores: dict[str, int]
        justifications: dict[str, str]

        def apply(self, c: "Candidate") -> None:
            c.sheets[self.evaluator_id] = {"status": SheetStatus.DRAFT, "scores": self.scores,
                                           "justifications": self.justifications, "total": sum(self.scores.values())}

    class SheetFinalised(CandidateEvent):
        evaluator_id: str
        scores: dict[str, int]
        justifications: dict[str, str]
        total: int

        def apply(self, c: "Candidate") -> None:
            c.sheets[self.evaluator_id] = {"status": SheetStatus.FINAL, "scores": self.scores,
                                           "justifications": self.justifications, "total": self.total}

    class SheetReopened(CandidateEvent):
        """The province reopened a final sheet, with a reason: it is a draft again."""

        evaluator_id: str
        reason: str

        def apply(self, c: "Candidate") -> None:
            c.sheets[self.evaluator_id]["status"] = SheetStatus.DRAFT

    class Awarded(CandidateEvent):
        """上云标杆企业: announced by department document. Carries what the subsidy needs: the
        application as confirmed by its provider."""

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
        score: str
        rank: int

        def apply(self, c: "Candidate") -> None:
            c.award = {"document_number": self.document_number, "revoked": None}

    class Withdrawn(CandidateEvent):
        """The enterprise withdrew its recommended application: it leaves the draw, the sheets,
        the ranking and any list not yet announced."""

        reason: str

        def apply(self, c: "Candidate") -> None:
            c.withdrawn = True

    class AwardRevoked(CandidateEvent):
        """A later disqualification took the title away (弄虚作假: 取消上云标杆企业资格)."""

        reason: str
        source: dict[str, Any]

        def apply(self, c: "Candidate") -> None:
            if c.award is not None:
                c.award["revoked"] = self.reason

    def __init__(self, actor: Actor, application_id: str, campaign_code: str, round: int, uscc: str,
                 enterprise_name: str, county_code: str, unit_code: str, provider_id: str, submitted_at: str | None,
                 confirmed_contracts: list[dict[str, str]], content: dict[str, Any],
                 provider_confirmation: dict[str, Any], county_checklist: dict[str, Any], opinion: str) -> None:
        self.application_id, self.campaign_code, self.round = application_id, campaign_code, round
        self.uscc, self.enterprise_name = uscc, enterprise_name
        self.county_code, self.unit_code, self.provider_id = county_code, unit_code, provider_id
        self.submitted_at, self.confirmed_contracts = submitted_at, confirmed_contracts
        self.content, self.provider_confirmation = content, provider_confirmation
        self.county_checklist, self.opinion = county_checklist, opinion
        self.assigned: dict[str, str] = {}  # evaluator id -> the draw that assigned it
        self.declined: dict[str, str] = {}  # evaluator id -> reason
        self.sheets: dict[str, dict[str, Any]] = {}
        self.award: dict[str, Any] | None = None
        self.withdrawn = False

    @classmethod
    def open(cls, at: datetime, actor: Actor, **recommended: Any) -> "Candidate":
        return cls._begin(cls.Opened, candidate_id_for(recommended["application_id"]), at, actor, **recommended)

    # -- state read by the service layer
    def provider_ids(self) -> frozenset[str]:
        return frozenset({self.provider_id, *(c["provider_id"] for c in self.confirmed_contracts)} - {""})

    def final_sheets(self) -> dict[str, dict[str, Any]]:
        return {e: s for e, s in self.sheets.items() if s["status"] == SheetStatus.FINAL and e in self.assigned}

    def fully_scored(self, per_application: int) -> bool:
        return not self.withdrawn and len(self.assigned) >= per_application and len(self.final_sheets()) == len(self.assigned)

    # -- commands
    def assign(self, at: datetime, actor: Actor, evaluator_ids: list[str], draw_id: str) -> None:
        fresh = [e for e in evaluator_ids if e not in self.assigned]
        if fresh:
            self._happen(self.Assigned, at, actor, application_id=self.application_id, evaluator_ids=fresh, draw_id=draw_id)

    def _assigned_to(self, evaluator_id: str) -> None:
        if evaluator_id not in self.assigned:
            raise Forbidden(zh="未分配给您评审", en="This application is not assigned to you")

    def _still_scored(self) -> None:
        if self.withdrawn:
            raise InvalidState({"withdrawn": True}, zh="企业已撤回申报", en="The enterprise withdrew the application")
        if self.award is not None:
            raise InvalidState({"award": self.award}, zh="名单已正式公布，评分不能再改", en="The list was announced: scores are closed")

    def decline(self, at: datetime, actor: Actor, evaluator_id: str, reason: str) -> None:
        self._assigned_to(evaluator_id)
        if self.sheets.get(evaluator_id, {}).get("status") == SheetStatus.FINAL:
            raise InvalidState({"sheet": "final"}, zh="评分已提交，不能再回避", en="Your sheet is final: you can no longer decline")
        self._still_scored()
        self._happen(self.Declined, at, actor, application_id=self.application_id, evaluator_id=evaluator_id, reason=reason)

    def save_sheet(self, at: datetime, actor: Actor, evaluator_id: str, rubric: dict[str, int],
                   scores: dict[str, int], justifications: dict[str, str], final: bool) -> dict[str, Any]:
        self._assigned_to(evaluator_id)
        self._still_scored()
        if self.sheets.get(evaluator_id, {}).get("status") == SheetStatus.FINAL:
            raise InvalidState({"sheet": "final"}, zh="评分已提交；如需修改须由省厅退回",
                               en="The sheet is final; only the province can reopen it")
        problems: dict[str, list[str]] = {}
        for code, value in scores.items():
            if code not in rubric:
                problems.setdefault(f"scores.{code}", []).append("not a criterion of the campaign's rubric / 非评分细则项目")
            elif not 0 <= value <= rubric[code]:
                problems.setdefault(f"scores.{code}", []).append(f"between 0 and {rubric[code]} / 分值须在0至{rubric[code]}之间")
        for code in justifications:
            if code not in rubric:
                problems.setdefault(f"justifications.{code}", []).append("not a criterion of the campaign's rubric / 非评分细则项目")
        if final:
            for code in rubric:
                if code not in scores:
                    problems.setdefault(f"scores.{code}", []).append("a final sheet scores every criterion / 提交时须逐项打分")
                if not justifications.get(code, "").strip():
                    problems.setdefault(f"justifications.{code}", []).append("a final sheet justifies every criterion / 提交时须逐项说明理由")
        if problems:
            raise InvalidInput.fields(problems)
        if final:
            self._happen(self.SheetFinalised, at, actor, application_id=self.application_id, evaluator_id=evaluator_id,
                         scores=scores, justifications=justifications, total=sum(scores.values()))
        else:
            self._happen(self.SheetSaved, at, actor, application_id=self.application_id, evaluator_id=evaluator_id,
                         scores=scores, justifications=justifications)
        return self.sheets[evaluator_id]

    def reopen_sheet(self, at: datetime, actor: Actor, evaluator_id: str, reason: str) -> None:
        self._still_scored()
        if self.sheets.get(evaluator_id, {}).get("status") != SheetStatus.FINAL:
            raise InvalidState({"sheet": self.sheets.get(evaluator_id, {}).get("status")},
                               zh="只能退回已提交的评分", en="Only a final sheet can be reopened")
        self._happen(self.SheetReopened, at, actor, application_id=self.application_id, evaluator_id=evaluator_id,
                     reason=reason)

    def grant(self, at: datetime, actor: Actor, document_number: str, score: str, rank: int) -> None:
        self._happen(self.Awarded, at, actor, application_id=self.application_id, campaign_code=self.campaign_code,
                     document_number=document_number, uscc=self.uscc, enterprise_name=self.enterprise_name,
                     county_code=self.county_code, unit_code=self.unit_code, provider_id=self.provider_id,
                     confirmed_contracts=self.confirmed_contracts, content=self.content,
                     provider_confirmation=self.provider_confirmation, county_checklist=self.county_checklist,
                     city_opinion=self.opinion, score=score, rank=rank)

    def withdraw(self, at: datetime, actor: Actor, reason: str) -> bool:
        """An award stands (only a disqualification revokes it); anything earlier ends here."""
        if self.withdrawn or self.award is not None:
            return False
        self._happen(self.Withdrawn, at, actor, application_id=self.application_id, reason=reason)
        return True

    def revoke(self, at: datetime, actor: Actor, reason: str, source: dict[str, Any]) -> bool:
        if self.award is None or self.award["revoked"] is not None:
            return False
        self._happen(self.AwardRevoked, at, actor, application_id=self.application_id, reason=reason, source=source)
        return True


# ====================================================================== draws and rankings
class Draw(Entity):
    class Made(Aggregate.Created):
        """One draw with everything it used: `rules.draw(seed, applications, evaluators, loads_before,
        needed, excluded)` on these values gives `assignments` again."""

        actor: Actor
        campaign_code: str
        unit_code: str | None
        rule: str
        seed: str
        applications: list[str]
        evaluators: list[str]
        loads_before: dict[str, int]
        needed: dict[str, int]
        excluded: dict[str, dict[str, list[str]]]  # application -> evaluator -> why
        assignments: dict[str, list[str]]
        shortfalls: dict[str, int]
        replacing: dict[str, str] | None  # {application_id, evaluator_id} when drawn for a decline

    def __init__(self, actor: Actor, campaign_code: str, unit_code: str | None, rule: str, seed: str,
                 applications: list[str], evaluators: list[str], loads_before: dict[str, int],
                 needed: dict[str, int],
                 excluded: dict[str, dict[str, list[str]]], assignments: dict[str, list[str]],
                 shortfalls: dict[str, int], replacing: dict[str, str] | None) -> None:
        self.campaign_code, self.seed, self.assignments = campaign_code, seed, assignments

    @classmethod
    def make(cls, at: datetime, actor: Actor, id: UUID, **made: Any) -> "Draw":
        return cls._begin(cls.Made, id, at, actor, **made)


class Ranking(Entity):
    class Made(Aggregate.Created):
        """The experts' ranking: `rules.rank(inputs, settings)` on these values gives `rows` again.
        `cut_at` is the service's log position the inputs were read at."""

        actor: Actor
        campaign_code: str
        rule: str
        settings: dict[str, Any]
        inputs: list[dict[str, Any]]
        rows: list[dict[str, Any]]
        cut_at: int

    def __init__(self, actor: Actor, campaign_code: str, rule: str, settings: dict[str, Any],
                 inputs: list[dict[str, Any]], rows: list[dict[str, Any]], cut_at: int) -> None:
        self.campaign_code, self.inputs, self.rows, self.cut_at = campaign_code, inputs, rows, cut_at

    def versions(self) -> dict[str, int]:
        """The version of each candidate the ranking read: a later version means its sheets changed."""
        return {i["application_id"]: i["version"] for i in self.inputs}

    def row(self, application_id: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["application_id"] == application_id), None)

    @classmethod
    def make(cls, at: datetime, actor: Actor, id: UUID, **made: Any) -> "Ranking":
        return cls._begin(cls.Made, id, at, actor, **made)


# ====================================================================== the selection
class Selection(Entity):
    class Started(Aggregate.Created):
        actor: Actor
        campaign_code: str

    class Adopted(Aggregate.Event):
        """研究: the department adopted the experts' list, adding or removing entries only with a reason."""

        actor: Actor
        ranking_id: str
        entries: list[str]
        added: list[dict[str, str]]
        removed: list[dict[str, str]]

        def apply(self, s: "Selection") -> None:
            s.ranking_id, s.entries, s.stage = self.ranking_id, list(self.entries), Stage.ADOPTED

    class NoticePublished(Aggregate.Event):
        """公示: published on the department's portal; objections are taken until `closes_at`."""

        actor: Actor
        entries: list[str]
        opens_at: str
        closes_at: str

        def apply(self, s: "Selection") -> None:
            s.stage, s.opens_at, s.closes_at = Stage.ON_NOTICE, self.opens_at, self.closes_at

    class EntryRemoved(Aggregate.Event):
        """An upheld objection (`objection_id`), or the enterprise's withdrawal (`objection_id` ""),
        took an enterprise off the list."""

        actor: Actor
        application_id: str
        objection_id: str
        reason: str

        def apply(self, s: "Selection") -> None:
            s.entries.remove(self.application_id)

    class Announced(Aggregate.Event):
        """正式公布, by department document."""

        actor: Actor
        document_number: str
        entries: list[str]

        def apply(self, s: "Selection") -> None:
            s.stage, s.document_number = Stage.ANNOUNCED, self.document_number

    def __init__(self, actor: Actor, campaign_code: str) -> None:
        self.campaign_code = campaign_code
        self.stage: str | None = None
        self.ranking_id = ""
        self.entries: list[str] = []
        self.opens_at: str | None = None
        self.closes_at: str | None = None
        self.document_number: str | None = None

    @classmethod
    def start(cls, at: datetime, actor: Actor, campaign_code: str) -> "Selection":
        return cls._begin(cls.Started, selection_id_for(campaign_code), at, actor, campaign_code=campaign_code)

    def _at(self, *stages: str | None) -> None:
        if self.stage not in stages:
            raise InvalidState({"stage": self.stage, "expected": [s for s in stages]},
                               zh="名单当前阶段不允许此操作", en=f"Not possible while the list is {self.stage or 'not adopted'}")

    def adopt(self, at: datetime, actor: Actor, ranking_id: str, entries: list[str], added: list[dict[str, str]],
              removed: list[dict[str, str]]) -> None:
        self._at(None, Stage.ADOPTED)
        self._happen(self.Adopted, at, actor, ranking_id=ranking_id, entries=entries, added=added, removed=removed)

    def publish_notice(self, at: datetime, actor: Actor, closes_at: datetime) -> None:
        self._at(Stage.ADOPTED)
        if not self.entries:
            raise InvalidState({"entries": 0}, zh="名单为空，不能公示", en="The list is empty")
        self._happen(self.NoticePublished, at, actor, entries=list(self.entries), opens_at=at.isoformat(),
                     closes_at=closes_at.isoformat())

    def notice_open(self, now: datetime) -> bool:
        return self.stage == Stage.ON_NOTICE and self.closes_at is not None and now < datetime.fromisoformat(self.closes_at)

    def remove_entry(self, at: datetime, actor: Actor, application_id: str, objection_id: str, reason: str) -> None:
        self._at(Stage.ADOPTED, Stage.ON_NOTICE)
        if application_id in self.entries:
            self._happen(self.EntryRemoved, at, actor, application_id=application_id, objection_id=objection_id,
                         reason=reason)

    def scores_locked(self) -> bool:
        """From the public notice on, the scores behind the list stand as published."""
        return self.stage in (Stage.ON_NOTICE, Stage.ANNOUNCED)

    def announce(self, at: datetime, actor: Actor, document_number: str, undecided: int) -> None:
        self._at(Stage.ON_NOTICE)
        if not self.entries:
            raise InvalidState({"entries": 0}, zh="名单为空，不能公布", en="The list is empty: nothing to announce")
        if self.notice_open(at):
            raise InvalidState({"closes_at": self.closes_at}, zh="公示期未满", en="The public notice has not closed yet")
        if undecided:
            raise InvalidState({"undecided_objections": undecided}, zh="尚有异议未处理",
                               en="Every objection must be decided first")
        self._happen(self.Announced, at, actor, document_number=document_number, entries=list(self.entries))


# ====================================================================== objections
class Objection(Entity):
    class Lodged(Aggregate.Created):
        """Anyone may object while the notice is open. `name` and `contact` are for the province only:
        the public event does not carry them (nor the grounds' text, which may name people)."""

        actor: Actor
        campaign_code: str
        application_id: str
        name: str
        contact: str
        grounds: str
        attachments: list[dict[str, Any]]  # {filename, content_type, size, sha256, content_base64}

    class Decided(Aggregate.Event):
        actor: Actor
        application_id: str
        outcome: str
        reasons: list[str]

        def apply(self, o: "Objection") -> None:
            o.outcome, o.reasons = self.outcome, self.reasons

    def __init__(self, actor: Actor, campaign_code: str, application_id: str, name: str, contact: str, grounds: str,
                 attachments: list[dict[str, Any]]) -> None:
        self.campaign_code, self.application_id = campaign_code, application_id
        self.name, self.contact, self.grounds, self.attachments = name, contact, grounds, attachments
        self.outcome: str | None = None
        self.reasons: list[str] = []

    @classmethod
    def lodge(cls, at: datetime, actor: Actor, id: UUID, **lodged: Any) -> "Objection":
        return cls._begin(cls.Lodged, id, at, actor, **lodged)

    def decide(self, at: datetime, actor: Actor, outcome: str, reasons: list[str]) -> None:
        if self.outcome is not None:
            raise InvalidState({"outcome": self.outcome}, zh="异议已处理", en="The objection was already decided")
        self._happen(self.Decided, at, actor, application_id=self.application_id, outcome=outcome, reasons=reasons)
