"""The subsidy service passes the service contract."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.subsidy.definition import DEFINITION
from shared.pipeline import Pipeline
from tests.contract.service_contract import FuzzedContract
from tests.support.subsidy_inprocess import PAYEE, Four, invoices_for


class TestSubsidyContract(FuzzedContract):
    definition = DEFINITION

    @pytest.fixture
    def running(self, tmp_path: Path, clock: Any) -> Pipeline[Any]:
        four = Four(tmp_path, clock)
        paid, revoked = four.awarded(2)
        four.enterprise(1).give_filing_details(paid, {"payee": PAYEE, "invoices": invoices_for(["c2018"])})
        four.app.login("changan", "changan-Own-pass-2018").on(four.subsidy).stamp(paid, {})
        four.app.login("sjz-city", "sjz-city-Own-pass-2018").on(four.subsidy).stamp(paid, {})
        four.province_subsidy.file_case(paid, {})
        four.province_subsidy.calculate(paid)
        four.finance.approve(paid, {"amount": "18000.00"})
        four.finance.record_payment(paid, {"paid_on": "2019-03-01", "amount": "18000.00", "voucher_reference": "PAY-1"})
        four.revoke(revoked)
        return four.subsidy
