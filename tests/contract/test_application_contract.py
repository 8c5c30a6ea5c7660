"""The application service passes the service contract."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.application.definition import DEFINITION
from shared.pipeline import Pipeline
from tests.contract.service_contract import FuzzedContract
from tests.support.builders import fill_complete, uscc
from tests.support.inprocess import Harness


class TestApplicationContract(FuzzedContract):
    definition = DEFINITION

    @pytest.fixture
    def running(self, tmp_path: Path, clock: Any) -> Pipeline[Any]:
        h = Harness(f"sqlite:///{tmp_path / 'application.sqlite'}", clock)
        h.open_2018()
        ent = h.enterprise("steelworks")
        app_id = ent.start_application("2018")["application_id"]
        fill_complete(ent, app_id)
        ent.submit(app_id)
        h.province.record_ban({"uscc": uscc("130102", 77), "reason": "弄虚作假", "starts_on": "2018-12-01"})
        return h.service
