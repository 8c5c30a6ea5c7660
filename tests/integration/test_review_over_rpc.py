"""The review service with the application service, as processes on the real broker: an application
submitted by an enterprise is confirmed by its provider, returned by its county, corrected and
resubmitted, then passed and recommended, each step by a correctly scoped account."""
from __future__ import annotations

import functools

import pytest

from shared.errors import Conflict, Forbidden, NotFound
from tests.support import builders as b
from tests.support.review_inprocess import all_confirmed, checklist_all_match
from tests.support.system import wait_until


def provision(system, province: str, username: str, role: str, **extra: str) -> tuple[str, str]:
    with system.rpc(province) as c:
        password = c.application.provision_account({"username": username, "role": role, "display_name": username,
                                                    **extra})["initial_password"]
    return system.first_sign_in(username, password)


def test_submitted_confirmed_returned_resubmitted_and_recommended_over_the_broker(system):
    system.start_service("application")
    system.start_service("review")
    province = system.province_token()
    system.open_2018(province)
    system.register("steelworks")
    accounts = {"provider": provision(system, province, "cloudco", "provider", provider_id="hbcloud-provider"),
                "county": provision(system, province, "changan", "county", division_code="130102"),
                "other_county": provision(system, province, "qiaoxi", "county", division_code="130104"),
                "city": provision(system, province, "sjz-city", "city", division_code="130100"),
                "enterprise": ("steelworks", "Secret-pass-1")}

    def signed_in() -> tuple[str, ...]:
        return tuple(system.login(*accounts[k]) for k in ("provider", "county", "other_county", "city", "enterprise"))

    provider, county, other_county, city, enterprise = signed_in()

    with system.rpc(enterprise) as c:
        app_id = c.application.start_application("2018")["application_id"]
        b.fill_complete(c.application, app_id)
        c.application.submit(app_id)

    def case_is(token: str, **expected):
        def check():
            with system.rpc(token) as c:
                try:
                    case = c.review.get_case(app_id)
                except NotFound:
                    return None
            return case if all(case[k] == v for k, v in expected.items()) else None
        return wait_until(check, timeout=45, what=f"the case to reach {expected}", context=system.logs)

    case_is(provider, stage="provider", round=1)
    with system.rpc(provider) as c:
        c.review.provider_answer(app_id, all_confirmed())
    case = case_is(county, stage="county")
    with system.rpc(other_county) as c:
        with pytest.raises(NotFound):
            c.review.county_review(app_id, checklist_all_match(case))
    with system.rpc(city) as c:
        with pytest.raises(Forbidden):
            c.review.county_review(app_id, checklist_all_match(case))
    with system.rpc(county) as c:
        returned = checklist_all_match(case) | {"decision": "return", "reasons": ["发票复印件不清晰"]}
        c.review.county_review(app_id, returned)

    def application_returned():
        with system.rpc(enterprise) as c:
            return c.application.get_application(app_id)["status"] == "returned"
    wait_until(application_returned, timeout=45, what="the application to be returned to the enterprise",
               context=system.logs)

    system.clock_file.write_text("2018-12-10T09:00:00+08:00")  # past the submission date, before the close
    provider, county, other_county, city, enterprise = signed_in()  # a week later: sign in again
    with system.rpc(enterprise) as c:
        c.application.update_section(app_id, "enterprise", {"profile": "补充了清晰的发票"})
        assert c.application.submit(app_id)["round"] == 2
    case_is(provider, stage="provider", round=2)
    with system.rpc(provider) as c:
        # Past the provider deadline: the service's deadline scan flags round 2 overdue within a second
        # of its opening, and an answer recorded at that moment meets `conflict` (changed
        # concurrently). A portal reloads and retries, with its key, as the docs say.
        answer = functools.partial(c.review.provider_answer, app_id, all_confirmed(), idempotency_key="round-2-provider")
        answered = wait_until(lambda: _unless_conflict(answer), timeout=15, what="the provider's answer in round 2")
        assert answered["round"] == 2 and answered["stage"] == "county"
    case = case_is(county, stage="county", round=2)
    with system.rpc(county) as c:
        c.review.county_review(app_id, checklist_all_match(case))
    case_is(city, stage="city")
    with system.rpc(city) as c:
        c.review.city_review(app_id, {"decision": "recommend", "opinion": "上云成效显著，同意推荐"})
        assert c.review.worklist({"view": "done"})["total"] == 1
    recommended = case_is(city, status="recommended")
    assert recommended["content"]["enterprise"]["profile"] == "补充了清晰的发票"

    with system.rpc(system.province_token()) as c:
        app_health = c.application.health()
        review_health = wait_until(lambda: (h := c.review.health())["published_position"] == h["max_position"] and h,
                                   what="the review service to publish all its events", context=system.logs)
        assert review_health["tracked"]["application"] <= app_health["max_position"]
        assert review_health["parked"] == 0 and app_health["tracked"]["review"] >= 1
    with system.rpc(enterprise) as c:
        with pytest.raises(Forbidden):
            c.review.health()


def test_deadlines_fire_from_the_clock_in_the_running_service_and_survive_a_restart(system):
    system.start_service("application")
    review = system.start_service("review")
    province = system.province_token()
    system.open_2018(province)
    system.register("steelworks")
    with system.rpc(system.login("steelworks", "Secret-pass-1")) as c:
        app_id = c.application.start_application("2018")["application_id"]
        b.fill_complete(c.application, app_id)
        c.application.submit(app_id)

    def case() -> dict | None:
        with system.rpc(system.province_token()) as c:
            try:
                return c.review.get_case(app_id)
            except NotFound:
                return None

    wait_until(lambda: (found := case()) and found["stage"] == "provider", timeout=45,
               what="the case to reach the provider stage", context=system.logs)
    system.stop(review)  # the review service is down when the provider's date passes
    system.clock_file.write_text("2018-12-10T08:00:00+08:00")
    system.start_service("review")
    wait_until(lambda: case()["overdue_stages"] == ["provider"], timeout=45,
               what="the restarted review service to mark the provider stage overdue", context=system.logs)
    with system.rpc(system.province_token()) as c:
        assert [i["application_id"] for i in c.review.worklist({"view": "overdue"})["items"]] == [app_id]
    system.clock_file.write_text("2018-12-16T00:00:01+08:00")
    wait_until(lambda: case()["status"] == "lapsed", timeout=45, what="the case to lapse", context=system.logs)


def _unless_conflict(call):
    """The call's answer, or None when it met `conflict` (someone, here the deadline scan, changed the record)."""
    try:
        return call()
    except Conflict:
        return None

