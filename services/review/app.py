"""The review service's commands and queries. It learns everything from the application service's
events (campaign settings, the supply pool, submissions) and never reads another service's store."""
from __future__ import annotations

from typing import Any

from eventsourcing.persistence import IntegrityError
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from shared.clock import local_date
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.follower import NOTHING, Outcome
from shared.identity import SEES_ALL_APPLICATIONS as SEES_EVERYTHING
from shared.identity import SYSTEM as SYSTEM_PRINCIPAL
from shared.identity import Principal, Role
from shared.store import ServiceStore

from services.review import projections as rm
from services.review.events import contract
from services.review.domain import CITY, COUNTY, PROVIDER, CityRanking, Deadlines, ReviewCase, Status, case_id_for, ranking_id_for

SYSTEM = SYSTEM_PRINCIPAL.actor()  # the review service acting on its own (opening, overdue, lapse)


class ReviewService(ServiceStore):
    name = "review"
    read_models = rm.metadata

    # ------------------------------------------------------------------ plumbing
    def _case(self, application_id: str) -> ReviewCase:
        return self.get_existing(case_id_for(str(application_id)))

    def _save(self, case: ReviewCase, stage: str | None = None, decision: str | None = None,
              actor: dict[str, str] | None = None) -> Outcome:
        def project(session: Session, _recordings: Any) -> None:
            rm.project_case(session, case)
            if stage and decision and actor:
                rm.record_action(session, case, stage, decision, actor)

        return Outcome([case], project)

    def _commit(self, outcome: Outcome, result: dict[str, Any]) -> dict[str, Any]:
        try:
            position = self.record(*outcome.aggregates, project=outcome.project)
        except IntegrityError:
            raise Conflict({"reason": "changed concurrently"}, zh="该申报刚被他人处理，请刷新后重试",
                           en="Someone else acted on this case just now; reload and try again") from None
        return {**result, "position": position}

    # ------------------------------------------------------------------ following the application service
    def on_application_event(self, envelope: dict[str, Any]) -> Outcome:
        kind, data = envelope["type"], envelope["data"]
        if kind == "application.campaign_opened":
            return Outcome((), lambda s, _r: rm.save_campaign(s, data["code"], data["settings"]))
        if kind in ("application.provider_added_to_pool", "application.provider_removed_from_pool"):
            added = kind.endswith("added_to_pool")
            return Outcome((), lambda s, _r: rm.set_pool_member(s, data["provider_id"], added))
        if kind not in ("application.submitted", "application.resubmitted", "application.withdrawn"):
            return NOTHING
        application_id, now = envelope["application_id"], self.clock.now()
        existing = self.find(case_id_for(application_id))
        if kind == "application.withdrawn":
            return self._save(existing) if existing and existing.withdraw(now, SYSTEM, data.get("reason", "")) else NOTHING
        if existing is not None:
            return self._save(existing) if existing.restart(now, SYSTEM, data["round"], data["content"]) else NOTHING
        with self.reading() as session:
            settings = rm.campaign_settings(session, data["content"]["campaign_code"])
        if settings is None:
            raise LookupError(f"campaign {data['content']['campaign_code']} not known yet")  # retried, then parked
        case = ReviewCase.open(now, SYSTEM, application_id, data["content"]["campaign_code"], data["round"],
                               data["content"], Deadlines.from_settings(settings))
        return self._save(case)

    # ------------------------------------------------------------------ jurisdiction
    def _may_act(self, principal: Principal, case: ReviewCase, stage: str) -> bool:
        if stage == PROVIDER:
            return principal.role is Role.PROVIDER and principal.provider_id == case.provider_id
        if stage == COUNTY:
            if principal.role is Role.COUNTY:
                return principal.division_code == case.county_code
            # 定州 and 辛集: the one bureau records the county step too, as its own step.
            return principal.role is Role.CITY and principal.division_code == case.unit_code == case.county_code
        return principal.role is Role.CITY and principal.division_code == case.unit_code

    def _may_see(self, principal: Principal, case: ReviewCase) -> bool:
        return principal.role in SEES_EVERYTHING or any(self._may_act(principal, case, s) for s in (PROVIDER, COUNTY, CITY))

    def _case_to_act_on(self, principal: Principal, application_id: str, stage: str) -> ReviewCase:
        if principal.role not in (Role.PROVIDER, Role.COUNTY, Role.CITY):
            raise Forbidden({"required_roles": ["provider", "county", "city"]})
        case = self._case(application_id)
        if not self._may_see(principal, case):
            raise NotFound()  # outside the caller's jurisdiction it does not exist
        if not self._may_act(principal, case, stage):
            raise Forbidden({"stage": stage}, zh="无权在此环节审核", en=f"You may not act at the {stage} step")
        return case

    # ------------------------------------------------------------------ reviewers' commands
    def provider_answer(self, principal: Principal, application_id: str, data: dict[str, Any]) -> dict[str, Any]:
        case = self._case_to_act_on(principal, application_id, PROVIDER)
        with self.reading() as session:
            if not rm.in_pool(session, case.provider_id):
                raise Forbidden({"provider_id": case.provider_id}, zh="服务商不在供给资源池中，不能确认",
                                en="The provider is not in the supply pool and cannot confirm")
        case.provider_answer(self.clock.now(), principal.actor(), data["items"], data["decision"], data["reasons"],
                             data["remarks"])
        return self._commit(self._save(case, PROVIDER, self._decision(case), principal.actor()), self._state(case))

    def county_review(self, principal: Principal, application_id: str, data: dict[str, Any]) -> dict[str, Any]:
        case = self._case_to_act_on(principal, application_id, COUNTY)
        case.county_review(self.clock.now(), principal.actor(), data["checklist"], data["complete"], data["decision"],
                           data["reasons"], data["remarks"])
        return self._commit(self._save(case, COUNTY, data["decision"], principal.actor()), self._state(case))

    def city_review(self, principal: Principal, application_id: str, data: dict[str, Any]) -> dict[str, Any]:
        case = self._case_to_act_on(principal, application_id, CITY)
        case.city_review(self.clock.now(), principal.actor(), data["decision"], data["opinion"], data["reasons"])
        return self._commit(self._save(case, CITY, data["decision"], principal.actor()), self._state(case))

    @staticmethod
    def _decision(case: ReviewCase) -> str:
        return {Status.OPEN: "confirm", Status.RETURNED: "dispute", Status.REJECTED: "reject"}[case.status]

    @staticmethod
    def _state(case: ReviewCase) -> dict[str, Any]:
        return {"application_id": case.application_id, "round": case.round, "stage": case.stage, "status": case.status}

    def rank(self, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
        if principal.role is not Role.CITY:
            raise Forbidden({"required_roles": ["city"]})
        unit, campaign = principal.division_code or "", data["campaign_code"]
        with self.reading() as session:
            recommended = {r[0] for r in session.execute(select(rm.cases.c.application_id).where(and_(
                rm.cases.c.unit_code == unit, rm.cases.c.campaign_code == campaign,
                rm.cases.c.status == Status.RECOMMENDED)))}
        given = set(data["application_ids"])
        if given != recommended:
            raise InvalidInput.fields({"application_ids": [
                f"rank exactly this city's recommended applications: missing {sorted(recommended - given)}, "
                f"not recommended here {sorted(given - recommended)} / 须且仅须包含本市推荐的全部申报"]})
        ranking = self.find(ranking_id_for(campaign, unit))
        now = self.clock.now()
        if ranking is None:
            ranking = CityRanking._begin(CityRanking.Set, ranking_id_for(campaign, unit), now, principal.actor(),
                                         campaign_code=campaign, unit_code=unit, application_ids=data["application_ids"])
        else:
            ranking._happen(CityRanking.Changed, now, principal.actor(), application_ids=data["application_ids"])
        return self._commit(Outcome([ranking]), {"campaign_code": campaign, "unit_code": unit,
                                                 "application_ids": data["application_ids"]})

    # ------------------------------------------------------------------ the clock
    def check_deadlines(self) -> int:
        """Flag overdue stages and lapse unfinished cases at the system close, from the injected
        clock over stored state: survives restarts, and every change is an event."""
        now = self.clock.now()
        with self.reading() as session:
            ids = rm.cases_due(session, local_date(now).isoformat())
        changed = 0
        for case_id in ids:
            case = self.find(case_id)
            while case is not None and case.due_changes(now, SYSTEM):
                pass
            if case is not None and case.pending_events:
                try:
                    outcome = self._save(case)
                    self.record(*outcome.aggregates, project=outcome.project)
                    changed += 1
                except IntegrityError:
                    continue  # another replica or a reviewer changed it: the next scan looks again
        return changed

    # ------------------------------------------------------------------ queries
    def get_case(self, principal: Principal, application_id: str) -> dict[str, Any]:
        case = self._case(application_id)
        if not self._may_see(principal, case):
            raise NotFound()
        return {"application_id": case.application_id, "campaign_code": case.campaign_code, "round": case.round,
                "stage": case.stage, "status": case.status, "county_code": case.county_code, "unit_code": case.unit_code,
                "provider_id": case.provider_id, "deadlines": case.deadlines, "overdue_stages": case.overdue_stages,
                "step_results": case.step_results, "returns": case.returns, "content": case.content,
                "version": case.version}

    def case_history(self, principal: Principal, application_id: str) -> list[dict[str, Any]]:
        case = self._case(application_id)
        if not self._may_see(principal, case):
            raise NotFound()
        return contract.history(self.events.get(case.id))

    def worklist(self, principal: Principal, query: dict[str, Any]) -> dict[str, Any]:
        c = rm.cases
        if principal.role is Role.PROVIDER:
            stage, where = PROVIDER, c.c.provider_id == principal.provider_id
        elif principal.role is Role.COUNTY:
            stage, where = COUNTY, c.c.county_code == principal.division_code
        elif principal.role is Role.CITY:
            stage, where = CITY, c.c.unit_code == principal.division_code
        elif principal.role in SEES_EVERYTHING:
            stage, where = None, c.c.case_id.isnot(None)
        else:
            raise Forbidden()
        if query.get("campaign_code"):
            where = and_(where, c.c.campaign_code == query["campaign_code"])
        view = query["view"]
        if view == "done":
            where = and_(where, rm.acted_at(stage)) if stage else and_(where, c.c.status.in_(
                [Status.RECOMMENDED, Status.DECLINED, Status.REJECTED, Status.WITHDRAWN, Status.LAPSED]))
        else:
            pending = and_(c.c.status == Status.OPEN, c.c.stage == stage) if stage else c.c.status == Status.OPEN
            if principal.role is Role.CITY and stage == CITY:
                # 定州/辛集: their bureau also holds the county step of their own cases.
                pending = and_(c.c.status == Status.OPEN, (c.c.stage == CITY) | (and_(c.c.stage == COUNTY, c.c.county_code == c.c.unit_code)))
            where = and_(where, pending, c.c.overdue == 1) if view == "overdue" else and_(where, pending)
        with self.reading() as session:
            return rm.page(session, where, query["page"], query["page_size"])

    def progress(self, principal: Principal, campaign_code: str | None) -> dict[str, Any]:
        if principal.role not in SEES_EVERYTHING:
            raise Forbidden()
        with self.reading() as session:
            rows = rm.progress(session, campaign_code)
        return {"rows": rows, "overdue_total": sum(r["overdue"] for r in rows), "cases_total": sum(r["cases"] for r in rows)}
