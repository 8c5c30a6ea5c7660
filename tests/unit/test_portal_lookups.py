"""What a portal shows and looks up beside the forms: the review outcome next to each application
(from the review service's events), the campaigns, the enterprise directory and the account list;
each only for the roles and jurisdictions it is for."""
from __future__ import annotations

from datetime import datetime

import pytest

from services.application.definition import DEFINITION as APPLICATION
from services.application.handlers.applications import on_review_event
from services.review.handlers.deadlines import check_deadlines
from shared.clock import SHANGHAI
from shared.contract import log_page
from shared.definition import rebuild_read_models, record
from shared.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from services.review.events import contract as review_contract
from tests.support import builders as b
from tests.support.inprocess import Harness
from tests.support.review_inprocess import Both, all_confirmed, checklist_all_match

REVIEW_FIELDS = ("review_round", "review_stage", "review_status", "review_overdue")


@pytest.fixture
def h(tmp_path, clock) -> Harness:
    harness = Harness(f"sqlite:///{tmp_path / 'application.sqlite'}", clock)
    harness.open_2018()
    return harness


@pytest.fixture
def both(tmp_path, clock) -> Both:
    return Both(tmp_path, clock)


@pytest.fixture
def people(both):
    """Application-service sessions; `.on(both.service)` or both.review(...) calls the review service."""
    p = both.app.provision
    return {
        "provider": p("cloudco", "provider", provider_id="hbcloud-provider"),
        "county": p("changan", "county", division_code="130102"),
        "other_county": p("qiaoxi", "county", division_code="130104"),
        "city": p("sjz-city", "city", division_code="130100"),
        "other_city": p("tangshan", "city", division_code="130200"),
        "other_provider": p("othercloud", "provider", provider_id="other-cloud"),
        "auditor": p("audit-1", "auditor"),
        "province": both.app.province,
    }


def review_of(item: dict) -> tuple:
    return tuple(item[f] for f in REVIEW_FIELDS)


def listed(session, **filters) -> list[str]:
    return [i["application_id"] for i in session.list_applications(filters)["items"]]


# ------------------------------------------------------------------ the review outcome
def test_the_review_outcome_stands_beside_the_application_at_every_step(both, people):
    ent, app_id = both.submitted()
    province, r = people["province"], {k: both.review(v) for k, v in people.items()}
    before = province.list_applications({})["items"][0]
    assert (before["status"], review_of(before)) == ("submitted", (1, "provider", "open", False))
    assert before["review_updated_at"]

    r["provider"].provider_answer(app_id, all_confirmed())
    both.sync()
    assert review_of(ent.get_application(app_id)) == (1, "county", "open", False)
    r["county"].county_review(app_id, checklist_all_match(r["county"].get_case(app_id)))
    both.sync()
    assert review_of(people["city"].list_applications({})["items"][0]) == (1, "city", "open", False)
    r["city"].city_review(app_id, {"decision": "recommend", "opinion": "同意推荐"})
    both.sync()

    item = province.list_applications({})["items"][0]
    assert (item["status"], review_of(item)) == ("submitted", (1, "city", "recommended", False))
    assert review_of(ent.my_applications()[0]) == (1, "city", "recommended", False)
    view = people["county"].get_application(app_id)
    assert (view["status"], view["review_status"], view["review_stage"]) == ("submitted", "recommended", "city")
    assert view["review_updated_at"] == r["province"].case_history(app_id)[-1]["occurred_at"]
    assert listed(province, review_status="recommended") == [app_id]
    assert listed(province, review_status="open") == []
    assert listed(people["city"], review_status="recommended", review_stage="city") == [app_id]


def test_a_dispute_returns_at_the_provider_step_and_a_resubmission_starts_the_next_round(both, people):
    ent, app_id = both.submitted()
    provider = both.review(people["provider"])
    disputed = all_confirmed()
    disputed["items"]["results"] = {"confirmed": False, "remark": "成效数据无法核实"}
    provider.provider_answer(app_id, disputed)
    both.sync()
    view = ent.get_application(app_id)
    assert (view["status"], review_of(view)) == ("returned", (1, "provider", "returned", False))
    assert listed(people["province"], review_status="returned", review_stage="provider") == [app_id]

    ent.update_section(app_id, "cloud", {"overall_results": "运维成本下降30%，附第三方报告"})
    ent.submit(app_id)
    both.sync()
    view = ent.get_application(app_id)
    assert (view["status"], view["round"], review_of(view)) == ("submitted", 2, (2, "provider", "open", False))


def test_rejections_declines_withdrawals_and_lapses_are_outcomes_too(both, people):
    r = {k: both.review(v) for k, v in people.items()}
    _, rejected = both.submitted("rejected-ent", serial=1)
    _, declined = both.submitted("declined-ent", serial=2)
    withdrawer, withdrawn = both.submitted("withdrawn-ent", serial=3)
    _, lapsing = both.submitted("lapsing-ent", serial=4)
    r["provider"].provider_answer(rejected, all_confirmed())
    case = r["county"].get_case(rejected)
    r["county"].county_review(rejected, {**checklist_all_match(case), "decision": "reject", "reasons": ["非工业企业"]})
    r["provider"].provider_answer(declined, all_confirmed())
    r["county"].county_review(declined, checklist_all_match(r["county"].get_case(declined)))
    r["city"].city_review(declined, {"decision": "decline", "opinion": "成效一般"})
    withdrawer.withdraw(withdrawn, {"reason": "不再参评"})
    both.sync()
    both.sync()
    both.clock.set(datetime(2018, 12, 16, 0, 0, tzinfo=SHANGHAI))  # after the system close
    check_deadlines(both.store)
    both.sync()

    outcome = {i["application_id"]: (i["status"], i["review_stage"], i["review_status"])
               for i in people["province"].list_applications({})["items"]}
    assert outcome == {rejected: ("submitted", "county", "rejected"), declined: ("submitted", "city", "declined"),
                       withdrawn: ("withdrawn", "provider", "withdrawn"), lapsing: ("submitted", "provider", "lapsed")}
    assert listed(people["province"], review_status="lapsed") == [lapsing]


def test_an_overdue_step_is_flagged_until_the_case_moves_on(both, people):
    _, late = both.submitted("late-ent", serial=1)
    _, on_time = both.submitted("prompt-ent", serial=2)
    provider = both.review(people["provider"])
    provider.provider_answer(on_time, all_confirmed())
    both.clock.set(datetime(2018, 12, 10, 0, 1, tzinfo=SHANGHAI))  # past the provider's date (12-09)
    assert check_deadlines(both.store) == 1
    both.sync()
    province = people["province"]
    assert listed(province, review_overdue=True) == [late]
    assert listed(province, review_overdue=False) == [on_time]
    assert review_of(province.get_application(late)) == (1, "provider", "open", True)
    provider.provider_answer(late, all_confirmed())
    both.sync()
    assert review_of(province.get_application(late)) == (1, "county", "open", False)
    assert listed(province, review_overdue=True) == []


def test_the_review_outcome_survives_a_rebuild_and_a_replay_of_the_review_log(both, people):
    _, app_id = both.submitted()
    r = {k: both.review(v) for k, v in people.items()}
    r["provider"].provider_answer(app_id, all_confirmed())
    r["county"].county_review(app_id, checklist_all_match(r["county"].get_case(app_id)))
    r["city"].city_review(app_id, {"decision": "recommend", "opinion": "同意推荐"})
    both.sync()
    province = people["province"]
    before = province.list_applications({})

    # The application's own read models come from its own log; the review columns are not in it.
    rebuild_read_models(both.app.store, APPLICATION.projections)
    assert province.list_applications({}) == before
    # Every review event delivered again (an operator resetting the tracked position) changes nothing.
    for envelope in log_page(both.store, review_contract, 0, 1000)["notifications"]:
        change = on_review_event(both.app.store, envelope)
        if change is not None:
            record(both.app.store, change)
    assert province.list_applications({}) == before
    assert province.list_applications({})["items"][0]["review_status"] == "recommended"


def test_the_review_outcome_is_seen_only_inside_the_jurisdiction(both, people):
    ent, app_id = both.submitted()
    for name in ("other_county", "other_city", "other_provider"):
        assert people[name].list_applications({"review_status": "open"})["total"] == 0
        assert people[name].list_applications({"uscc": b.uscc("130102", 1)})["total"] == 0
        with pytest.raises(NotFound):
            people[name].get_application(app_id)
    for name in ("county", "city", "provider", "auditor", "province"):
        assert listed(people[name], review_status="open") == [app_id]
    other = both.app.enterprise("other-ent", serial=9)
    assert other.my_applications() == []
    with pytest.raises(NotFound):
        other.get_application(app_id)
    with pytest.raises(Forbidden):
        ent.list_applications({"review_status": "open"})


def test_a_county_finds_an_enterprise_among_its_own_applications_by_name_or_credit_code(both, people):
    _, app_id = both.submitted()
    county = people["county"]
    assert listed(county, enterprise_name="钢结构") == [app_id]
    assert listed(county, uscc=b.uscc("130102", 1).lower()) == [app_id]
    assert listed(county, enterprise_name="%") == []  # wildcards are plain characters
    assert listed(people["other_county"], enterprise_name="钢结构") == []
    with pytest.raises(InvalidInput) as e:
        county.list_applications({"review_status": "approved", "review_stage": "expert", "county_code": "x",
                                  "enterprise_name": "a\x00b", "page": 2**63, "uscc": "91130102000000001X"})
    assert set(e.value.details["fields"]) == {"review_status", "review_stage", "county_code", "enterprise_name",
                                              "page", "uscc"}


# ------------------------------------------------------------------ campaigns
def test_anyone_lists_the_campaigns_with_their_dates_and_whether_they_are_open_now(h):
    campaigns = h.anonymous.list_campaigns()
    assert [(c["code"], c["year"], c["phase"], c["open"]) for c in campaigns] == [("2018", 2018, "submissions", True)]
    c = campaigns[0]
    assert c["name"] == "2018年河北省企业上云标杆企业评选" and c["document"] == "冀工信两化〔2018〕524号"
    assert (c["opens_on"], c["submission_deadline"], c["system_close"]) == ("2018-11-28", "2018-12-07", "2018-12-15")
    assert {"provider_deadline", "county_deadline", "city_deadline", "reference_date", "campaign_id", "opened_at"} <= c.keys()

    for instant, phase in ((datetime(2018, 11, 27, 23, 59, tzinfo=SHANGHAI), "upcoming"),
                           (datetime(2018, 11, 28, 0, 0, tzinfo=SHANGHAI), "submissions"),
                           (datetime(2018, 12, 8, 0, 0, tzinfo=SHANGHAI), "review"),
                           (datetime(2018, 12, 15, 23, 59, tzinfo=SHANGHAI), "review"),
                           (datetime(2018, 12, 16, 0, 0, tzinfo=SHANGHAI), "closed")):
        h.clock.set(instant)
        assert [(x["phase"], x["open"]) for x in h.anonymous.list_campaigns()] == [(phase, phase == "submissions")], instant

    h.clock.set(datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI))
    later = b.campaign_2018() | {"code": "2019", "name": "2019年评选", "opens_on": "2019-11-01",
                                 "submission_deadline": "2019-11-30", "provider_deadline": "2019-12-05",
                                 "county_deadline": "2019-12-08", "city_deadline": "2019-12-10",
                                 "system_close": "2019-12-15", "expert_review_deadline": "2019-12-20"}
    h.province.open_campaign(later)
    assert [(c["code"], c["phase"]) for c in h.anonymous.list_campaigns()] == [("2019", "upcoming"), ("2018", "submissions")]
    with pytest.raises(InvalidInput):
        h.anonymous.list_campaigns("2018")


# ------------------------------------------------------------------ the enterprise directory
def test_the_province_and_auditors_find_an_enterprise_by_credit_code_name_or_division(h):
    h.enterprise("steelworks", serial=1, name="石家庄某钢结构有限公司")
    h.enterprise("glassworks", serial=2, name="石家庄Glass玻璃有限公司")
    h.enterprise("tangshan-steel", serial=3, region="130202", county="130202", name="唐山某钢铁集团有限公司")
    auditor = h.provision("audit-1", "auditor")
    for session in (h.province, auditor):
        found = session.find_enterprises({"uscc": b.uscc("130102", 2).lower()})
        assert found["total"] == 1
        item = found["items"][0]
        assert (item["name"], item["uscc"], item["county_code"], item["username"], item["active"]) == (
            "石家庄Glass玻璃有限公司", b.uscc("130102", 2), "130102", "glassworks", True)
        assert item["enterprise_id"] and item["account_id"] and item["registered_at"]
        assert {i["username"] for i in session.find_enterprises({"name": "钢"})["items"]} == {"steelworks", "tangshan-steel"}
        assert [i["username"] for i in session.find_enterprises({"name": "glass"})["items"]] == ["glassworks"]
        assert [i["username"] for i in session.find_enterprises({"name": "钢", "division_code": "130200"})["items"]] == ["tangshan-steel"]
        assert session.find_enterprises({"division_code": "130102"})["total"] == 2
        assert session.find_enterprises({"name": "%"})["total"] == 0  # not a wildcard
        everyone = session.find_enterprises({"page_size": 2})
        assert (everyone["total"], len(everyone["items"]), everyone["page"]) == (3, 2, 1)
        assert len(session.find_enterprises({"page_size": 2, "page": 2})["items"]) == 1
        assert session.find_enterprises({"page": 9})["items"] == []


def test_bureaus_providers_enterprises_and_strangers_learn_nothing_from_the_directory(h):
    ent = h.enterprise("steelworks")
    outsiders = [ent, h.provision("changan", "county", division_code="130102"),
                 h.provision("sjz-city", "city", division_code="130100"),
                 h.provision("cloudco", "provider", provider_id="hbcloud-provider"),
                 h.provision("expert-1", "expert"), h.provision("finance-1", "finance")]
    for session in outsiders:
        with pytest.raises(Forbidden):
            session.find_enterprises({"uscc": b.uscc("130102", 1)})
    with pytest.raises(NotAuthenticated):
        h.anonymous.find_enterprises({"name": "钢"})


def test_directory_input_is_checked_field_by_field(h):
    with pytest.raises(InvalidInput) as e:
        h.province.find_enterprises({"uscc": "91130102000000001X", "name": "x" * 101, "division_code": "13",
                                     "page": 0, "page_size": 201, "extra": 1})
    assert set(e.value.details["fields"]) == {"uscc", "name", "division_code", "page", "page_size", "extra"}
    for bad in ({"name": ""}, {"name": "a\x00"}, {"name": "\ud800"}, {"page": True}, {"page": 2**63},
                {"page": "2"}, {"name": ["钢"]}):
        with pytest.raises(InvalidInput):
            h.province.find_enterprises(bad)


# ------------------------------------------------------------------ the account list
def test_the_province_pages_accounts_by_role_and_division(h):
    for username, division in (("changan", "130102"), ("qiaoxi", "130104"), ("luquan", "130110"),
                               ("caofeidian", "130209")):
        h.provision(username, "county", division_code=division)
    h.provision("sjz-city", "city", division_code="130100")
    h.provision("dingzhou", "city", division_code="130682")  # 定州: one bureau for both steps
    h.provision("expert-1", "expert")

    everyone = h.province.list_accounts()
    assert everyone["total"] == 8 and everyone["page"] == 1 and everyone["page_size"] == 100
    counties = h.province.list_accounts("county", page_size=3)
    assert counties["total"] == 4 and [a["username"] for a in counties["items"]] == ["caofeidian", "changan", "luquan"]
    assert [a["username"] for a in h.province.list_accounts("county", page=2, page_size=3)["items"]] == ["qiaoxi"]
    shijiazhuang = h.province.list_accounts(division_code="130100")
    assert [(a["role"], a["username"]) for a in shijiazhuang["items"]] == [
        ("city", "sjz-city"), ("county", "changan"), ("county", "luquan"), ("county", "qiaoxi")]
    assert [a["username"] for a in h.province.list_accounts("county", "130100")["items"]] == ["changan", "luquan", "qiaoxi"]
    assert [a["username"] for a in h.province.list_accounts(division_code="130102")["items"]] == ["changan"]
    assert [a["username"] for a in h.province.list_accounts(division_code="130682")["items"]] == ["dingzhou"]
    item = shijiazhuang["items"][0]
    assert set(item) == {"account_id", "username", "role", "display_name", "division_code", "provider_id", "active"}

    with pytest.raises(InvalidInput) as e:
        h.province.list_accounts(["county"], "13010", 2**63, 0)
    assert set(e.value.details["fields"]) == {"role", "division_code", "page", "page_size"}
    county = h.login("changan", "changan-Own-pass-2018")
    for session in (county, h.provision("audit-1", "auditor"), h.enterprise("steelworks")):
        with pytest.raises(Forbidden):
            session.list_accounts(division_code="130102")
