"""The scoring service passes the service contract."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.scoring.definition import DEFINITION
from shared.pipeline import Pipeline
from tests.contract.service_contract import FuzzedContract
from tests.support.scoring_inprocess import Three, sheet


class TestScoringContract(FuzzedContract):
    definition = DEFINITION

    @pytest.fixture
    def running(self, tmp_path: Path, clock: Any) -> Pipeline[Any]:
        three = Three(tmp_path, clock)
        apps = three.recommended(2)
        experts = [three.evaluator(f"expert{i}") for i in range(3)]
        three.province.draw_evaluators({"campaign_code": "2018", "seed": "contract"})
        for app_id in apps:
            for expert in experts:
                expert.save_sheet(app_id, sheet(30))
        ranking = three.province.rank_candidates("2018")
        three.province.adopt_list({"campaign_code": "2018", "ranking_id": ranking["ranking_id"]})
        three.province.publish_notice("2018")
        three.scoring_anonymous().lodge_objection({"campaign_code": "2018", "application_id": apps[0], "name": "王五",
                                                   "contact": "13800000000", "grounds": "合同金额与实际不符"})
        return three.scoring
