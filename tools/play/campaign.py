"""The campaign driver: plays a whole campaign (the 2018 notice by default) through the RUNNING
services over RPC, stage by stage, on the notice's own dates (it sets the services' clock file).

Use (the process must be eventlet-patched first, as for any nameko standalone client):

    import eventlet; eventlet.monkey_patch()
    from tools.play.campaign import Campaign, clock_file
    from tools.play.portal import Portal

    portal = Portal(amqp_uri)                      # retries transient failures; portal.stats counts what it saw
    c = Campaign(portal, clock=clock_file(".data/clock"), enterprises=60, seed="2018",
                 province_password="Change-me-2018")   # the bootstrap password; changed at first sign-in
    c.open_campaign(progress)        # the campaign, the supply pool, every reviewer/expert/finance/audit account
    c.register_and_apply(progress)   # register, sign in, start, fill, submit (the ineligible are refused, rule named)
    c.provider_confirm(progress)     # 服务商确认
    c.county_review(progress)        # 县级审核: passes, returns for correction (resubmitted), late ones overdue
    c.city_review(progress)          # 市级审核推荐: recommends, declines; unreviewed cases lapse at the system close
    c.expert_review(progress)        # declarations, the seeded draw (conflicts avoided), score sheets, ranking, 研究
    c.decide_and_announce(progress)  # 公示, objections (one upheld, one dismissed), 正式公布
    c.subsidy(progress)              # dossier, filing details, stamps, filing, calculation, approval, payment
    c.audit(progress)                # 抽查, a finding of fraud, the decision and its four consequences, a recovery
    c.summary()                      # the announced list, the roster, the ledger head, the replayed application
    c.verify_ledger()                # verify_ledger and reconcile, once the audit service has followed everything
    # or: c.run(lambda stage: progress)  every stage in order (STAGES)

`progress(done, total)` is called as each item of a stage finishes (`total` may change within a
stage, e.g. the second round of returned applications). Each stage answers a dict of what it did,
and everything is also kept on the Campaign (`c.people`: the planned enterprises with their
application ids and what happened; `c.failures`: (stage, subject, error) of items that failed
without stopping the stage). Every command carries an idempotency key made of the seed, the step
and the subject (and the review round: a second round's step is another call), so a retry of one
that acted answers its first answer; creating what exists already (a registration, the campaign, a
pool member) is taken as done, and issued accounts whose first answer was lost get their password
reset (the driver itself is not resumable mid-stage: replay a campaign on a fresh system).
A refusal that only says another service has not followed yet (`not_found`, `invalid_state` before
a case reaches a step) is tried again for up to `wait_seconds`: those polls are counted in
`portal.stats.typed_errors` like any refusal the portal saw. `concurrency` green threads run each
stage's items; nothing but one small record per enterprise is held.

Everything is decided by the seed (tools/play/plan.py): which enterprises fail which rule, their
unit, county, industry, categories and provider, the experts' scores, which sheet is the fraud."""
from __future__ import annotations

import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import eventlet
from eventlet.greenpool import GreenPool

from shared.errors import Conflict, InvalidState, NotFound
from tools.play import forms, plan as planning
from tools.play.plan import DECLINED, LAPSED, LATE, OBJECTED, RETURNED, Enterprise
from tools.play.portal import Account, Portal, idempotency_key

Progress = Callable[[int, int], None]
T = TypeVar("T")

# The dates the notice sets (campaigns/2018.json), as the instants each stage is played at.
DATES = {
    "open": "2018-11-28T09:00:00+08:00", "apply": "2018-12-03T09:00:00+08:00",
    "provider": "2018-12-05T09:00:00+08:00", "county": "2018-12-06T09:00:00+08:00",
    "resubmit": "2018-12-07T10:00:00+08:00", "overdue": "2018-12-12T09:00:00+08:00",
    "city": "2018-12-13T09:00:00+08:00", "lapse": "2018-12-16T09:00:00+08:00",
    "experts": "2018-12-17T09:00:00+08:00", "notice": "2018-12-20T09:00:00+08:00",
    "objections": "2018-12-21T10:00:00+08:00", "decide_objections": "2018-12-24T09:00:00+08:00",
    "announce": "2018-12-27T09:00:00+08:00", "filing": "2019-01-15T09:00:00+08:00",
    "payment": "2019-03-01T09:00:00+08:00", "audit": "2019-06-01T09:00:00+08:00",
    "recovery": "2019-07-01T09:00:00+08:00",
}
DOCUMENT = "冀工信两化〔2018〕600号"  # the announcement's document number (made up)
EXPERTS = 6
CRITERIA_SHARE = {"results": 40, "advancement": 20, "practicality": 15, "replicability": 15, "breadth_depth": 10}
JUSTIFICATIONS = {"results": "成本降低、效率提升有数据支撑", "advancement": "采用容器化和微服务架构",
                  "practicality": "贴合企业生产管理需要", "replicability": "同行业可复制推广", "breadth_depth": "核心业务系统上云"}
SELF_RECOVERING = (NotFound, InvalidState)  # what a follower not yet caught up answers


def clock_file(path: str | Path) -> Callable[[str], None]:
    """Sets the instant read by services started with HBCLOUD_CLOCK=file:PATH (what `hbcloud clock` does)."""
    target = Path(path)

    def set_clock(instant: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(instant)
        tmp.replace(target)  # a service never reads half an instant
    return set_clock


def _noop(done: int, total: int) -> None:
    pass


class Campaign:
    def __init__(self, portal: Portal, clock: Callable[[str], None], enterprises: int = 60, seed: str = "2018",
                 province: tuple[str, str] = ("province-admin", "Province-own-2018"),
                 province_password: str | None = "Change-me-2018", concurrency: int = 8,
                 settings: dict[str, Any] | None = None, wait_seconds: float = 120.0, counties_per_unit: int = 1) -> None:
        """`province`: the province account and the password it ends with; `province_password` the one
        it has now when that is another (the bootstrap account's, changed at the first sign-in).
        `counties_per_unit`: how many counties of each unit the enterprises are in (each county is
        one more bureau account, and issuing an account costs five password hashes)."""
        self.portal, self.set_clock, self.seed = portal, clock, seed
        self.settings = settings or forms.campaign_2018()
        self.code = self.settings["code"]
        self.people = planning.plan(enterprises, seed, counties_per_unit)
        self.concurrency, self.wait_seconds = concurrency, wait_seconds
        self.province = Account(province[0], province[1])
        self._province_initial = province_password
        self.failures: list[tuple[str, str, str]] = []
        self.accounts: dict[str, Account] = {}
        self.experts: list[Account] = []
        self.conflicts: dict[str, list[str]] = {}  # expert username -> what it declared or is derived from
        self.results: dict[str, Any] = {}
        self.now = ""

    # ------------------------------------------------------------------ helpers
    def clock(self, name: str) -> None:
        self.now = DATES[name]
        self.set_clock(self.now)

    def key(self, step: str, subject: Any = "") -> str:
        return idempotency_key(self.seed, step, subject)

    def call(self, account: Account | None, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.portal.call(account, service, method, *args, **kwargs)

    def each(self, stage: str, items: Iterable[T], fn: Callable[[T], Any], progress: Progress,
             total: int | None = None, done: int = 0) -> list[Any]:
        """`fn` on every item by `concurrency` green threads; an item that fails is recorded in
        `failures` and the stage goes on. Answers the results of the items that succeeded."""
        items = list(items)
        total = total if total is not None else done + len(items)
        answers = []

        def guarded(item: T) -> Any:
            try:
                return fn(item)
            except Exception as e:  # recorded for the report; the stage goes on with the others
                subject = getattr(item, "username", None) or str(item)[:60]
                self.failures.append((stage, subject, f"{type(e).__name__}: {e}"))
                return e

        for answer in GreenPool(self.concurrency).imap(guarded, items):
            done += 1
            progress(done, total)
            if not isinstance(answer, Exception):
                answers.append(answer)
        return answers

    def eventually(self, fn: Callable[[], T], what: str, timeout: float | None = None) -> T:
        """Retries `fn` while it answers a refusal that means another service has not followed yet."""
        deadline = time.monotonic() + (timeout or self.wait_seconds)
        while True:
            try:
                return fn()
            except SELF_RECOVERING:
                if time.monotonic() > deadline:
                    raise
                eventlet.sleep(0.3)

    @staticmethod
    def already(create: Callable[[], T], existing: T) -> T:
        """Creates something unique (a campaign, a pool member, a registration); `existing` when it
        exists already, so a rerun of the same seed or a retry that acted goes on."""
        try:
            return create()
        except Conflict:
            return existing

    def wait(self, predicate: Callable[[], Any], what: str) -> Any:
        return self.portal.wait_until(predicate, what, timeout=self.wait_seconds)

    def issue(self, username: str, role: str, **extra: Any) -> Account:
        """An account the province issues; its holder sets its own password at the first sign-in."""
        account = Account(username, f"{username}-Own-pass-2018", role)
        data = {"username": username, "role": role, "display_name": extra.pop("display_name", username), **extra}
        issued = self.call(self.province, "application", "provision_account", data, key=self.key("provision", username))
        initial = issued["initial_password"]
        if initial is None:  # a retry answered without it (kept nowhere in clear): have it reset
            initial = self.call(self.province, "application", "reset_password",
                                {"username": username, "reason": "初始密码未收到"},
                                key=self.key("reset", username))["initial_password"]
        self.portal.first_sign_in(account, initial)
        self.accounts[username] = account
        return account

    def enterprise_account(self, e: Enterprise) -> Account:
        return self.accounts.setdefault(e.username, Account(e.username, e.password, "enterprise"))

    def county_account(self, e: Enterprise) -> Account:
        """定州 and 辛集 are their own unit: the unit's city bureau records the county step too."""
        if e.unit_code == e.county_code:
            return self.accounts[f"city-{e.unit_code}"]
        return self.accounts[f"county-{e.county_code}"]

    def provider_account(self, e: Enterprise) -> Account:
        return self.accounts[f"provider-{e.provider.provider_id}"]

    def with_fate(self, *fates: str, submitted: bool = True) -> list[Enterprise]:
        return [e for e in self.people if e.fate in fates and (e.application_id and e.state.get("submitted") or not submitted)]

    @property
    def submitted(self) -> list[Enterprise]:
        return [e for e in self.people if e.state.get("submitted")]

    # ------------------------------------------------------------------ stages
    def open_campaign(self, progress: Progress = _noop) -> dict[str, Any]:
        """The province's first sign-in, the campaign, the supply pool, and every issued account."""
        self.clock("open")
        if self._province_initial and self._province_initial != self.province.password:
            self.portal.first_sign_in(self.province, self._province_initial)
        self.portal.sign_in(self.province)
        # `conflict` here means it exists already (an earlier run of this seed, or a retry that acted)
        opened = self.already(lambda: self.call(self.province, "application", "open_campaign", self.settings,
                                                key=self.key("campaign")), {"code": self.code})
        for p in planning.PROVIDERS:
            self.already(lambda: self.call(self.province, "application", "add_provider",
                                           {"provider_id": p.provider_id, "name": p.name, "uscc": p.uscc,
                                            "reason": "入选供给资源池"}, key=self.key("pool", p.provider_id)), {})
        units = {e.unit_code for e in self.people}
        counties = {e.county_code for e in self.people if e.county_code != e.unit_code}
        to_issue: list[tuple[str, str, dict[str, Any]]] = []
        to_issue += [(f"provider-{p.provider_id}", "provider", {"provider_id": p.provider_id, "display_name": p.name})
                     for p in planning.PROVIDERS]
        to_issue += [(f"county-{c}", "county", {"division_code": c}) for c in sorted(counties)]
        to_issue += [(f"city-{u}", "city", {"division_code": u}) for u in sorted(units)]
        to_issue += [(f"expert-{i:02d}", "expert", {}) for i in range(1, EXPERTS + 1)]
        to_issue += [("finance-1", "finance", {}), ("auditor-1", "auditor", {}), ("inspector-1", "expert", {})]
        self.each("open_campaign", to_issue, lambda spec: self.issue(spec[0], spec[1], **spec[2]), progress)
        self.experts = [self.accounts[f"expert-{i:02d}"] for i in range(1, EXPERTS + 1) if f"expert-{i:02d}" in self.accounts]
        self.results["open_campaign"] = {"campaign": opened.get("code", self.code), "accounts": len(self.accounts),
                                         "providers": len(planning.PROVIDERS), "units": len(units), "counties": len(counties)}
        return self.results["open_campaign"]

    def register_and_apply(self, progress: Progress = _noop) -> dict[str, Any]:
        """Each enterprise registers, signs in, starts its application, fills the form and submits it;
        the ineligible are refused with every failed rule named."""
        self.clock("apply")

        def one(e: Enterprise) -> None:
            self.already(lambda: self.call(None, "application", "register_enterprise",
                                           {"username": e.username, "password": e.password, "uscc": e.uscc, "name": e.name,
                                            "county_code": e.county_code}, key=self.key("register", e.username)), {})
            account = self.enterprise_account(e)
            e.application_id = self.call(account, "application", "start_application", self.code,
                                         key=self.key("start", e.username))["application_id"]
            self.fill(e, account)
            self.submit(e, account, "submit")

        self.each("register_and_apply", self.people, one, progress)
        refused: dict[str, int] = {}
        for e in self.people:
            for rule in e.state.get("refused", []):
                refused[rule] = refused.get(rule, 0) + 1
        self.results["register_and_apply"] = {"registered": sum(1 for e in self.people if e.application_id),
                                              "submitted": len(self.submitted), "refused_by_rule": refused}
        return self.results["register_and_apply"]

    def fill(self, e: Enterprise, account: Account) -> None:
        app, form = e.application_id, e.form()
        k = lambda what: self.key(what, f"{e.username}")  # noqa: E731
        self.call(account, "application", "update_section", app, "enterprise", form["enterprise"], key=k("enterprise"))
        self.call(account, "application", "update_section", app, "cloud", form["cloud"], key=k("cloud"))
        self.call(account, "application", "set_scenarios", app, form["scenarios"], key=k("scenarios"))
        for c in form["contracts"]:
            self.call(account, "application", "save_contract", app, c, key=k(f"contract-{c['contract_id']}"))
        e.state["documents"] = []  # (document_id, kind): what the county checks
        for i, d in enumerate(form["documents"]):
            attached = self.call(account, "application", "attach_document", app, d, key=k(f"document-{i}"))
            e.state["documents"].append((attached["document_id"], d["kind"]))
        self.call(account, "application", "give_pledge", app, form["pledge"], key=k("pledge"))

    def submit(self, e: Enterprise, account: Account, step: str) -> None:
        from shared.errors import Ineligible
        try:
            answer = self.call(account, "application", "submit", e.application_id, key=self.key(step, e.username))
        except Ineligible as refused:
            e.state["refused"] = [r["rule"] for r in refused.details["rules"]]
            return
        e.state["submitted"] = True
        e.state["round"] = answer["round"]

    def _review_step(self, e: Enterprise, account: Account, method: str, data: dict[str, Any], stage: str) -> Any:
        """A review step, tried until the case is open at it: the review service follows the
        application's log, so a fresh submission or resubmission reaches it a moment later. Its key
        names the round: the same step of the next round is another call."""
        key = self.key(f"{method}-{e.state.get('round', 1)}", e.username)
        return self.eventually(lambda: self.call(account, "review", method, e.application_id, data, key=key),
                               f"{e.username}'s case open at the {stage} step")

    def _confirm(self, e: Enterprise) -> None:
        ok = {"confirmed": True, "remark": ""}
        items = {"first_cloud_date": ok, "content": ok, "results": ok, "contracts": {c["contract_id"]: ok for c in e.contracts}}
        self._review_step(e, self.provider_account(e), "provider_answer", {"items": items, "remarks": "合同及金额属实"}, "provider")

    def provider_confirm(self, progress: Progress = _noop) -> dict[str, Any]:
        """服务商确认: each provider confirms every item of the applications naming it."""
        self.clock("provider")
        self.each("provider_confirm", self.submitted, self._confirm, progress)
        self.results["provider_confirm"] = {"confirmed": len(self.submitted)}
        return self.results["provider_confirm"]

    def _county_pass(self, e: Enterprise) -> None:
        checklist = {doc: {"matches_original": True, "remark": ""} for doc, _ in e.state["documents"]}
        self._review_step(e, self.county_account(e), "county_review",
                          {"checklist": checklist, "complete": True, "local_industrial_enterprise": True, "decision": "pass",
                           "remarks": "原件已审，与系统提交复印件一致"}, "county")

    def _county_return(self, e: Enterprise) -> None:
        checklist = {doc: {"matches_original": kind != "invoice", "remark": ""} for doc, kind in e.state["documents"]}
        self._review_step(e, self.county_account(e), "county_review",
                          {"checklist": checklist, "complete": True, "local_industrial_enterprise": True, "decision": "return",
                           "reasons": ["发票复印件不清晰，请重新上传"]}, "county")
        e.state["returned"] = True

    def _resubmit(self, e: Enterprise) -> None:
        account = self.enterprise_account(e)
        self.wait(lambda: self.call(account, "application", "get_application", e.application_id)["status"] == "returned",
                  f"{e.username}'s application back for correction")
        invoice = next(d for d in e.form()["documents"] if d["kind"] == "invoice")
        again = self.call(account, "application", "attach_document", e.application_id,
                          invoice | {"filename": "清晰发票.pdf", "content_base64": forms.b64(forms.real_pdf(f"invoice {e.serial}"))},
                          key=self.key("document-again", e.username))
        e.state["documents"].append((again["document_id"], "invoice"))
        self.submit(e, account, "resubmit")
        self._confirm(e)  # the second round
        self._county_pass(e)

    def county_review(self, progress: Progress = _noop) -> dict[str, Any]:
        """县级审核: most pass; some are returned for correction, corrected and resubmitted, and go
        through a second round; the late ones wait past the county deadline (overdue), and half of
        those are then reviewed, the rest lapse at the system close."""
        self.clock("county")
        on_time = [e for e in self.submitted if e.fate not in (RETURNED, LATE, LAPSED)]
        returned = self.with_fate(RETURNED)
        late = self.with_fate(LATE) + self.with_fate(LAPSED)
        total = len(on_time) + 2 * len(returned) + len(self.with_fate(LATE))
        self.each("county_review", on_time, self._county_pass, progress, total=total)
        self.each("county_review", returned, self._county_return, progress, total=total, done=len(on_time))
        self.clock("resubmit")
        self.each("county_review", returned, self._resubmit, progress, total=total, done=len(on_time) + len(returned))
        # the county deadline passes with the late cases still open: the review service flags them
        self.clock("overdue")
        province = self.province
        ids = {e.application_id for e in late}

        def flagged() -> int | None:
            items = self._all(lambda page: self.call(province, "review", "worklist", {"view": "overdue", "page": page,
                                                                                      "page_size": 200}))
            seen = {i["application_id"] for i in items} & ids
            return len(seen) if seen == ids else None
        overdue = self.wait(flagged, "the late cases flagged overdue") if ids else 0
        self.each("county_review", self.with_fate(LATE), self._county_pass, progress, total=total,
                  done=len(on_time) + 2 * len(returned))
        self.results["county_review"] = {"passed": len(on_time) + len(returned) + len(self.with_fate(LATE)),
                                         "returned": len(returned), "overdue": overdue,
                                         "left_unreviewed": len(self.with_fate(LAPSED))}
        return self.results["county_review"]

    def _all(self, page: Callable[[int], dict[str, Any]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        n = 1
        while True:
            answer = page(n)
            items += answer["items"]
            if not answer["items"] or len(items) >= answer["total"]:
                return items
            n += 1

    def city_review(self, progress: Progress = _noop) -> dict[str, Any]:
        """市级审核推荐: each city recommends its applications but the declined ones; after the system
        close the cases nobody finished lapse."""
        self.clock("city")
        to_review = [e for e in self.submitted if e.fate != LAPSED]

        def one(e: Enterprise) -> None:
            decline = e.fate == DECLINED
            self._review_step(e, self.accounts[f"city-{e.unit_code}"], "city_review",
                              {"decision": "decline" if decline else "recommend",
                               "opinion": "上云投入与成效不够突出，暂不推荐" if decline else "上云成效显著，同意推荐"}, "city")
            e.state["recommended"] = not decline
        self.each("city_review", to_review, one, progress)
        self.clock("lapse")
        lapsed_ids = {e.application_id for e in self.with_fate(LAPSED)}

        def lapsed() -> bool:
            items = self._all(lambda page: self.call(self.province, "application", "list_applications",
                                                     {"campaign_code": self.code, "review_status": "lapsed", "page": page,
                                                      "page_size": 200}))
            return lapsed_ids <= {i["application_id"] for i in items}
        if lapsed_ids:
            self.wait(lapsed, "the unreviewed cases to lapse at the system close")
        self.results["city_review"] = {"recommended": sum(1 for e in self.people if e.state.get("recommended")),
                                       "declined": len(self.with_fate(DECLINED)), "lapsed": len(lapsed_ids)}
        return self.results["city_review"]

    @property
    def recommended(self) -> list[Enterprise]:
        return [e for e in self.people if e.state.get("recommended")]

    def _score(self, application_id: str, evaluator: str) -> dict[str, int]:
        """An expert's points per criterion: the application's merit (seeded) and the expert's own view."""
        merit = random.Random(f"{self.seed}:merit:{application_id}").uniform(0.55, 0.95)
        own = random.Random(f"{self.seed}:sheet:{application_id}:{evaluator}")
        return {c: max(0, min(top, round(top * (merit + own.uniform(-0.08, 0.08))))) for c, top in CRITERIA_SHARE.items()}

    def expert_review(self, progress: Progress = _noop) -> dict[str, Any]:
        """专家评审: the experts declare their interests (one an interest in three enterprises, one
        employed by a provider), the province's seeded draw avoids every conflict, each assigned
        expert scores, the province ranks and adopts the list (研究)."""
        self.clock("experts")
        recommended = self.recommended
        watched = [e.uscc for e in recommended[:3]]
        conflicted_provider = planning.PROVIDERS[0]
        for i, expert in enumerate(self.experts):
            declaration: dict[str, Any] = {"kind": "expert", "employers": [forms.uscc("130100", 700 + i, kind="12")]}
            if i == len(self.experts) - 2:
                declaration["enterprises"] = watched
                self.conflicts[expert.username] = [f"declared {u}" for u in watched]
            if i == len(self.experts) - 1:
                declaration["employers"] = [conflicted_provider.uscc]
                self.conflicts[expert.username] = [f"employed by provider {conflicted_provider.provider_id}"]
            self.call(expert, "scoring", "declare_interests", declaration, key=self.key("declaration", expert.username))
        self.wait(lambda: self.call(self.province, "scoring", "scoring_progress", self.code)["candidates"] >= len(recommended),
                  "every recommendation to reach the scoring service")
        drawn = self.call(self.province, "scoring", "draw_evaluators", {"campaign_code": self.code, "seed": f"{self.seed}-draw"},
                          key=self.key("draw"))
        by_id = {a.account_id: a for a in self.experts}
        assignments = {app: list(experts) for app, experts in drawn["assignments"].items()}
        # the conflicts the draw had to avoid, and whether it did (for the report)
        concerned = {self.experts[-2].username: [e for e in recommended if e.uscc in watched],
                     self.experts[-1].username: [e for e in recommended if e.provider == conflicted_provider]}
        avoided = [{"expert": name, "conflict": self.conflicts[name], "applications": len(apps),
                    "assigned_anyway": sum(1 for e in apps if self.accounts[name].account_id in assignments.get(e.application_id, []))}
                   for name, apps in concerned.items()]
        sheets = [(app, expert) for app, experts in sorted(assignments.items()) for expert in experts]

        def score(item: tuple[str, str]) -> None:
            app, expert = item
            points = self._score(app, expert)
            self.call(by_id[expert], "scoring", "save_sheet", app,
                      {"scores": points, "justifications": JUSTIFICATIONS, "final": True}, key=self.key("sheet", f"{app}:{expert}"))
        self.each("expert_review", sheets, score, progress)
        ranking = self.call(self.province, "scoring", "rank_candidates", self.code, key=self.key("rank"))
        adopted = self.call(self.province, "scoring", "adopt_list", {"campaign_code": self.code, "ranking_id": ranking["ranking_id"]},
                            key=self.key("adopt"))
        self.results["expert_review"] = {"candidates": len(recommended), "sheets": len(sheets), "draw_seed": drawn.get("seed"),
                                         "shortfalls": drawn.get("shortfalls", {}), "conflicts_avoided": avoided,
                                         "adopted": len(adopted.get("entries", []))}
        return self.results["expert_review"]

    def decide_and_announce(self, progress: Progress = _noop) -> dict[str, Any]:
        """公示 on the notice's dates; two objections from the public: the one against the OBJECTED
        enterprise is upheld (it leaves the list), the other dismissed; then 正式公布."""
        self.clock("notice")
        self.call(self.province, "scoring", "publish_notice", self.code, key=self.key("notice"))
        notice = self.call(None, "scoring", "public_notice", self.code)
        listed = {x["application_id"] for x in notice["entries"]}
        upheld = [e for e in self.with_fate(OBJECTED) if e.application_id in listed]
        others = sorted((e for e in self.recommended if e.fate != OBJECTED and e.application_id in listed), key=lambda e: e.serial)
        objections = [(e, "upheld", "该企业上云合同金额与实际不符，存在虚报") for e in upheld]
        objections += [(e, "dismissed", "该企业上云时间早于所述，疑似不实") for e in others[:1]]
        self.clock("objections")

        def lodge(item: tuple[Enterprise, str, str]) -> tuple[Enterprise, str, str]:
            e, outcome, grounds = item
            lodged = self.call(None, "scoring", "lodge_objection",
                               {"campaign_code": self.code, "application_id": e.application_id, "name": "王五",
                                "contact": "13800000000", "grounds": grounds}, key=self.key("objection", e.username))
            return e, outcome, lodged["objection_id"]
        lodged = self.each("objections", objections, lodge, progress, total=2 * len(objections))
        self.clock("decide_objections")

        def decide(item: tuple[Enterprise, str, str]) -> None:
            e, outcome, objection_id = item
            reasons = ["经核实，合同金额虚报属实"] if outcome == "upheld" else ["经核实，上云时间与合同一致，异议不成立"]
            self.call(self.province, "scoring", "decide_objection", objection_id, {"outcome": outcome, "reasons": reasons},
                      key=self.key("decide-objection", e.username))
            e.state["objection"] = outcome
        self.each("objections", lodged, decide, progress, total=2 * len(objections), done=len(lodged))
        self.clock("announce")
        announced = self.call(self.province, "scoring", "announce", {"campaign_code": self.code, "document_number": DOCUMENT},
                              key=self.key("announce"))
        awarded = set(announced["awarded"])
        for e in self.people:
            e.state["awarded"] = e.application_id in awarded
        self.results["decide_and_announce"] = {"on_notice": len(listed), "objections": {o: sum(1 for x in objections if x[1] == o)
                                                                                         for o in ("upheld", "dismissed")},
                                               "announced": len(awarded), "document": DOCUMENT}
        return self.results["decide_and_announce"]

    @property
    def awarded(self) -> list[Enterprise]:
        return [e for e in self.people if e.state.get("awarded")]

    def subsidy(self, progress: Progress = _noop) -> dict[str, Any]:
        """The subsidy of every benchmark enterprise: it prints its dossier and gives its payee and
        invoices; its county checks the paper copy against the system and stamps, its city stamps;
        the province files and calculates; finance approves and pays."""
        self.clock("filing")
        awarded = self.awarded
        finance = self.accounts["finance-1"]

        def one(e: Enterprise) -> None:
            ent = self.enterprise_account(e)  # the award opens its case a moment after the announcement
            printed = self.eventually(lambda: self.call(ent, "subsidy", "print_dossier", e.application_id),
                                      f"{e.username}'s subsidy case")
            self.call(ent, "subsidy", "give_filing_details", e.application_id,
                      {"payee": {"name": e.name, "bank": "中国工商银行河北省分行", "account": f"0402{e.serial:012d}"},
                       "invoices": e.invoices()}, key=self.key("filing-details", e.username))
            county = self.county_account(e)
            checked = self.call(county, "subsidy", "verify_dossier", {"application_id": e.application_id,
                                                                      "position": printed["position"], "digest": printed["digest"]})
            e.state["dossier_verified"] = checked["matches"]
            city = self.accounts[f"city-{e.unit_code}"]
            k = lambda what: self.key(what, e.username)  # noqa: E731
            if county is not city:
                self.call(county, "subsidy", "stamp", e.application_id, {"remarks": "已审核盖章"}, key=k("county-stamp"))
            self.call(city, "subsidy", "stamp", e.application_id, {"remarks": "已审核盖章"}, key=k("city-stamp"))
            self.call(self.province, "subsidy", "file_case", e.application_id, {"remarks": "已备案"}, key=k("file"))
            amount = self.call(self.province, "subsidy", "calculate", e.application_id, key=k("calculate"))["calculation"]["amount"]
            self.call(finance, "subsidy", "approve", e.application_id, {"amount": amount}, key=k("approve"))
            e.state["amount"] = amount
        self.each("subsidy", awarded, one, progress, total=2 * len(awarded))
        self.clock("payment")

        def pay(e: Enterprise) -> None:
            self.call(finance, "subsidy", "record_payment", e.application_id,
                      {"paid_on": DATES["payment"][:10], "amount": e.state["amount"], "voucher_reference": f"GK-2019-{e.serial:05d}"},
                      key=self.key("payment", e.username))
            e.state["paid"] = e.state["amount"]
        self.each("subsidy", [e for e in awarded if "amount" in e.state], pay, progress, total=2 * len(awarded),
                  done=len(awarded))
        paid = [Decimal(e.state["paid"]) for e in awarded if "paid" in e.state]
        self.results["subsidy"] = {"cases": len(awarded), "paid": len(paid), "total_paid": f"{sum(paid, Decimal('0')):.2f}",
                                   "dossiers_verified": sum(1 for e in awarded if e.state.get("dossier_verified"))}
        return self.results["subsidy"]

    def audit(self, progress: Progress = _noop, share: str = "0.2") -> dict[str, Any]:
        """抽查: the province draws a fifth of the benchmark enterprises, stratified by city; the
        inspector finds one contract forged (fraud_suspected) and the others in order; the province
        decides fraud, and the title is revoked, the enterprise banned for three years, its provider
        leaves the pool and the subsidy is reclaimed; the enterprise pays it back."""
        self.clock("audit")
        inspector = self.accounts["inspector-1"]
        check = self.eventually(lambda: self.call(self.province, "audit", "draw_spot_check",
                                                  {"campaign_code": self.code, "share": share, "inspectors": [inspector.account_id]},
                                                  key=self.key("spot-check")), "the awards to reach the audit service")
        by_id = {e.application_id: e for e in self.people}
        sample = [by_id[s["application_id"]] for s in check["sample"] if s["application_id"] in by_id]
        pick = random.Random(f"{self.seed}:fraud:{','.join(sorted(e.username for e in sample))}")
        fraud = pick.choice(sorted(sample, key=lambda e: e.serial))
        total = len(sample) + 5

        def finding(e: Enterprise) -> str:
            found = e is fraud
            answer = self.call(inspector, "audit", "record_finding", check["spot_check_id"], e.application_id,
                               {"outcome": "fraud_suspected" if found else "no_issue",
                                "summary": "现场核查：2018年上云合同系事后伪造，服务商未实际提供服务" if found else "现场核查：上云情况属实",
                                "evidence": [{"filename": "现场照片.png", "content_type": "image/png",
                                              "content_base64": forms.b64(forms.PNG)}] if found else []},
                               key=self.key("finding", e.username))
            return str(answer["finding_id"])
        findings = dict(zip([e.username for e in sample], self.each("audit", sample, finding, progress, total=total)))
        decision = self.call(self.province, "audit", "decide_fraud",
                             {"application_id": fraud.application_id, "outcome": "fraud", "reasons": ["上云合同系伪造"],
                              "grounds": {"kind": "spot_check", "reference": check["spot_check_id"]},
                              "findings": [findings[fraud.username]] if fraud.username in findings else []},
                             key=self.key("decide-fraud", fraud.username))
        progress(len(sample) + 1, total)
        auditor = self.accounts["auditor-1"]
        wanted = {"scoring.award_revoked", "subsidy.reclaim_opened", "application.ban_recorded",
                  "application.provider_removed_from_pool"}

        def consequences() -> list[str] | None:
            kinds = [s["type"] for s in self.call(auditor, "audit", "replay_application", fraud.application_id, {})["timeline"]]
            return kinds if wanted <= set(kinds) else None
        self.wait(consequences, "the fraud decision's four consequences in the ledger")
        progress(len(sample) + 4, total)
        self.clock("recovery")
        finance = self.accounts["finance-1"]
        case = self.call(finance, "subsidy", "get_subsidy_case", fraud.application_id)
        if case["reclaim"]:
            self.call(finance, "subsidy", "record_recovery", fraud.application_id,
                      {"recovered_on": DATES["recovery"][:10], "amount": case["reclaim"]["amount"],
                       "reference": f"追缴-{fraud.serial:05d}"}, key=self.key("recovery", fraud.username))
        progress(total, total)
        fraud.state["fraud"] = True
        self.results["audit"] = {"spot_check_id": check["spot_check_id"], "population": check["population_size"],
                                 "sampled": len(sample), "allocation": check.get("allocation"), "fraud": fraud.application_id,
                                 "fraud_enterprise": fraud.name, "decision": decision["decision_id"],
                                 "consequences": decision.get("consequences"),
                                 "reclaimed": case["reclaim"]["amount"] if case["reclaim"] else None}
        return self.results["audit"]

    # ------------------------------------------------------------------ what the system says now
    def summary(self) -> dict[str, Any]:
        """What anyone can check at the end: the announced list (with the revoked title), the
        subsidy roster, the ledger's head and its verification, and the replay of the fraud case."""
        auditor = self.accounts["auditor-1"]
        announced = self.call(None, "scoring", "announced_list", self.code)
        roster = self.call(self.province, "subsidy", "list_subsidy_cases", {"campaign_code": self.code})
        head = self.call(auditor, "audit", "ledger_head")
        fraud = self.results.get("audit", {}).get("fraud")
        replay = self.call(auditor, "audit", "replay_application", fraud, {}) if fraud else None
        bans = self.call(self.province, "application", "bans_of", next(e.uscc for e in self.people if e.application_id == fraud)) if fraud else []
        pool = [m["provider_id"] for m in self.call(None, "application", "supply_pool", {})["members"]]
        return {"announced": announced, "roster": roster, "ledger_head": head, "replay": replay, "bans": bans, "pool": pool}

    def verify_ledger(self) -> dict[str, Any]:
        """The ledger checked from its bytes and reconciled with every service (waits until the audit
        service has followed every source to its head)."""
        auditor = self.accounts["auditor-1"]

        def verified() -> dict[str, Any] | None:
            ledger = self.call(auditor, "audit", "verify_ledger")
            reconciled = self.call(auditor, "audit", "reconcile")
            caught_up = all(r["tracked"] == r["source_head"] for r in reconciled["sources"].values())
            return {"ledger": ledger, "reconciled": reconciled} if ledger["ok"] and reconciled["ok"] and caught_up else None
        return dict(self.wait(verified, "the ledger to verify and reconcile with every service"))

    def run(self, progress: Callable[[str], Progress] | None = None) -> dict[str, Any]:
        """Every stage in order; `progress(stage)` gives each stage's callback."""
        for stage in STAGES:
            getattr(self, stage)((progress or (lambda s: _noop))(stage))
        return self.results


STAGES = ("open_campaign", "register_and_apply", "provider_confirm", "county_review", "city_review", "expert_review",
          "decide_and_announce", "subsidy", "audit")
