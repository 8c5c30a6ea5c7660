"""The review service through its entrypoints, following the real application service in-process:
who may act where, the return-for-correction round trip, bad input, worklists, deadlines."""
from __future__ import annotations

from datetime import datetime

import pytest

from shared.clock import SHANGHAI
from shared.errors import Conflict, DeadlinePassed, Forbidden, InvalidInput, InvalidState, NotAuthenticated, NotFound
from services.review.domain import ReviewCase, case_id_for
from services.review.handlers.deadlines import check_deadlines
from shared.contract import read_envelope
from shared.pipeline import Pipeline
from tests.support.retries import head, retried
from tests.support.review_inprocess import Both, all_confirmed, checklist_all_match


@pytest.fixture
def both(tmp_path, clock) -> Both:
    return Both(tmp_path, clock)


@pytest.fixture
def reviewers(both):
    p = both.app.provision
    return {
        "provider": both.review(p("cloudco", "provider", provider_id="hbcloud-provider")),
        "other_provider": both.review(p("othercloud", "provider", provider_id="other-cloud")),
        "county": both.review(p("changan", "county", division_code="130102")),
        "other_county": both.review(p("qiaoxi", "county", division_code="130104")),
        "city": both.review(p("sjz-city", "city", division_code="130100")),
        "other_city": both.review(p("tangshan", "city", division_code="130200")),
        "province": both.review(both.app.province),
    }


def recommend(both: Both, r: dict, app_id: str) -> dict:
    r["provider"].provider_answer(app_id, all_confirmed())
    case = r["county"].get_case(app_id)
    r["county"].county_review(app_id, checklist_all_match(case))
    return r["city"].city_review(app_id, {"decision": "recommend", "opinion": "上云成效显著，同意推荐"})


def test_a_submission_opens_a_case_at_the_provider_step(both, reviewers):
    _, app_id = both.submitted()
    case = reviewers["province"].get_case(app_id)
    assert (case["stage"], case["status"], case["round"]) == ("provider", "open", 1)
    assert case["deadlines"] == {"provider": "2018-12-09", "county": "2018-12-11", "city": "2018-12-13",
                                 "system_close": "2018-12-15"}


def test_confirmed_passed_and_recommended_by_correctly_scoped_accounts_with_a_return_round_between(both, reviewers):
    ent, app_id = both.submitted()
    r = reviewers
    r["provider"].provider_answer(app_id, all_confirmed())
    case = r["county"].get_case(app_id)
    checklist = {d["document_id"]: {"matches_original": True} for d in case["content"]["documents"]}
    first_doc = next(iter(checklist))
    checklist[first_doc] = {"matches_original": False, "remark": "营业执照复印件模糊"}
    answer = r["county"].county_review(app_id, {"checklist": checklist, "complete": True, "local_industrial_enterprise": True,
                                                "decision": "return", "reasons": ["营业执照复印件与原件不一致"]})
    assert answer["status"] == "returned"
    both.sync()
    view = ent.get_application(app_id)
    assert view["status"] == "returned" and view["returns"][0]["reasons"] == ["营业执照复印件与原件不一致"]

    both.clock.set(datetime(2018, 12, 10, 9, 0, tzinfo=SHANGHAI))  # after the submission deadline: a resubmission is fine
    ent.update_section(app_id, "enterprise", {"profile": "补充后的企业简介"})
    assert ent.submit(app_id)["round"] == 2
    both.sync()
    case = r["county"].get_case(app_id)
    assert (case["round"], case["stage"], case["step_results"]) == (2, "provider", {})
    with pytest.raises(InvalidState):  # the county's step waits for the provider again
        r["county"].county_review(app_id, checklist_all_match(case))
    result = recommend(both, r, app_id)
    assert result["status"] == "recommended"
    history = [e["type"] for e in r["province"].case_history(app_id)]
    assert history == ["review.case_opened", "review.provider_confirmed", "review.returned_for_correction",
                       "review.case_restarted", "review.provider_confirmed", "review.county_passed", "review.recommended"]
    recommended = r["province"].case_history(app_id)[-1]
    assert recommended["application_id"] == app_id
    assert recommended["data"]["content"]["enterprise"]["profile"] == "补充后的企业简介"
    assert recommended["data"]["provider_confirmation"]["by"]["role"] == "provider"


def test_only_the_named_provider_its_county_and_its_city_may_act(both, reviewers):
    ent, app_id = both.submitted()
    r = reviewers
    for outsider in ("other_provider", "other_county", "other_city"):
        with pytest.raises(NotFound):
            r[outsider].get_case(app_id)
    with pytest.raises(NotFound):
        r["other_provider"].provider_answer(app_id, all_confirmed())
    with pytest.raises(Forbidden):
        r["county"].provider_answer(app_id, all_confirmed())  # a county is not the provider
    r["provider"].provider_answer(app_id, all_confirmed())
    case = r["county"].get_case(app_id)
    with pytest.raises(NotFound):
        r["other_county"].county_review(app_id, checklist_all_match(case))
    with pytest.raises(Forbidden):
        r["city"].county_review(app_id, checklist_all_match(case))  # 石家庄 has counties of its own
    with pytest.raises(Forbidden):
        both.review(ent).county_review(app_id, checklist_all_match(case))  # an enterprise reviews nothing
    with pytest.raises(NotAuthenticated):
        both.review(both.app.anonymous).get_case(app_id)
    # Any role may ask (docs/rpc.md); the enterprise sees no case, not even its own application's,
    # and is told `not_found`, not `forbidden` (an outsider's docs-only client expected the latter).
    for query in ("get_case", "case_history"):
        with pytest.raises(NotFound):
            getattr(both.review(ent), query)(app_id)


def test_experts_finance_and_enterprises_have_no_review_queue(both, reviewers):
    ent, _ = both.submitted()
    for role in ("expert", "finance"):
        outsider = both.review(both.app.provision(f"{role}-01", role))
        with pytest.raises(Forbidden):
            outsider.worklist({})
    with pytest.raises(Forbidden):
        both.review(ent).worklist({})


def test_a_provider_removed_from_the_pool_can_no_longer_confirm(both, reviewers):
    _, app_id = both.submitted()
    both.app.province.remove_provider({"provider_id": "hbcloud-provider", "reason": "抽查发现弄虚作假"})
    both.sync()
    with pytest.raises(NotAuthenticated) as e:  # its tokens end with its place in the pool
        reviewers["provider"].provider_answer(app_id, all_confirmed())
    assert "资源池" in e.value.payload["message_zh"] and e.value.details["reason"] == "provider_not_in_pool"


def test_dingzhou_one_bureau_records_the_county_and_the_city_step_separately(both):
    ent, app_id = both.submitted(username="dingzhou-ent", serial=7, county="130682", region="130682")
    provider = both.review(both.app.provision("cloudco", "provider", provider_id="hbcloud-provider"))
    bureau = both.review(both.app.provision("dingzhou-bureau", "city", division_code="130682"))
    provider.provider_answer(app_id, all_confirmed())
    assert [i["application_id"] for i in bureau.worklist({})["items"]] == [app_id]
    bureau.county_review(app_id, checklist_all_match(bureau.get_case(app_id)))
    bureau.city_review(app_id, {"decision": "recommend", "opinion": "同意推荐"})
    steps = [e["type"] for e in bureau.case_history(app_id)]
    assert steps[-2:] == ["review.county_passed", "review.recommended"]


def test_bad_input_gets_typed_errors_and_records_nothing(both, reviewers):
    _, app_id = both.submitted()
    before = both.store.max_position()
    with pytest.raises(InvalidInput) as e:
        reviewers["provider"].provider_answer(app_id, {"items": {"first_cloud_date": {"confirmed": "maybe"}}})
    assert {"items"} == set(e.value.details["fields"])
    assert e.value.details["fields"]["items"]["first_cloud_date"]["confirmed"] == ["Not a valid boolean. / 须为是或否"]
    with pytest.raises(InvalidInput):
        reviewers["provider"].provider_answer(app_id, all_confirmed(["c2017"]))  # one contract unanswered
    with pytest.raises(InvalidInput):
        reviewers["provider"].provider_answer(app_id, all_confirmed() | {"decision": "maybe"})
    with pytest.raises(NotFound):
        reviewers["provider"].provider_answer("not-an-application", all_confirmed())
    assert both.store.max_position() == before


def test_the_county_attests_a_local_industrial_enterprise_and_the_case_and_event_show_it(both, reviewers):
    """县级审核: 此企业确系我县（区、市）工业企业 is a required answer; a pass needs it."""
    _, app_id = both.submitted()
    r = reviewers
    r["provider"].provider_answer(app_id, all_confirmed())
    case = r["county"].get_case(app_id)
    before = both.store.max_position()
    unattested = {k: v for k, v in checklist_all_match(case).items() if k != "local_industrial_enterprise"}
    with pytest.raises(InvalidInput) as e:
        r["county"].county_review(app_id, unattested)
    assert "local_industrial_enterprise" in e.value.details["fields"]
    with pytest.raises(InvalidInput) as e:
        r["county"].county_review(app_id, checklist_all_match(case) | {"local_industrial_enterprise": False})
    assert set(e.value.details["fields"]) == {"local_industrial_enterprise"}
    assert both.store.max_position() == before
    r["county"].county_review(app_id, checklist_all_match(case))
    assert r["county"].get_case(app_id)["step_results"]["county"]["local_industrial_enterprise"] is True
    passed = r["province"].case_history(app_id)[-1]
    assert (passed["type"], passed["schema_version"]) == ("review.county_passed", 2)
    assert passed["data"]["local_industrial_enterprise"] is True


def test_the_recommendation_carries_the_first_submission_time_and_each_confirmed_contracts_provider(both, reviewers):
    """What scoring needs: the tie-break (first submission) and the providers for conflict checks."""
    ent, app_id = both.submitted()
    first = ent.get_application(app_id)["submitted_at"]
    r = reviewers
    r["provider"].provider_answer(app_id, all_confirmed())
    case = r["county"].get_case(app_id)
    r["county"].county_review(app_id, checklist_all_match(case) | {"decision": "return", "reasons": ["发票不清晰"]})
    both.sync()
    both.clock.advance(hours=5)
    assert ent.submit(app_id)["round"] == 2
    both.sync()
    assert recommend(both, r, app_id)["status"] == "recommended"
    recommended = r["province"].case_history(app_id)[-1]
    assert (recommended["type"], recommended["schema_version"]) == ("review.recommended", 2)
    data = recommended["data"]
    assert datetime.fromisoformat(data["submitted_at"]) == datetime.fromisoformat(first)
    assert data["submitted_at"] != ent.get_application(app_id)["last_submitted_at"]
    assert data["confirmed_contracts"] == [{"contract_id": "c2017", "provider_id": "hbcloud-provider"},
                                           {"contract_id": "c2018", "provider_id": "hbcloud-provider"}]
    assert data["county_checklist"]["local_industrial_enterprise"] is True
    assert r["province"].get_case(app_id)["submitted_at"] == data["submitted_at"]


def test_consumers_read_the_old_shapes_of_changed_review_events_in_the_new_shape():
    """schema_version 1 of review.county_passed and review.recommended, upcast for a consumer."""
    def v1(type_: str, data: dict) -> dict:
        return {"event_id": "3f0c2f7e-2f1e-4d55-9a9e-0d6f3c1b9a01", "type": type_, "schema_version": 1,
                "source": "review", "position": 9, "occurred_at": "2018-12-12T02:00:00+00:00", "aggregate_id": "a",
                "aggregate_version": 5, "application_id": "app-1", "actor": {"id": "m", "role": "city"}, "data": data}

    passed = read_envelope(v1("review.county_passed", {"round": 1, "checklist": {}, "remarks": ""}))
    assert passed["schema_version"] == 2 and passed["data"]["local_industrial_enterprise"] is None
    content = {"cloud": {"provider_id": "hbcloud-provider"}, "contracts": [{"contract_id": "c2017"}, {"contract_id": "c2018"}]}
    confirmation = {"items": {"contracts": {"c2017": {"confirmed": True}, "c2018": {"confirmed": True}}}}
    recommended = read_envelope(v1("review.recommended", {"round": 1, "opinion": "同意", "content": content,
                                                          "provider_confirmation": confirmation, "county_checklist": {}}))
    assert recommended["schema_version"] == 2
    assert recommended["data"]["submitted_at"] is None
    assert recommended["data"]["confirmed_contracts"] == [{"contract_id": "c2017", "provider_id": "hbcloud-provider"},
                                                          {"contract_id": "c2018", "provider_id": "hbcloud-provider"}]


def test_worklists_show_pending_overdue_and_done_and_the_province_sees_progress(both, reviewers):
    _, first = both.submitted()
    _, second = both.submitted(username="second-ent", serial=2)
    r = reviewers
    assert r["provider"].worklist({})["total"] == 2
    assert r["county"].worklist({})["total"] == 0
    r["provider"].provider_answer(first, all_confirmed())
    assert [i["application_id"] for i in r["county"].worklist({})["items"]] == [first]
    assert r["provider"].worklist({"view": "done"})["total"] == 1
    assert r["other_county"].worklist({})["total"] == 0

    both.clock.set(datetime(2018, 12, 10, 0, 1, tzinfo=SHANGHAI))  # past the provider's date (12-09)
    assert check_deadlines(both.store) == 1
    overdue = r["provider"].worklist({"view": "overdue"})
    assert [i["application_id"] for i in overdue["items"]] == [second] and overdue["items"][0]["overdue"] is True
    assert [i["application_id"] for i in r["province"].worklist({"view": "overdue"})["items"]] == [second]
    progress = r["province"].progress("2018")
    assert progress["cases_total"] == 2 and progress["overdue_total"] == 1
    assert {(row["stage"], row["cases"]) for row in progress["rows"]} == {("provider", 1), ("county", 1)}
    with pytest.raises(Forbidden):
        r["city"].progress("2018")
    assert check_deadlines(both.store) == 0  # flagged once


def test_at_the_system_close_unfinished_cases_lapse_and_no_review_action_is_accepted(both, reviewers):
    _, app_id = both.submitted()
    both.clock.set(datetime(2018, 12, 16, 0, 0, tzinfo=SHANGHAI))
    with pytest.raises(DeadlinePassed):
        reviewers["provider"].provider_answer(app_id, all_confirmed())
    check_deadlines(both.store)
    case = reviewers["province"].get_case(app_id)
    assert case["status"] == "lapsed"
    lapsed = reviewers["province"].case_history(app_id)[-1]
    assert lapsed["type"] == "review.case_lapsed" and lapsed["data"]["stage"] == "provider"
    assert lapsed["actor"] == {"id": "system", "role": "service"}


def test_a_withdrawn_application_closes_its_case(both, reviewers):
    ent, app_id = both.submitted()
    ent.withdraw(app_id, {"reason": "不再参评"})
    both.sync()
    assert reviewers["province"].get_case(app_id)["status"] == "withdrawn"
    assert reviewers["provider"].worklist({})["total"] == 0


def test_a_city_ranks_exactly_its_recommended_applications(both, reviewers):
    ids = []
    for i in range(3):
        _, app_id = both.submitted(username=f"rank-ent-{i}", serial=20 + i)
        ids.append(app_id)
    for app_id in ids[:2]:
        recommend(both, reviewers, app_id)
    with pytest.raises(InvalidInput):
        reviewers["city"].rank_recommendations({"campaign_code": "2018", "application_ids": ids})  # one is not recommended
    ranked = reviewers["city"].rank_recommendations({"campaign_code": "2018", "application_ids": [ids[1], ids[0]]})
    assert ranked["application_ids"] == [ids[1], ids[0]]
    reviewers["city"].rank_recommendations({"campaign_code": "2018", "application_ids": [ids[0], ids[1]]})
    with pytest.raises(InvalidInput):
        reviewers["other_city"].rank_recommendations({"campaign_code": "2018", "application_ids": ids[:2]})
    with pytest.raises(Forbidden):
        reviewers["county"].rank_recommendations({"campaign_code": "2018", "application_ids": ids[:2]})


def test_two_reviewers_acting_at_once_do_not_both_succeed(both, reviewers, monkeypatch):
    _, app_id = both.submitted()
    stale = both.store.get(ReviewCase, case_id_for(app_id))  # what a second worker loaded meanwhile
    reviewers["provider"].provider_answer(app_id, all_confirmed())
    monkeypatch.setattr(both.store, "get", lambda kind, aggregate_id, version=None: stale)
    with pytest.raises(Conflict):
        reviewers["provider"].provider_answer(app_id, all_confirmed())


def test_jurisdiction_is_checked_before_the_input_and_every_bad_field_is_reported_at_once(both, reviewers):
    _, app_id = both.submitted()
    with pytest.raises(NotFound):  # outside its county: nothing to learn, not even what the input lacks
        reviewers["other_county"].county_review(app_id, {})
    with pytest.raises(Forbidden):  # its case, not its step
        reviewers["city"].county_review(app_id, {})
    with pytest.raises(NotFound):
        reviewers["other_provider"].provider_answer(app_id, {"decision": "maybe"})
    reviewers["provider"].provider_answer(app_id, all_confirmed())
    reviewers["county"].county_review(app_id, checklist_all_match(reviewers["county"].get_case(app_id)))
    with pytest.raises(InvalidInput) as e:
        reviewers["city"].city_review(app_id, {"decision": "return"})
    assert set(e.value.details["fields"]) == {"opinion", "reasons"}


def test_every_review_command_retried_with_its_key_answers_its_first_answer_and_acts_once(both, reviewers):
    """A portal that lost an answer (a timeout; the service killed after it committed) retries with the
    same key: the first answer, not `invalid_state` for a step that was taken, and nothing recorded."""
    r = reviewers
    log = head(r["province"])
    _, app_id = both.submitted()
    confirmed = all_confirmed()
    answered = retried(r["provider"], "provider_answer", (app_id, confirmed), log, InvalidState,
                       other=(app_id, confirmed | {"remarks": "另附说明"}))
    passed = checklist_all_match(r["county"].get_case(app_id))
    retried(r["county"], "county_review", (app_id, passed), log, InvalidState, other=(app_id, passed | {"remarks": "复核"}))
    recommend = {"decision": "recommend", "opinion": "上云成效显著，同意推荐"}
    first = retried(r["city"], "city_review", (app_id, recommend), log, InvalidState,
                    other=(app_id, recommend | {"opinion": "上云成效一般，同意推荐"}))
    assert first["status"] == "recommended"
    ranking = {"campaign_code": "2018", "application_ids": [app_id]}
    retried(r["city"], "rank_recommendations", (ranking,), log, other=(ranking | {"campaign_code": "2019"},))
    both.clock.set(datetime(2018, 12, 16, 0, 0, tzinfo=SHANGHAI))  # after the system close: still the first answer
    assert r["provider"].provider_answer(app_id, confirmed, idempotency_key="retry-provider_answer") == answered


def test_a_retry_that_raced_its_first_attempt_answers_the_first_answer(both, reviewers, monkeypatch):
    """The retry looked for its key just before the first attempt committed, then found the case moved
    on: the first answer, not the refusal."""
    _, app_id = both.submitted()
    provider = reviewers["provider"]
    first = provider.provider_answer(app_id, all_confirmed(), idempotency_key="k")
    looked = Pipeline._previous_answer
    calls = iter([None])  # the retry's first look: before the first attempt's commit
    monkeypatch.setattr(Pipeline, "_previous_answer", lambda self, *a: next(calls, looked(self, *a)))
    assert provider.provider_answer(app_id, all_confirmed(), idempotency_key="k") == first
