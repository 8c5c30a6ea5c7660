"""The audit service with the other four, as processes on the real broker: a spot check finds fraud
in an awarded, paid enterprise and the title, the ban, the pool and the reclaim all follow; the
replay of that application shows its whole life from draft to reclaim; the ledger verifies and
reconciles, and tampering with a service's store or with the ledger is reported and located."""
from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from shared.clock import SHANGHAI, FixedClock
from shared.errors import Forbidden, Ineligible
from tests.support.audit_inprocess import Five, campaign_2019
from tests.support.system import PROVINCE, TOKEN_SECRET, System, wait_until


def test_a_spot_check_finds_fraud_and_its_four_consequences_follow_over_the_broker(tmp_path, amqp_uri):
    system = System(tmp_path, amqp_uri)
    data = tmp_path / "data"
    data.mkdir()
    five = Five(data, FixedClock(datetime(2018, 12, 3, 10, 0, tzinfo=SHANGHAI)), secret=TOKEN_SECRET)
    app_id, other_id = five.awarded(2)
    paid = five.paid(app_id)
    _, inspector_id = five.inspector()
    auditor_login = ("auditor1", "auditor1-Own-pass-2018")
    five.close()
    system.clock_file.write_text("2019-06-01T09:00:00+08:00")
    try:
        for name in ("application", "review", "scoring", "subsidy", "audit"):
            system.start_service(name)
        province = system.login(*PROVINCE)
        inspector = system.login("inspector1", "inspector1-Own-pass-2018")
        auditor = system.login(*auditor_login)

        with system.rpc(province) as c:
            check = c.audit.draw_spot_check({"campaign_code": "2018", "size": 2, "inspectors": [inspector_id]}, idempotency_key="draw-1")
            assert sorted(s["application_id"] for s in check["sample"]) == sorted([app_id, other_id])
        with system.rpc(inspector) as c:
            finding = c.audit.record_finding(check["spot_check_id"], app_id, {
                "outcome": "fraud_suspected", "summary": "云服务合同系事后补签"}, idempotency_key="finding-1")
        with system.rpc(auditor) as c:
            with pytest.raises(Forbidden):  # auditors read, the province decides
                c.audit.decide_fraud({"application_id": app_id, "outcome": "fraud", "reasons": ["伪造合同"],
                                      "grounds": {"kind": "report", "reference": "举报"}}, idempotency_key="x")
        with system.rpc(province) as c:
            decision = c.audit.decide_fraud({"application_id": app_id, "outcome": "fraud", "reasons": ["上云合同系伪造"],
                                             "grounds": {"kind": "spot_check", "reference": check["spot_check_id"]},
                                             "findings": [finding["finding_id"]]}, idempotency_key="decision-1")
        assert decision["consequences"]["ban"] == {"starts_on": "2019-06-01", "ends_on": "2022-05-31"}

        last: dict = {}

        def consequences() -> dict | None:
            with system.rpc(province) as c:
                case = c.subsidy.get_subsidy_case(app_id)
                bans = c.application.bans_of("9113010200000001XK")
                pool = [m["provider_id"] for m in c.application.supply_pool({})["members"]]
                replay = c.audit.replay_application(app_id, {})
            kinds = [s["type"] for s in replay["timeline"]]
            last.update(status=case["status"], bans=bans, pool=pool, kinds=kinds[-12:])
            # consequences in other services arrive in the ledger in no fixed order among themselves
            done = (case["status"] == "reclaiming" and bans and "hbcloud-provider" not in pool
                    and {"scoring.award_revoked", "subsidy.reclaim_opened", "application.ban_recorded",
                         "application.provider_removed_from_pool"} <= set(kinds))
            return {"case": case, "bans": bans, "kinds": kinds} if done else None

        seen = wait_until(consequences, timeout=90, what="the four consequences of the decision",
                          context=lambda: f"last seen: {last}\n{system.diagnosis()}")
        assert seen["case"]["reclaim"]["amount"] == paid
        assert seen["bans"][0]["ends_on"] == "2022-05-31" and seen["bans"][0]["source"] == "audit"
        assert seen["kinds"][0] == "application.started"
        assert (seen["kinds"].index("audit.fraud_found") < seen["kinds"].index("scoring.award_revoked")
                < seen["kinds"].index("subsidy.reclaim_opened"))  # each effect after its cause
        for kind in ("application.submitted", "review.county_passed", "scoring.awarded", "subsidy.paid",
                     "audit.fraud_found", "application.ban_recorded", "application.provider_removed_from_pool"):
            assert kind in seen["kinds"]
        with system.rpc(province) as c:
            c.application.open_campaign(campaign_2019())
        with system.rpc(system.login("enterprise-001", "Secret-pass-1")) as c:  # the ban refuses a new submission
            started = c.application.start_application("2019")["application_id"]
            with pytest.raises(Ineligible) as refused:
                c.application.submit(started)
            assert "not_banned" in {rule["rule"] for rule in refused.value.details["rules"]}

        def verified() -> dict | None:
            with system.rpc(auditor) as c:
                ledger, reconciled = c.audit.verify_ledger(), c.audit.reconcile()
            return ledger if ledger["ok"] and reconciled["ok"] and all(
                r["tracked"] == r["source_head"] for r in reconciled["sources"].values()) else None
        ledger = wait_until(verified, timeout=60, what="the ledger to verify and reconcile", context=system.logs)
        assert ledger["entries"] > 100

        # tampering, in the running system: a payment's amount at the subsidy service, an entry of the ledger
        db = sqlite3.connect(data / "subsidy.sqlite")
        position = db.execute("SELECT id FROM subsidy_events WHERE topic LIKE '%SubsidyCase.Paid'").fetchone()[0]
        db.execute("UPDATE subsidy_events SET state = CAST(replace(CAST(state AS TEXT), ?, ?) AS BLOB) WHERE id = ?",
                   (f'"{paid}"', '"1.00"', position))
        db.commit()
        db.close()
        db = sqlite3.connect(data / "audit.sqlite")
        seq = db.execute("SELECT seq FROM audit_ledger WHERE type = 'scoring.awarded' ORDER BY seq").fetchone()[0]
        db.execute("UPDATE audit_ledger SET canonical = replace(canonical, '石家庄', '沧州') WHERE seq = ?", (seq,))
        db.commit()
        db.close()
        with system.rpc(auditor) as c:
            report = c.audit.reconcile("subsidy")["sources"]["subsidy"]
            assert [d["position"] for d in report["different"]] == [position]
            assert c.audit.verify_ledger()["first_mismatch"]["seq"] == seq
    finally:
        system.close()
