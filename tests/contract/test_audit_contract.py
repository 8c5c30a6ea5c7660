"""The audit service passes the service contract."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from services.audit.definition import DEFINITION
from shared.clock import SHANGHAI
from shared.pipeline import Pipeline
from tests.contract.service_contract import FuzzedContract
from tests.support.audit_inprocess import Five


class TestAuditContract(FuzzedContract):
    definition = DEFINITION

    @pytest.fixture
    def running(self, tmp_path: Path, clock: Any) -> Pipeline[Any]:
        five = Five(tmp_path, clock, checkpoint_interval=8)
        apps = five.awarded(2)
        inspector, inspector_id = five.inspector()
        check = five.province_audit.draw_spot_check({"campaign_code": "2018", "size": 2, "inspectors": [inspector_id]},
                                                    idempotency_key="draw")
        finding = inspector.record_finding(check["spot_check_id"], apps[0],
                                           {"outcome": "fraud_suspected", "summary": "合同不实"}, idempotency_key="f")
        clock.set(datetime(2019, 6, 1, 9, 0, tzinfo=SHANGHAI))
        five.province_audit.decide_fraud({"application_id": apps[0], "outcome": "fraud", "reasons": ["合同伪造"],
                                          "grounds": {"kind": "spot_check", "reference": check["spot_check_id"]},
                                          "findings": [finding["finding_id"]]}, idempotency_key="d1")
        five.province_audit.decide_fraud({"application_id": apps[1], "outcome": "no_fraud", "reasons": ["核查属实"],
                                          "grounds": {"kind": "report", "reference": "群众举报"}}, idempotency_key="d2")
        five.sync()
        return five.audit
