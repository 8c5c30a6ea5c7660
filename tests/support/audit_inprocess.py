"""Five services in-process (no broker): the audit service follows all five logs (its own included),
the application service follows audit's bans and disqualifications, the scoring service follows
audit's fraud decisions, so a decision's four consequences are tested on the real envelopes."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from services.application.definition import DEFINITION as APPLICATION
from services.application.events import contract as application_contract
from services.audit.definition import DEFINITION as AUDIT
from services.audit.events import contract as audit_contract
from services.audit.store import AuditStore
from services.review.events import contract as review_contract
from services.scoring.definition import DEFINITION as SCORING
from services.scoring.events import contract as scoring_contract
from services.subsidy.events import contract as subsidy_contract
from shared.clock import FixedClock
from shared.contract import log_page
from shared.follower import Follower, dispatch
from tests.support import builders as b
from tests.support.inprocess import SECRET, Session, in_process
from tests.support.subsidy_inprocess import PAYEE, Four, invoices_for


def campaign_2019() -> dict[str, Any]:
    """A campaign open in June 2019, after the decisions the audit tests make (a ban refuses it)."""
    return b.campaign_2018() | {
        "code": "2019", "name": "2019年河北省企业上云标杆企业评选", "document": "冀工信两化〔2019〕100号",
        "opens_on": "2019-05-20", "submission_deadline": "2019-06-30", "provider_deadline": "2019-07-02",
        "county_deadline": "2019-07-04", "city_deadline": "2019-07-06", "system_close": "2019-07-10",
        "reference_date": "2019-05-31", "first_contract_on_or_before": "2019-03-31",
        "expert_review_deadline": "2019-07-20"}


class Five(Four):
    def __init__(self, tmp: Path, clock: FixedClock, secret: str = SECRET, checkpoint_interval: int = 16) -> None:
        self.audit_store = AuditStore(f"sqlite:///{tmp / 'audit.sqlite'}", clock, checkpoint_interval)
        super().__init__(tmp, clock, secret)
        self.audit = in_process(AUDIT, self.audit_store, self.app.issuer)
        self.logs: dict[str, tuple[Any, Any]] = {
            "application": (self.app.store, application_contract), "review": (self.store, review_contract),
            "scoring": (self.scoring_store, scoring_contract), "subsidy": (self.subsidy_store, subsidy_contract),
            "audit": (self.audit_store, audit_contract)}
        for source, table in AUDIT.effective_follows().items():
            self.audit.runtime.followers[source] = Follower(self.audit_store, source, dispatch(self.audit_store, table),
                                                            self._log(source), parks=AUDIT.parks_failures,
                                                            batch=AUDIT.follow_batch)
        self.application_follows_audit = Follower(self.app.store, "audit",
                                                  dispatch(self.app.store, APPLICATION.follows["audit"]), self._log("audit"))
        self.scoring_follows_audit = Follower(self.scoring_store, "audit",
                                              dispatch(self.scoring_store, SCORING.follows["audit"]), self._log("audit"))
        self.auditor = self.app.provision("auditor1", "auditor").on(self.audit)
        self.province_audit = self.app.province.on(self.audit)
        self.sync()

    def _log(self, source: str) -> Any:
        return lambda after, limit: log_page(self.logs[source][0], self.logs[source][1], after, limit)

    def sync(self) -> None:
        for _ in range(3):  # audit's consequences travel audit → application/scoring → subsidy → audit
            super().sync()
            if hasattr(self, "audit"):
                self.application_follows_audit.catch_up()
                self.scoring_follows_audit.catch_up()
                for follower in self.audit.runtime.followers.values():
                    follower.catch_up()

    def paid(self, app_id: str, serial: int = 1, voucher: str = "GK-2019-001") -> str:
        """An awarded application filed, calculated, approved and paid; returns the amount paid."""
        bureau = [self.app.login(n, f"{n}-Own-pass-2018").on(self.subsidy) for n in ("changan", "sjz-city")]
        self.enterprise(serial).give_filing_details(app_id, {"payee": PAYEE, "invoices": invoices_for(["c2018"])})
        for stamper in bureau:
            stamper.stamp(app_id, {})
        self.province_subsidy.file_case(app_id, {"remarks": "已备案"})
        amount: str = self.province_subsidy.calculate(app_id)["calculation"]["amount"]
        self.finance.approve(app_id, {"amount": amount})
        self.finance.record_payment(app_id, {"paid_on": "2019-03-01", "amount": amount, "voucher_reference": voucher})
        self.sync()
        return amount

    def inspector(self, username: str = "inspector1") -> tuple[Session, str]:
        """An expert account (专家 or 第三方服务机构) on the audit service, and its account id."""
        session = self.app.provision(username, "expert")
        account_id = str(session.whoami()["account_id"])
        self.sync()
        return session.on(self.audit), account_id

    def close(self) -> None:
        super().close()
        self.audit_store.close()
