"""The scoring service through its entrypoints, following the real application and review services
in-process: from the cities' recommendations to an announced list, and who may see and do what."""
from __future__ import annotations

import base64
import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from services.scoring import rules as r
from shared.clock import SHANGHAI
from shared.errors import DeadlinePassed, Forbidden, InvalidInput, InvalidState, NotAuthenticated, NotFound, RateLimited
from tests.support import builders as b
from tests.support.inprocess import Session
from tests.support.retries import head, retried
from tests.support.scoring_inprocess import Three, sheet


@pytest.fixture
def three(tmp_path, clock) -> Three:
    return Three(tmp_path, clock)


def panel(three: Three, n: int = 4) -> dict[str, Session]:
    return {f"expert{i}": three.evaluator(f"expert{i}") for i in range(1, n + 1)}


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2018, 12, day, hour, 0, tzinfo=SHANGHAI)


def score_all(three: Three, experts: dict[str, Session], results_by_app: dict[str, int]) -> None:
    for app_id, results in results_by_app.items():
        for name, session in experts.items():
            if any(a["application_id"] == app_id for a in session.my_assignments({})["items"]):
                session.save_sheet(app_id, sheet(results))


def account_of(three: Three, username: str) -> str:
    return next(a["account_id"] for a in three.app.province.list_accounts("expert")["items"]
                if a["username"] == username)


def test_recommendations_flow_to_an_announced_list_through_draw_sheets_ranking_decision_and_notice(three):
    apps = three.recommended(3)
    experts = panel(three, 4)
    province = three.province
    three.clock.set(at(14))
    drawn = province.draw_evaluators({"campaign_code": "2018", "seed": "seed-2018"})
    assert all(len(v) == 3 for v in drawn["assignments"].values()) and drawn["shortfalls"] == {}
    loads = sorted(e["assigned"] for e in province.list_evaluators("2018")["items"])
    assert loads[-1] - loads[0] <= 1  # 9 assignments over 4 evaluators: balanced

    score_all(three, experts, {apps[0]: 38, apps[1]: 30, apps[2]: 20})
    ranking = province.rank_candidates("2018")
    assert [row["application_id"] for row in ranking["rows"]] == apps
    assert ranking["rows"][0]["score"] == "80.00" and all(row["listed"] for row in ranking["rows"])

    adopted = province.adopt_list({"campaign_code": "2018", "ranking_id": ranking["ranking_id"],
                                   "remove": [{"application_id": apps[2], "reason": "成效数据不足，研究决定不列入"}]})
    assert adopted["entries"] == apps[:2]
    three.clock.set(at(20))
    notice = province.publish_notice("2018")
    assert notice["closes_at"] == "2018-12-26T16:00:00+00:00"  # 7 calendar days, 20th to the end of the 26th (Shanghai)

    public = Session(three.scoring, three.app.issuer, None)
    shown = public.public_notice("2018")
    assert [e["application_id"] for e in shown["entries"]] == apps[:2] and shown["open_for_objections"]
    upheld = public.lodge_objection({"campaign_code": "2018", "application_id": apps[1], "name": "王五",
                                     "contact": "13800000000", "grounds": "该企业上云合同金额与实际不符，有发票为证"},
                                    idempotency_key="objection-1")
    dismissed = public.lodge_objection({"campaign_code": "2018", "application_id": apps[0], "name": "赵六",
                                        "contact": "zhao@example.cn", "grounds": "该企业并非本地工业企业，请核实"},
                                       idempotency_key="objection-2")
    with pytest.raises(InvalidState):  # the notice is still open
        province.announce({"campaign_code": "2018", "document_number": "冀工信两化〔2019〕1号"})
    province.decide_objection(upheld["objection_id"], {"outcome": "upheld", "reasons": ["经核实合同金额不实"]})
    province.decide_objection(dismissed["objection_id"], {"outcome": "dismissed", "reasons": ["经核实系本地工业企业"]})
    assert public.objection_status(upheld["objection_id"])["outcome"] == "upheld"

    three.clock.set(at(27))
    with pytest.raises(DeadlinePassed):
        public.lodge_objection({"campaign_code": "2018", "application_id": apps[0], "name": "孙七",
                                "contact": "13900000000", "grounds": "公示期后提出的异议"})
    announced = province.announce({"campaign_code": "2018", "document_number": "冀工信两化〔2019〕1号"})
    assert announced["awarded"] == [apps[0]]
    final = public.announced_list("2018")
    assert [e["application_id"] for e in final["entries"]] == [apps[0]] and final["document_number"] == "冀工信两化〔2019〕1号"

    log = province.get_notifications(0, 1000)["notifications"]
    awards = [e for e in log if e["type"] == "scoring.awarded"]
    assert [a["application_id"] for a in awards] == [apps[0]]
    assert awards[0]["data"]["document_number"] == "冀工信两化〔2019〕1号" and awards[0]["data"]["confirmed_contracts"]
    lodged = [e for e in log if e["type"] == "scoring.objection_lodged"]
    assert lodged and all(set(e["data"]) == {"campaign_code", "application_id", "attachments"} for e in lodged)

    export = province.export_list({"campaign_code": "2018", "list": "announced", "format": "xlsx"})
    book = load_workbook(io.BytesIO(base64.b64decode(export["content_base64"])))
    rows = list(book.active.iter_rows(values_only=True))
    assert f"scoring position {export['position']}" in rows[0][0] and rows[2][1] == apps[0]
    ranked = province.export_list({"campaign_code": "2018", "list": "ranking", "format": "csv"})
    lines = list(csv.reader(io.StringIO(base64.b64decode(ranked["content_base64"]).decode("utf-8-sig"))))
    assert [line[1] for line in lines[2:]] == apps


def test_the_draw_never_assigns_a_conflicted_evaluator_and_is_reproducible_from_its_event(three):
    apps = three.recommended(2)
    enterprise_uscc = three.province.get_assignment(apps[0])["uscc"]
    conflicted = {
        "employee": three.evaluator("employee", employers=[enterprise_uscc]),
        "declared": three.evaluator("declared", enterprises=[enterprise_uscc]),
        "provider-side": three.evaluator("provider-side", providers=["hbcloud-provider"]),
        "provider-staff": three.evaluator("provider-staff", employers=[b.uscc("130100", 999)]),  # the pool's credit code
    }
    free = panel(three, 3)
    drawn = three.province.draw_evaluators({"campaign_code": "2018", "seed": "fixed"})
    ids = {account_of(three, name): name for name in [*conflicted, *free]}
    assigned_names = {ids[e] for e in drawn["assignments"][apps[0]]}
    assert assigned_names == set(free)
    event = next(e for e in three.province.get_notifications(0, 1000)["notifications"] if e["type"] == "scoring.draw_made")
    d = event["data"]
    assert set(d["excluded"][apps[0]][account_of(three, "employee")]) == {"employed_by_enterprise"}
    assert "employed_by_provider" in d["excluded"][apps[0]][account_of(three, "provider-staff")]
    assert r.draw(d["seed"], d["applications"], d["evaluators"], d["loads_before"], d["needed"],
                  d["excluded"]) == d["assignments"]


def test_an_evaluator_declines_with_a_reason_and_a_replacement_is_drawn(three):
    apps = three.recommended(1)
    experts = panel(three, 4)
    drawn = three.province.draw_evaluators({"campaign_code": "2018"})
    names = {account_of(three, n): n for n in experts}
    first = names[drawn["assignments"][apps[0]][0]]
    answer = experts[first].decline_assignment(apps[0], {"reason": "本人曾为该企业提供咨询服务"})
    assert len(answer["replacement"]) == 1 and names[answer["replacement"][0]] != first
    with pytest.raises(NotFound):  # no longer assigned: it sees nothing of it
        experts[first].get_assignment(apps[0])
    three.sync()
    with pytest.raises(NotFound):  # nor of its evidence
        experts[first].on(three.app.service).get_application(apps[0])
    view = three.province.get_assignment(apps[0])
    assert view["evaluators"] == 3
    history = [e for e in three.province.get_notifications(0, 1000)["notifications"] if e["type"] == "scoring.assignment_declined"]
    assert history[0]["data"]["reason"] == "本人曾为该企业提供咨询服务"


def test_an_evaluator_sees_only_its_assignments_and_no_other_sheet_until_all_are_final(three):
    apps = three.recommended(2)
    experts = panel(three, 3)
    outsider = three.evaluator("outsider")
    drawn = three.province.draw_evaluators({"campaign_code": "2018", "unit_code": "130100"})
    busy = set(drawn["assignments"][apps[0]])  # 3 of the 4 evaluators
    sessions = {**experts, "outsider": outsider}
    idle = [n for n in sessions if account_of(three, n) not in busy]
    for name in idle:
        with pytest.raises(NotFound):
            sessions[name].get_assignment(apps[0])
        with pytest.raises(NotFound):
            sessions[name].save_sheet(apps[0], sheet(30))
    workers = [n for n in sessions if account_of(three, n) in busy]
    a, rest = sessions[workers[0]], [sessions[n] for n in workers[1:]]
    a.save_sheet(apps[0], sheet(30))
    assert list(rest[0].get_assignment(apps[0])["sheets"]) == []  # its own draft only: none yet
    rest[0].save_sheet(apps[0], sheet(20, final=False))
    seen = rest[0].get_assignment(apps[0])
    assert list(seen["sheets"]) == [account_of(three, workers[1])] and not seen["all_sheets_final"]
    rest[0].save_sheet(apps[0], sheet(20))
    rest[1].save_sheet(apps[0], sheet(25))
    assert len(a.get_assignment(apps[0])["sheets"]) == 3
    with pytest.raises(InvalidState):  # final: only the province reopens it
        a.save_sheet(apps[0], sheet(31))
    with pytest.raises(Forbidden):
        a.reopen_sheet(apps[0], {"evaluator_id": account_of(three, workers[0]), "reason": "复核"})
    three.province.reopen_sheet(apps[0], {"evaluator_id": account_of(three, workers[0]), "reason": "成效分值与理由不符，请复核"})
    assert a.save_sheet(apps[0], sheet(31))["total"] == 73


def test_a_sheet_out_of_range_or_without_justifications_is_refused_field_by_field_and_records_nothing(three):
    apps = three.recommended(1)
    experts = panel(three, 3)
    three.province.draw_evaluators({"campaign_code": "2018"})
    before = three.scoring_store.max_position()
    with pytest.raises(InvalidInput) as refused:
        experts["expert1"].save_sheet(apps[0], {"scores": {"results": 41, "advancement": 10, "unknown": 1},
                                                "justifications": {"results": "好"}, "final": True})
    fields = refused.value.details["fields"]
    assert {"scores.results", "scores.unknown", "scores.practicality", "justifications.advancement"} <= set(fields)
    assert three.scoring_store.max_position() == before


def test_only_the_province_draws_decides_and_announces_and_objector_contacts_stay_with_it(three):
    apps = three.recommended(1)
    experts = panel(three, 3)
    with pytest.raises(Forbidden):
        experts["expert1"].draw_evaluators({"campaign_code": "2018"})
    auditor = three.app.provision("auditor1", "auditor").on(three.scoring)
    with pytest.raises(Forbidden):
        auditor.announce({"campaign_code": "2018", "document_number": "x号"})
    three.province.draw_evaluators({"campaign_code": "2018"})
    score_all(three, experts, {apps[0]: 35})
    ranking = three.province.rank_candidates("2018")
    three.province.adopt_list({"campaign_code": "2018", "ranking_id": ranking["ranking_id"]})
    three.province.publish_notice("2018")
    public = Session(three.scoring, three.app.issuer, None)
    public.lodge_objection({"campaign_code": "2018", "application_id": apps[0], "name": "王五", "contact": "13800000000",
                            "grounds": "该企业上云合同金额与实际不符"})
    assert three.province.list_objections("2018")["items"][0]["contact"] == "13800000000"
    seen = auditor.list_objections("2018")["items"][0]
    assert "contact" not in seen and "name" not in seen and seen["grounds"]
    with pytest.raises(NotAuthenticated):
        public.list_objections("2018")


def test_the_ranking_trims_extremes_from_five_sheets_and_breaks_ties_by_results_then_submission():
    rules = r.ScoringRules.from_settings({"rubric": [{"code": "results", "name_zh": "成效", "name_en": "Results", "max": 40},
                                                     {"code": "other", "name_zh": "其他", "name_en": "Other", "max": 60}],
                                          "experts_per_application": 5})

    def s(e: str, results: int, other: int) -> dict:
        return {"evaluator_id": e, "total": results + other, "scores": {"results": results, "other": other}}

    rows = r.rank([
        {"application_id": "a", "submitted_at": "2018-12-05T01:00:00+00:00",
         "sheets": [s("e1", 30, 50), s("e2", 30, 50), s("e3", 30, 50), s("e4", 0, 0), s("e5", 40, 60)]},  # 80 after trimming
        {"application_id": "b", "submitted_at": "2018-12-04T01:00:00+00:00",
         "sheets": [s("e1", 35, 45), s("e2", 35, 45), s("e3", 35, 45), s("e4", 35, 45), s("e5", 35, 45)]},  # 80, more results
        {"application_id": "c", "submitted_at": "2018-12-03T01:00:00+00:00",
         "sheets": [s("e1", 30, 50), s("e2", 30, 50), s("e3", 30, 50), s("e4", 30, 50), s("e5", 30, 50)]},  # 80, earliest
        {"application_id": "d", "submitted_at": "2018-12-02T01:00:00+00:00",
         "sheets": [s("e1", 30, 50), s("e2", 30, 50), s("e3", 30, 50), s("e4", 30, 50), s("e5", 30, 50)]},
    ], rules)
    assert [row["application_id"] for row in rows] == ["b", "d", "c", "a"]
    assert rows[3]["score"] == "80.00" and rows[3]["outliers"] == ["e4", "e5"]  # 0 and 100 against the others' means


def test_the_draw_balances_load_and_depends_only_on_its_inputs():
    evaluators = [f"e{i}" for i in range(7)]
    apps = [f"a{i:02d}" for i in range(20)]
    needed = {a: 3 for a in apps}
    one = r.draw("s", apps, evaluators, {}, needed, {})
    loads = {e: sum(e in v for v in one.values()) for e in evaluators}
    assert max(loads.values()) - min(loads.values()) <= 1 and all(len(set(v)) == 3 for v in one.values())
    assert r.draw("s", list(reversed(apps)), list(reversed(evaluators)), {}, needed, {}) == one
    assert r.draw("t", apps, evaluators, {}, needed, {}) != one


def test_normalisation_is_shown_beside_the_raw_score():
    z = r.zscores([{"application_id": "a", "evaluator_id": "harsh", "total": 60},
                   {"application_id": "b", "evaluator_id": "harsh", "total": 70},
                   {"application_id": "a", "evaluator_id": "kind", "total": 90}])
    assert z[("a", "harsh")] == -1.0 and z[("b", "harsh")] == 1.0 and z[("a", "kind")] == 0.0


def test_an_assigned_expert_opens_the_evidence_of_its_applications_and_of_no_other(three):
    apps = three.recommended(2)
    experts = panel(three, 3)
    outsider = three.evaluator("outsider")
    drawn = three.province.draw_evaluators({"campaign_code": "2018", "seed": "evidence"})
    three.sync()  # the application service learns the assignments from the scoring service's events
    names = {account_of(three, n): s for n, s in {**experts, "outsider": outsider}.items()}
    assigned = names[drawn["assignments"][apps[0]][0]]
    document = assigned.get_assignment(apps[0])["content"]["documents"][0]
    opened = assigned.on(three.app.service).get_document(apps[0], document["document_id"])
    assert opened["intact"] and opened["sha256"] == document["sha256"]
    idle = [s for e, s in names.items() if e not in drawn["assignments"][apps[1]]]
    for session in idle:
        with pytest.raises(NotFound):
            session.on(three.app.service).get_document(apps[1], document["document_id"])
    with pytest.raises(Forbidden):  # no lists of applications for experts
        assigned.on(three.app.service).list_applications({})


def test_a_recommendation_withdrawn_by_the_enterprise_leaves_the_expert_review_and_the_adopted_list(three):
    apps = three.recommended(2)
    experts = panel(three, 3)
    three.province.draw_evaluators({"campaign_code": "2018"})
    score_all(three, experts, {apps[0]: 36, apps[1]: 30})
    ranking = three.province.rank_candidates("2018")
    three.province.adopt_list({"campaign_code": "2018", "ranking_id": ranking["ranking_id"]})
    three.clock.set(at(14))  # before the system close: the enterprise may still withdraw
    three.app.login("enterprise-002", "Secret-pass-1").withdraw(apps[1], {"reason": "企业决定不再参评"})
    three.sync()
    assert three.province.get_assignment(apps[1])["application_id"] == apps[1]  # its history stays visible
    with pytest.raises(InvalidState):
        experts["expert1"].save_sheet(apps[1], sheet(30, final=False))
    log = three.province.get_notifications(0, 1000)["notifications"]
    removed = [e for e in log if e["type"] == "scoring.entry_removed"]
    assert [(e["application_id"], e["data"]["objection_id"]) for e in removed] == [(apps[1], "")]
    assert [r["application_id"] for r in three.province.rank_candidates("2018")["rows"]] == [apps[0]]


def test_an_objector_without_an_account_retries_with_its_key_and_the_objection_is_recorded_once(three):
    apps = three.recommended(1)
    experts = panel(three, 3)
    three.province.draw_evaluators({"campaign_code": "2018"})
    score_all(three, experts, {apps[0]: 35})
    ranking = three.province.rank_candidates("2018")
    three.province.adopt_list({"campaign_code": "2018", "ranking_id": ranking["ranking_id"]})
    three.province.publish_notice("2018")
    public = three.scoring_anonymous()
    objection = {"campaign_code": "2018", "application_id": apps[0], "name": "王五", "contact": "13800000000",
                 "grounds": "该企业上云合同金额与实际不符"}
    first = public.lodge_objection(objection, idempotency_key="my-objection")
    assert public.lodge_objection(objection, idempotency_key="my-objection") == first  # the retry: the first answer
    other = public.lodge_objection(objection | {"name": "赵六", "contact": "zhao@example.cn"}, idempotency_key="my-objection")
    assert other["objection_id"] != first["objection_id"]  # someone else's key is no one's business: another objection
    assert len(three.province.list_objections("2018")["items"]) == 2


# ------------------------------------------------------------------ what an outsider's attack found
def on_notice(three: Three, results: dict[str, int]) -> tuple[dict[str, Session], dict]:
    experts = panel(three, 3)
    three.province.draw_evaluators({"campaign_code": "2018"})
    score_all(three, experts, results)
    ranking = three.province.rank_candidates("2018")
    three.province.adopt_list({"campaign_code": "2018", "ranking_id": ranking["ranking_id"]})
    return experts, ranking


def test_from_the_notice_on_the_scores_stand_and_the_awards_carry_the_adopted_ranking(three):
    apps = three.recommended(2)
    experts, ranking = on_notice(three, {apps[0]: 38, apps[1]: 30})
    three.clock.set(at(20))
    three.province.publish_notice("2018")
    someone = account_of(three, "expert1")
    for refused in (lambda: three.province.reopen_sheet(apps[0], {"evaluator_id": someone, "reason": "复核"}),
                    lambda: three.province.rank_candidates("2018"),
                    lambda: three.province.draw_evaluators({"campaign_code": "2018"}),
                    lambda: three.province.replace_evaluator(apps[0], {"evaluator_id": someone, "reason": "复核"})):
        with pytest.raises(InvalidState) as state:
            refused()
        assert state.value.details["stage"] == "on_notice"
    three.clock.set(at(27))
    three.province.announce({"campaign_code": "2018", "document_number": "冀工信两化〔2018〕600号"})
    awards = {e["application_id"]: e["data"] for e in three.province.get_notifications(0, 1000)["notifications"]
              if e["type"] == "scoring.awarded"}
    assert [(awards[a]["score"], awards[a]["rank"]) for a in apps] == [
        (row["score"], row["rank"]) for row in ranking["rows"]]


def test_a_ranking_whose_sheets_changed_is_neither_adopted_nor_published(three):
    apps = three.recommended(2)
    experts = panel(three, 3)
    three.province.draw_evaluators({"campaign_code": "2018"})
    score_all(three, experts, {apps[0]: 38, apps[1]: 30})
    ranking = three.province.rank_candidates("2018")
    someone = account_of(three, "expert1")
    three.province.reopen_sheet(apps[0], {"evaluator_id": someone, "reason": "成效分值与理由不符"})
    with pytest.raises(InvalidState) as stale:
        three.province.adopt_list({"campaign_code": "2018", "ranking_id": ranking["ranking_id"]})
    assert stale.value.details["changed_since"] == [apps[0]]
    experts["expert1"].save_sheet(apps[0], sheet(10))
    again = three.province.rank_candidates("2018")
    three.province.adopt_list({"campaign_code": "2018", "ranking_id": again["ranking_id"]})
    three.province.reopen_sheet(apps[0], {"evaluator_id": someone, "reason": "再次复核"})
    with pytest.raises(InvalidState):  # the adopted list no longer stands on the sheets
        three.province.publish_notice("2018")


def test_a_list_emptied_by_upheld_objections_is_not_announced(three):
    apps = three.recommended(1)
    on_notice(three, {apps[0]: 35})
    three.province.publish_notice("2018")
    lodged = three.scoring_anonymous().lodge_objection({"campaign_code": "2018", "application_id": apps[0], "name": "王五",
                                                        "contact": "13800000000", "grounds": "合同金额与实际不符"})
    three.province.decide_objection(lodged["objection_id"], {"outcome": "upheld", "reasons": ["经核实不实"]})
    three.clock.set(at(27))
    with pytest.raises(InvalidState) as empty:
        three.province.announce({"campaign_code": "2018", "document_number": "冀工信两化〔2018〕600号"})
    assert empty.value.details == {"entries": 0}


def test_a_declared_provider_with_a_trailing_newline_is_refused(three):
    expert = three.app.provision("newline", "expert").on(three.scoring)
    with pytest.raises(InvalidInput) as refused:
        expert.declare_interests({"kind": "expert", "employers": [], "providers": ["hbcloud-provider\n"]})
    assert "providers" in refused.value.details["fields"]


def test_a_rubric_that_no_sheet_could_score_is_refused_when_the_campaign_opens(three):
    bad = b.campaign_2018() | {"code": "2019", "name": "2019年评选"}
    bad["rubric"] = [dict(item) for item in bad["rubric"]]
    bad["rubric"][0]["code"] = "上云成效"
    bad["rubric"][1]["code"] = bad["rubric"][2]["code"]
    with pytest.raises(InvalidInput) as refused:
        three.app.province.open_campaign(bad)
    assert set(refused.value.details["fields"]) >= {"rubric"}


def test_refused_objections_do_not_use_up_the_public_allowance(three, monkeypatch):
    apps = three.recommended(1)
    on_notice(three, {apps[0]: 35})
    three.province.publish_notice("2018")
    monkeypatch.setattr(three.scoring.limits["lodge_objection"], "per_minute", 2)
    public = three.scoring_anonymous()
    for _ in range(5):
        with pytest.raises(InvalidInput):
            public.lodge_objection({"campaign_code": "2018", "application_id": apps[0], "name": "", "contact": "x",
                                    "grounds": "x"})
    good = {"campaign_code": "2018", "application_id": apps[0], "name": "王五", "contact": "13800000000",
            "grounds": "合同金额与实际不符"}
    public.lodge_objection(good)
    public.lodge_objection(good | {"name": "赵六"})
    with pytest.raises(RateLimited):
        public.lodge_objection(good | {"name": "孙七"})


def test_the_province_replaces_a_deactivated_evaluator_and_a_renewed_conflict_stops_a_sheet(three):
    apps = three.recommended(1)
    experts = panel(three, 4)
    drawn = three.province.draw_evaluators({"campaign_code": "2018", "seed": "replace"})
    names = {account_of(three, n): n for n in experts}
    gone, renewing = (names[e] for e in drawn["assignments"][apps[0]][:2])
    three.app.province.deactivate_account({"username": gone, "reason": "专家离职"})
    answer = three.province.replace_evaluator(apps[0], {"evaluator_id": account_of(three, gone), "reason": "专家离职，账号停用"})
    assert answer["released"] == account_of(three, gone) and len(answer["replacement"]) == 1
    uscc = three.province.get_assignment(apps[0])["uscc"]
    experts[renewing].declare_interests({"kind": "expert", "employers": [], "enterprises": [uscc]})
    with pytest.raises(Forbidden) as conflicted:
        experts[renewing].save_sheet(apps[0], sheet(30))
    assert conflicted.value.details["conflicts"] == ["declared_enterprise"]
    with pytest.raises(NotFound):
        three.province.reopen_sheet(apps[0], {"evaluator_id": "nobody", "reason": "复核"})
    with pytest.raises(NotFound):
        three.province.list_objections("2099")


def test_other_sheets_stay_hidden_while_the_panel_is_short(three):
    apps = three.recommended(1)
    experts = panel(three, 2)  # 3 per application: one short
    drawn = three.province.draw_evaluators({"campaign_code": "2018"})
    assert drawn["shortfalls"] == {apps[0]: 1}
    for session in experts.values():
        session.save_sheet(apps[0], sheet(30))
    seen = experts["expert1"].get_assignment(apps[0])
    assert not seen["all_sheets_final"] and list(seen["sheets"]) == [account_of(three, "expert1")]


def test_the_public_objection_event_names_no_file(three):
    apps = three.recommended(1)
    on_notice(three, {apps[0]: 35})
    three.province.publish_notice("2018")
    three.scoring_anonymous().lodge_objection({
        "campaign_code": "2018", "application_id": apps[0], "name": "张三", "contact": "13800000000",
        "grounds": "合同金额与实际不符",
        "attachments": [{"filename": "../张三举报材料.pdf", "content_type": "application/pdf", "content_base64": b.b64(b.PDF)}]})
    lodged = next(e for e in three.province.get_notifications(0, 1000)["notifications"] if e["type"] == "scoring.objection_lodged")
    assert set(lodged["data"]["attachments"][0]) == {"content_type", "size", "sha256"}
    assert three.province.list_objections("2018")["items"][0]["attachments"][0]["filename"] == "张三举报材料.pdf"


def test_an_unreadable_objection_file_is_invalid_input_whatever_the_dates(three):
    """Input before dates (docs/rpc.md, "Order of checks"): found by a client written from the docs."""
    apps = three.recommended(1)
    fake = {"filename": "x.pdf", "content_type": "application/pdf", "content_base64": "aGVsbG8="}  # "hello"
    with pytest.raises(InvalidInput) as refused:  # no notice published at all
        three.scoring_anonymous().lodge_objection({"campaign_code": "2018", "application_id": apps[0], "name": "王五",
                                                   "contact": "13800000000", "grounds": "合同金额与实际不符",
                                                   "attachments": [fake]})
    assert "attachments.0.content_base64" in refused.value.details["fields"]


def test_every_scoring_command_retried_with_its_key_answers_its_first_answer_and_acts_once(three):
    """A portal that lost an answer retries with the same key: the first answer and nothing recorded,
    where the same call without the key is now refused (or would act again)."""
    apps = three.recommended(2)
    experts = panel(three, 4)
    by_id = {account_of(three, name): session for name, session in experts.items()}
    province, log = three.province, head(three.province)
    declaration = {"kind": "expert", "employers": [b.uscc("130100", 801)]}
    retried(experts["expert1"], "declare_interests", (declaration,), log,
            other=(declaration | {"kind": "third_party"},))
    three.clock.set(at(14))
    draw = {"campaign_code": "2018", "seed": "seed-2018", "unit_code": None}
    drawn = retried(province, "draw_evaluators", (draw,), log, InvalidState, other=(draw | {"seed": "another"},))
    leaving = drawn["assignments"][apps[0]][0]
    # Declining takes the application out of the evaluator's reach: its retry still answers; the
    # same call without the key, or the key with other input, finds no such application.
    declined = retried(by_id[leaving], "decline_assignment", (apps[0], {"reason": "本人曾为该企业提供咨询服务"}), log, NotFound)
    assert declined["released"] == leaving
    with pytest.raises(NotFound):
        by_id[leaving].decline_assignment(apps[0], {"reason": "另一个理由"}, idempotency_key="retry-decline_assignment")
    assigned = {app_id: [e for e in ids if e != leaving] for app_id, ids in drawn["assignments"].items()}
    assigned[apps[0]] += declined["replacement"]
    reason = {"evaluator_id": assigned[apps[1]][0], "reason": "专家离职，账号停用"}
    replaced = retried(province, "replace_evaluator", (apps[1], reason), log, NotFound,
                       other=(apps[1], reason | {"reason": "另有利益关系"}))
    assigned[apps[1]] = assigned[apps[1]][1:] + replaced["replacement"]
    scorer = assigned[apps[0]][0]
    for app_id, ids in assigned.items():
        for evaluator in ids:
            if (app_id, evaluator) != (apps[0], scorer):
                by_id[evaluator].save_sheet(app_id, sheet(30))
    retried(by_id[scorer], "save_sheet", (apps[0], sheet(30)), log, InvalidState, other=(apps[0], sheet(31)))
    reopen = {"evaluator_id": scorer, "reason": "成效分值与理由不符，请复核"}
    retried(province, "reopen_sheet", (apps[0], reopen), log, InvalidState, other=(apps[0], reopen | {"reason": "再次复核"}))
    by_id[scorer].save_sheet(apps[0], sheet(30))
    ranking = retried(province, "rank_candidates", ("2018",), log, other=("2019",))
    adopt = {"campaign_code": "2018", "ranking_id": ranking["ranking_id"]}
    retried(province, "adopt_list", (adopt,), log,
            other=(adopt | {"remove": [{"application_id": apps[1], "reason": "研究决定不列入"}]},))
    three.clock.set(at(20))
    retried(province, "publish_notice", ("2018",), log, InvalidState, other=("2019",))
    objection = three.scoring_anonymous().lodge_objection(
        {"campaign_code": "2018", "application_id": apps[1], "name": "王五", "contact": "13800000000",
         "grounds": "该企业上云合同金额与实际不符，有发票为证"}, idempotency_key="objection")
    decision = {"outcome": "dismissed", "reasons": ["经核实合同金额属实"]}
    retried(province, "decide_objection", (objection["objection_id"], decision), log, InvalidState,
            other=(objection["objection_id"], decision | {"outcome": "upheld"}))
    three.clock.set(at(27))
    announcement = {"campaign_code": "2018", "document_number": "冀工信两化〔2019〕1号"}
    announced = retried(province, "announce", (announcement,), log, InvalidState,
                        other=(announcement | {"document_number": "冀工信两化〔2019〕2号"},))
    assert sorted(announced["awarded"]) == sorted(apps)
