"""The scoring service with the application and review services, as processes on the real broker:
two cities' recommendations flow into a seeded draw, score sheets, a ranking, the department's
decision, a public notice with one upheld and one dismissed objection, and an announced list with
its export; a subscriber of its own receives the awards."""
from __future__ import annotations

import base64
import io

import pytest
from openpyxl import load_workbook

from shared.errors import Forbidden, NotFound
from tests.support import builders as b
from tests.support.review_inprocess import all_confirmed, checklist_all_match
from tests.support.scoring_inprocess import sheet
from tests.support.system import body, captured_events, wait_until


def provision(system, province: str, username: str, role: str, **extra: str) -> str:
    with system.rpc(province) as c:
        password = c.application.provision_account({"username": username, "role": role, "display_name": username,
                                                    **extra})["initial_password"]
    return system.login(*system.first_sign_in(username, password))


def test_recommendations_become_an_announced_list_over_the_broker(system):
    for name in ("application", "review", "scoring"):
        system.start_service(name)
    province = system.province_token()
    system.open_2018(province)
    provider = provision(system, province, "cloudco", "provider", provider_id="hbcloud-provider")
    county = provision(system, province, "changan", "county", division_code="130102")
    city = provision(system, province, "sjz-city", "city", division_code="130100")
    experts = [provision(system, province, f"expert-{i}", "expert") for i in range(3)]
    apps = []
    for serial in (1, 2):
        system.register(f"enterprise-{serial}", serial=serial, name=f"石家庄某企业{serial}有限公司")
        with system.rpc(system.login(f"enterprise-{serial}", "Secret-pass-1")) as c:
            app_id = c.application.start_application("2018")["application_id"]
            b.fill_complete(c.application, app_id)
            c.application.submit(app_id)
        apps.append(app_id)

    def case_at(token: str, app_id: str, stage: str) -> dict:
        def check() -> dict | None:
            with system.rpc(token) as c:
                try:
                    case = c.review.get_case(app_id)
                except NotFound:
                    return None
            return case if case["stage"] == stage and case["status"] == "open" else None
        return wait_until(check, timeout=45, what=f"{app_id} at the {stage} step", context=system.logs)

    for app_id in apps:
        case_at(provider, app_id, "provider")
        with system.rpc(provider) as c:
            c.review.provider_answer(app_id, all_confirmed())
        case = case_at(county, app_id, "county")
        with system.rpc(county) as c:
            c.review.county_review(app_id, checklist_all_match(case))
        case_at(city, app_id, "city")
        with system.rpc(city) as c:
            c.review.city_review(app_id, {"decision": "recommend", "opinion": "上云成效显著，同意推荐"})
    for i, token in enumerate(experts):
        with system.rpc(token) as c:
            c.scoring.declare_interests({"kind": "expert", "employers": [b.uscc("130100", 700 + i)]})

    def scoring_ready() -> bool:
        with system.rpc(province) as c:
            return (c.scoring.scoring_progress("2018")["candidates"] == 2
                    and sum(e["declaration_current"] for e in c.scoring.list_evaluators("2018")["items"]) == 3)
    wait_until(scoring_ready, timeout=60, what="scoring to hold both recommendations and three evaluators",
               context=system.logs)

    with captured_events(system.amqp_uri, source="scoring") as events:
        system.clock_file.write_text("2018-12-14T09:00:00+08:00")
        province = system.province_token()
        experts = [system.login(f"expert-{i}", f"expert-{i}-Own-pass-2018") for i in range(3)]
        with system.rpc(province) as c:
            drawn = c.scoring.draw_evaluators({"campaign_code": "2018", "unit_code": "130100"})
        assert all(len(v) == 3 for v in drawn["assignments"].values())
        for results, app_id in zip((36, 28), apps):
            for token in experts:
                with system.rpc(token) as c:
                    c.scoring.save_sheet(app_id, sheet(results))
        with system.rpc(province) as c:
            ranking = c.scoring.rank_candidates("2018")
            assert [row["application_id"] for row in ranking["rows"]] == apps
            c.scoring.adopt_list({"campaign_code": "2018", "ranking_id": ranking["ranking_id"]})
        system.clock_file.write_text("2018-12-20T09:00:00+08:00")
        province = system.province_token()
        with system.rpc(province) as c:
            c.scoring.publish_notice("2018")
        with system.rpc() as public:  # no account: anyone may object
            upheld = public.scoring.lodge_objection({"campaign_code": "2018", "application_id": apps[1], "name": "王五",
                                                     "contact": "13800000000", "grounds": "该企业上云合同金额与实际不符"})
            dismissed = public.scoring.lodge_objection({"campaign_code": "2018", "application_id": apps[0],
                                                        "name": "赵六", "contact": "zhao@example.cn",
                                                        "grounds": "该企业并非本地工业企业"})
        with system.rpc(province) as c:
            c.scoring.decide_objection(upheld["objection_id"], {"outcome": "upheld", "reasons": ["经核实合同金额不实"]})
            c.scoring.decide_objection(dismissed["objection_id"], {"outcome": "dismissed", "reasons": ["经核实系本地工业企业"]})
        system.clock_file.write_text("2018-12-27T09:00:00+08:00")
        province = system.province_token()
        with system.rpc(province) as c:
            assert c.scoring.announce({"campaign_code": "2018", "document_number": "冀工信两化〔2018〕600号"})["awarded"] == [apps[0]]
            export = c.scoring.export_list({"campaign_code": "2018", "list": "announced"})
        with system.rpc() as public:
            assert [e["application_id"] for e in public.scoring.announced_list("2018")["entries"]] == [apps[0]]
        rows = list(load_workbook(io.BytesIO(base64.b64decode(export["content_base64"]))).active.iter_rows(values_only=True))
        assert rows[2][1] == apps[0] and f"position {export['position']}" in rows[0][0]

        events.drain(until=lambda got: any(body(m)["type"] == "scoring.awarded" for m in got),
                     what="the award on the scoring exchange", context=system.logs)
        assert not events.quiet(1.0)  # one award: the upheld objection took the other enterprise off
        awards = [body(m) for m in events.received if body(m)["type"] == "scoring.awarded"]
        assert [a["application_id"] for a in awards] == [apps[0]]
        lodged = [body(m) for m in events.received if body(m)["type"] == "scoring.objection_lodged"]
        assert len(lodged) == 2 and all("contact" not in e["data"] and "name" not in e["data"] for e in lodged)
    with system.rpc(system.login("expert-0", "expert-0-Own-pass-2018")) as c:
        with pytest.raises(Forbidden):  # only the province announces
            c.scoring.announce({"campaign_code": "2018", "document_number": "x号"})
