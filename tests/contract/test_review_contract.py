"""The review service passes the service contract."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.review.definition import DEFINITION
from shared.pipeline import Pipeline
from tests.contract.service_contract import FuzzedContract
from tests.support.review_inprocess import Both, all_confirmed


class TestReviewContract(FuzzedContract):
    definition = DEFINITION

    @pytest.fixture
    def running(self, tmp_path: Path, clock: Any) -> Pipeline[Any]:
        both = Both(tmp_path, clock)
        provider = both.review(both.app.provision("cloudco", "provider", provider_id="hbcloud-provider"))
        for serial in (1, 2, 3):
            _, app_id = both.submitted(f"enterprise-{serial}", serial=serial)
            provider.provider_answer(app_id, all_confirmed())
        return both.service
