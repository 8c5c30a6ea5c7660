"""The subsidy service with the other services, as processes on the real broker: an announced benchmark
enterprise (made in-process on the stores the services then open) prints its dossier, a county
verifies a paper copy, the bureaus stamp, the province files and calculates, finance approves and
pays; a later revocation of the award, published by the scoring service, opens a reclaim."""
from __future__ import annotations

import base64
from datetime import datetime

import pytest

from services.scoring.store import ScoringStore
from shared.clock import SHANGHAI, FixedClock
from shared.errors import Forbidden
from tests.support.subsidy_inprocess import PAYEE, Four, invoices_for, revoke_award
from tests.support.system import PROVINCE, TOKEN_SECRET, System, wait_until


def test_an_announced_enterprise_is_filed_paid_and_a_revocation_opens_a_reclaim_over_the_broker(tmp_path, amqp_uri):
    system = System(tmp_path, amqp_uri)  # the province account comes from the in-process preparation
    data = tmp_path / "data"
    data.mkdir()
    four = Four(data, FixedClock(datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI)), secret=TOKEN_SECRET)
    app_id = four.awarded(1)[0]
    four.close()
    system.clock_file.write_text("2019-01-10T09:00:00+08:00")
    try:
        for name in ("application", "review", "scoring", "subsidy"):
            system.start_service(name)
        enterprise = system.login("enterprise-001", "Secret-pass-1")
        county = system.login("changan", "changan-Own-pass-2018")
        city = system.login("sjz-city", "sjz-city-Own-pass-2018")
        finance = system.login("finance1", "finance1-Own-pass-2018")
        province = system.login(*PROVINCE)

        with system.rpc(enterprise) as c:
            printed = c.subsidy.print_dossier(app_id)
            assert base64.b64decode(printed["content_base64"]).startswith(b"%PDF")
            c.subsidy.give_filing_details(app_id, {"payee": PAYEE, "invoices": invoices_for(["c2018"])})
        with system.rpc(county) as c:
            claim = {"application_id": app_id, "position": printed["position"], "digest": printed["digest"]}
            assert c.subsidy.verify_dossier(claim)["matches"] is True
            c.subsidy.stamp(app_id, {"remarks": "材料属实，已盖章"})
            with pytest.raises(Forbidden):  # finance alone records payments
                c.subsidy.record_payment(app_id, {"paid_on": "2019-03-01", "amount": "18000.00", "voucher_reference": "X"})
        with system.rpc(city) as c:
            c.subsidy.stamp(app_id, {"remarks": "同意报送"})
        with system.rpc(province) as c:
            c.subsidy.file_case(app_id, {"remarks": "已备案"})
            assert c.subsidy.calculate(app_id)["calculation"]["amount"] == "18000.00"
        with system.rpc(finance) as c:
            c.subsidy.approve(app_id, {"amount": "18000.00"})
            c.subsidy.record_payment(app_id, {"paid_on": "2019-03-01", "amount": "18000.00", "voucher_reference": "GK-1"})
            assert c.subsidy.get_subsidy_case(app_id)["payee"]["account"] == PAYEE["account"]

        # The subsidy service's own reaction to a revocation published by the scoring service, recorded
        # here on the scoring store (tests/integration/test_audit_over_rpc.py takes the whole path from
        # the audit service's decision).
        scoring = ScoringStore(system.settings().store_url("scoring"), FixedClock(datetime(2019, 6, 1, tzinfo=SHANGHAI)))
        revoke_award(scoring, app_id)
        scoring.close()

        def reclaiming() -> dict | None:
            with system.rpc(finance) as c:
                case = c.subsidy.get_subsidy_case(app_id)
            return case if case["status"] == "reclaiming" else None
        case = wait_until(reclaiming, timeout=60, what="the revocation to open a reclaim", context=system.logs)
        assert case["reclaim"]["amount"] == "18000.00"
        with system.rpc(province) as c:
            assert c.subsidy.get_subsidy_case(app_id)["payee"]["account"].endswith(PAYEE["account"][-4:])
            assert PAYEE["account"] not in str(c.subsidy.get_subsidy_case(app_id))
    finally:
        system.close()
