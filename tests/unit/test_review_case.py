"""The review case's state machine with a controlled clock: every legal and illegal transition,
supersession on resubmission, overdue flags and the lapse at the system close."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from services.review.domain import CITY, COUNTY, PROVIDER, Deadlines, ReviewCase, Status
from shared.clock import SHANGHAI
from shared.errors import DeadlinePassed, InvalidInput, InvalidState

DEADLINES = Deadlines(date(2018, 12, 9), date(2018, 12, 11), date(2018, 12, 13), date(2018, 12, 15))
SYSTEM = {"id": "system", "role": "service"}
PROVIDER_ACTOR = {"id": "p", "role": "provider"}
COUNTY_ACTOR = {"id": "c", "role": "county"}
CITY_ACTOR = {"id": "m", "role": "city"}
OK = {"confirmed": True, "remark": ""}
CONTENT = {"county_code": "130102", "unit_code": "130100", "cloud": {"provider_id": "cloudco"},
           "contracts": [{"contract_id": "c1"}], "documents": [{"document_id": "d1"}, {"document_id": "d2"}]}


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2018, 12, day, hour, tzinfo=SHANGHAI)


def new_case() -> ReviewCase:
    return ReviewCase.open(at(3), SYSTEM, "app-1", "2018", 1, CONTENT, DEADLINES)


def items(**disputed: str) -> dict:
    base = {"first_cloud_date": OK, "content": OK, "results": OK, "contracts": {"c1": OK}}
    for name, remark in disputed.items():
        if name.startswith("contract_"):
            base["contracts"][name[9:]] = {"confirmed": False, "remark": remark}
        else:
            base[name] = {"confirmed": False, "remark": remark}
    return base


CHECKLIST = {"d1": {"matches_original": True}, "d2": {"matches_original": True}}


def through_county(case: ReviewCase) -> ReviewCase:
    case.provider_answer(at(4), PROVIDER_ACTOR, items(), "answer", [], "")
    case.county_review(at(5), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "")
    return case


def test_the_happy_path_moves_provider_county_city_and_recommends():
    case = new_case()
    assert (case.stage, case.status) == (PROVIDER, Status.OPEN)
    case.provider_answer(at(4), PROVIDER_ACTOR, items(), "answer", [], "全部属实")
    assert case.stage == COUNTY
    case.county_review(at(5), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "")
    assert case.stage == CITY
    case.city_review(at(6), CITY_ACTOR, "recommend", "成效显著，同意推荐", [])
    assert case.status == Status.RECOMMENDED
    recommended = case.pending_events[-1]
    assert recommended.content == CONTENT and recommended.provider_confirmation["remarks"] == "全部属实"
    assert [type(e).__name__ for e in case.pending_events] == ["Opened", "ProviderConfirmed", "CountyPassed", "Recommended"]


@pytest.mark.parametrize("step", ["county", "city"])
def test_a_step_cannot_be_taken_before_its_turn(step):
    case = new_case()
    with pytest.raises(InvalidState):
        if step == "county":
            case.county_review(at(4), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "")
        else:
            case.city_review(at(4), CITY_ACTOR, "recommend", "同意", [])
    assert case.version == 1


def test_a_provider_dispute_returns_the_application_with_its_reasons():
    case = new_case()
    case.provider_answer(at(4), PROVIDER_ACTOR, items(contract_c1="金额与我方记录不符"), "answer", [], "")
    assert case.status == Status.RETURNED
    event = case.pending_events[-1]
    assert event.stage == PROVIDER and event.reasons == ["contract:c1: 金额与我方记录不符"]
    with pytest.raises(InvalidState):
        case.county_review(at(5), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "")


def test_a_provider_may_reject_outright_but_must_say_why():
    case = new_case()
    with pytest.raises(InvalidInput):
        case.provider_answer(at(4), PROVIDER_ACTOR, items(results="夸大"), "reject", [], "")
    case.provider_answer(at(4), PROVIDER_ACTOR, items(results="夸大"), "reject", ["并非我方客户"], "")
    assert case.status == Status.REJECTED


def test_the_provider_answers_every_contract():
    case = new_case()
    answer = items()
    answer["contracts"] = {}
    with pytest.raises(InvalidInput):
        case.provider_answer(at(4), PROVIDER_ACTOR, answer, "answer", [], "")


def test_the_county_checklist_covers_every_document_and_pass_needs_all_to_match():
    case = new_case()
    case.provider_answer(at(4), PROVIDER_ACTOR, items(), "answer", [], "")
    with pytest.raises(InvalidInput):
        case.county_review(at(5), COUNTY_ACTOR, {"d1": {"matches_original": True}}, True, "pass", [], "")
    mismatch = {"d1": {"matches_original": True}, "d2": {"matches_original": False, "remark": "发票金额不一致"}}
    with pytest.raises(InvalidInput):
        case.county_review(at(5), COUNTY_ACTOR, mismatch, True, "pass", [], "")
    with pytest.raises(InvalidInput):
        case.county_review(at(5), COUNTY_ACTOR, mismatch, True, "return", [], "")  # reasons are required
    case.county_review(at(5), COUNTY_ACTOR, mismatch, True, "return", ["发票复印件与原件不一致"], "")
    assert case.status == Status.RETURNED and case.returns[-1]["stage"] == COUNTY


def test_a_resubmission_restarts_at_the_provider_step_and_supersedes_earlier_approvals():
    case = through_county(new_case())
    case.city_review(at(6), CITY_ACTOR, "return", "请补充成效数据", ["成效数据不足"])
    assert case.status == Status.RETURNED
    assert case.restart(at(7), SYSTEM, 2, CONTENT) is True
    assert (case.round, case.stage, case.status, case.step_results) == (2, PROVIDER, Status.OPEN, {})
    assert case.restart(at(7), SYSTEM, 2, CONTENT) is False  # the same resubmission again
    with pytest.raises(InvalidState):
        case.county_review(at(7), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "")  # the old county pass no longer counts
    through_county(case)
    case.city_review(at(8), CITY_ACTOR, "recommend", "同意推荐", [])
    assert case.status == Status.RECOMMENDED and case.round == 2


def test_withdrawal_closes_the_case():
    case = new_case()
    assert case.withdraw(at(4), SYSTEM, "企业撤回") is True
    assert case.status == Status.WITHDRAWN and case.withdraw(at(4), SYSTEM, "") is False
    with pytest.raises(InvalidState):
        case.provider_answer(at(4), PROVIDER_ACTOR, items(), "answer", [], "")


def test_a_stage_past_its_date_is_flagged_once_and_work_goes_on():
    case = new_case()
    assert case.due_changes(at(9, 23), SYSTEM) is False  # the provider's date lasts to the end of the day
    assert case.due_changes(at(10, 0), SYSTEM) is True
    assert case.overdue_stages == [PROVIDER] and case.pending_events[-1].due == "2018-12-09"
    assert case.due_changes(at(10, 1), SYSTEM) is False
    case.provider_answer(at(10, 2), PROVIDER_ACTOR, items(), "answer", [], "")  # late, but still accepted
    assert case.stage == COUNTY
    assert case.due_changes(at(12, 0), SYSTEM) is True and case.overdue_stages == [PROVIDER, COUNTY]


def test_at_the_system_close_unfinished_cases_lapse_and_nothing_more_is_accepted():
    case = new_case()
    case.provider_answer(at(4), PROVIDER_ACTOR, items(), "answer", [], "")
    with pytest.raises(DeadlinePassed):
        case.county_review(at(16, 0), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "")
    assert case.due_changes(at(16, 0), SYSTEM) is True
    assert case.status == Status.LAPSED and case.pending_events[-1].stage == COUNTY
    assert case.due_changes(at(17), SYSTEM) is False


def test_a_returned_case_lapses_at_the_close_too_but_a_finished_one_does_not():
    returned = new_case()
    returned.provider_answer(at(4), PROVIDER_ACTOR, items(content="场景不符"), "answer", [], "")
    assert returned.due_changes(at(16), SYSTEM) is True and returned.status == Status.LAPSED
    finished = through_county(new_case())
    finished.city_review(at(6), CITY_ACTOR, "decline", "成效一般", [])
    assert finished.due_changes(at(16), SYSTEM) is False and finished.status == Status.DECLINED
