"""The review case's state machine with a controlled clock: every legal and illegal transition,
supersession on resubmission, overdue flags and the lapse at the system close."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from eventsourcing.persistence import StoredEvent

from services.review.domain import CITY, COUNTY, PROVIDER, Deadlines, ReviewCase, Status
from services.review.store import ReviewStore
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
    case.county_review(at(5), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "", local_industrial_enterprise=True)
    return case


def test_the_happy_path_moves_provider_county_city_and_recommends():
    case = new_case()
    assert (case.stage, case.status) == (PROVIDER, Status.OPEN)
    case.provider_answer(at(4), PROVIDER_ACTOR, items(), "answer", [], "全部属实")
    assert case.stage == COUNTY
    case.county_review(at(5), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "", local_industrial_enterprise=True)
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
            case.county_review(at(4), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "", local_industrial_enterprise=True)
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
        case.county_review(at(5), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "", local_industrial_enterprise=True)


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
        case.county_review(at(5), COUNTY_ACTOR, {"d1": {"matches_original": True}}, True, "pass", [], "", local_industrial_enterprise=True)
    mismatch = {"d1": {"matches_original": True}, "d2": {"matches_original": False, "remark": "发票金额不一致"}}
    with pytest.raises(InvalidInput):
        case.county_review(at(5), COUNTY_ACTOR, mismatch, True, "pass", [], "", local_industrial_enterprise=True)
    with pytest.raises(InvalidInput):
        case.county_review(at(5), COUNTY_ACTOR, mismatch, True, "return", [], "", local_industrial_enterprise=True)  # reasons are required
    case.county_review(at(5), COUNTY_ACTOR, mismatch, True, "return", ["发票复印件与原件不一致"], "", local_industrial_enterprise=True)
    assert case.status == Status.RETURNED and case.returns[-1]["stage"] == COUNTY


def test_a_county_pass_attests_a_local_industrial_enterprise():
    """The county box of the form: 此企业确系我县（区、市）工业企业, recorded with the pass."""
    case = new_case()
    case.provider_answer(at(4), PROVIDER_ACTOR, items(), "answer", [], "")
    with pytest.raises(InvalidInput) as e:
        case.county_review(at(5), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "", local_industrial_enterprise=False)
    assert set(e.value.details["fields"]) == {"local_industrial_enterprise"}
    with pytest.raises(InvalidInput) as e:  # every reason not to pass, at once
        case.county_review(at(5), COUNTY_ACTOR, CHECKLIST, False, "pass", [], "", local_industrial_enterprise=False)
    assert set(e.value.details["fields"]) == {"decision", "local_industrial_enterprise"}
    assert case.stage == COUNTY and len(case.pending_events) == 2
    case.county_review(at(5), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "", local_industrial_enterprise=True)
    passed = case.pending_events[-1]
    assert type(passed).__name__ == "CountyPassed" and passed.local_industrial_enterprise is True
    assert case.step_results[COUNTY]["local_industrial_enterprise"] is True


def test_a_county_may_return_an_application_it_cannot_attest():
    case = new_case()
    case.provider_answer(at(4), PROVIDER_ACTOR, items(), "answer", [], "")
    case.county_review(at(5), COUNTY_ACTOR, CHECKLIST, True, "return", ["非我县工业企业，请核实注册地"], "",
                       local_industrial_enterprise=False)
    returned = case.pending_events[-1]
    assert case.status == Status.RETURNED and returned.details["local_industrial_enterprise"] is False


def test_the_recommendation_carries_the_first_submission_and_the_provider_of_each_confirmed_contract():
    content = CONTENT | {"contracts": [{"contract_id": "c1"}, {"contract_id": "c2"}]}
    case = ReviewCase.open(at(3), SYSTEM, "app-1", "2018", 1, content, DEADLINES, "2018-12-03T01:30:00+00:00")
    answer = items()
    answer["contracts"]["c2"] = OK
    case.provider_answer(at(4), PROVIDER_ACTOR, answer, "answer", [], "")
    case.county_review(at(5), COUNTY_ACTOR, CHECKLIST, True, "return", ["补充材料"], "", local_industrial_enterprise=True)
    assert case.restart(at(6), SYSTEM, 2, content) is True  # the second round keeps the first submission's time
    case.provider_answer(at(7), PROVIDER_ACTOR, answer, "answer", [], "")
    case.county_review(at(7), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "", local_industrial_enterprise=True)
    case.city_review(at(8), CITY_ACTOR, "recommend", "同意推荐", [])
    recommended = case.pending_events[-1]
    assert recommended.submitted_at == "2018-12-03T01:30:00+00:00"
    assert recommended.confirmed_contracts == [{"contract_id": "c1", "provider_id": "cloudco"},
                                               {"contract_id": "c2", "provider_id": "cloudco"}]
    assert recommended.county_checklist["local_industrial_enterprise"] is True


def test_events_stored_before_the_new_fields_read_back_with_them(tmp_path):
    """Stored events of class version 1 (no attestation, no submission time, no contract providers)
    are upcast when read: the case replays, and its recommendation names the confirmed contracts."""
    store = ReviewStore(f"sqlite:///{tmp_path / 'review.sqlite'}")
    case = ReviewCase.open(at(3), SYSTEM, "app-1", "2018", 1, CONTENT, DEADLINES, "2018-12-03T01:30:00+00:00")
    through_county(case)
    case.city_review(at(6), CITY_ACTOR, "recommend", "同意推荐", [])
    mapper, transcoder = store.mapper, store.mapper.transcoder
    old: list[StoredEvent] = []
    for event in case.collect_events():
        stored = mapper.to_stored_event(event)
        state = transcoder.decode(stored.state)
        for new_field in ("class_version", "submitted_at", "local_industrial_enterprise", "confirmed_contracts"):
            state.pop(new_field, None)
        old.append(StoredEvent(stored.originator_id, stored.originator_version, stored.topic, transcoder.encode(state)))
    events = [mapper.to_domain_event(s) for s in old]
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed is not None and replayed.status == Status.RECOMMENDED and replayed.submitted_at is None
    passed, recommended = events[2], events[3]
    assert passed.local_industrial_enterprise is None and replayed.step_results[COUNTY]["local_industrial_enterprise"] is None
    assert (recommended.submitted_at, recommended.confirmed_contracts) == (None, [{"contract_id": "c1", "provider_id": "cloudco"}])


def test_a_resubmission_restarts_at_the_provider_step_and_supersedes_earlier_approvals():
    case = through_county(new_case())
    case.city_review(at(6), CITY_ACTOR, "return", "请补充成效数据", ["成效数据不足"])
    assert case.status == Status.RETURNED
    assert case.restart(at(7), SYSTEM, 2, CONTENT) is True
    assert (case.round, case.stage, case.status, case.step_results) == (2, PROVIDER, Status.OPEN, {})
    assert case.restart(at(7), SYSTEM, 2, CONTENT) is False  # the same resubmission again
    with pytest.raises(InvalidState):
        case.county_review(at(7), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "", local_industrial_enterprise=True)  # the old county pass no longer counts
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
        case.county_review(at(16, 0), COUNTY_ACTOR, CHECKLIST, True, "pass", [], "", local_industrial_enterprise=True)
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
