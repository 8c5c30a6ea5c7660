"""Four services in-process (no broker): application, review, scoring and subsidy, each following
its upstreams' logs directly, so the subsidy service is tested on the real envelopes they emit."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from services.application.events import contract as application_contract
from services.scoring.domain import Candidate, candidate_id_for
from services.scoring.events import contract as scoring_contract
from services.scoring.store import ScoringStore
from services.subsidy.definition import DEFINITION as SUBSIDY
from services.subsidy.store import SubsidyStore
from shared.clock import SHANGHAI, FixedClock
from shared.contract import log_page
from shared.follower import Follower, dispatch
from shared.identity import SYSTEM
from tests.support.inprocess import SECRET, Session, in_process
from tests.support.scoring_inprocess import Three, sheet

PAYEE = {"name": "石家庄某企业有限公司", "bank": "中国工商银行石家庄分行", "account": "0402000109300012345"}


def invoices_for(contract_ids: list[str], amount: str = "90000.00") -> list[dict[str, str]]:
    return [{"contract_id": cid, "kind": kind, "number": f"{kind[:3].upper()}-{cid}", "date": "2018-05-10", "amount": amount}
            for cid in contract_ids for kind in ("invoice", "payment_voucher")]


class Four(Three):
    def __init__(self, tmp: Path, clock: FixedClock, secret: str = SECRET) -> None:
        self.subsidy_store = SubsidyStore(f"sqlite:///{tmp / 'subsidy.sqlite'}", clock)
        super().__init__(tmp, clock, secret)
        self.subsidy = in_process(SUBSIDY, self.subsidy_store, self.app.issuer)
        follows = SUBSIDY.effective_follows()
        self.subsidy.runtime.followers["application"] = Follower(
            self.subsidy_store, "application", dispatch(self.subsidy_store, follows["application"]),
            lambda after, limit: log_page(self.app.store, application_contract, after, limit))
        self.subsidy.runtime.followers["scoring"] = Follower(
            self.subsidy_store, "scoring", dispatch(self.subsidy_store, follows["scoring"]),
            lambda after, limit: log_page(self.scoring_store, scoring_contract, after, limit))
        self.finance = self.app.provision("finance1", "finance").on(self.subsidy)
        self.province_subsidy = self.app.province.on(self.subsidy)
        self.sync()

    def sync(self) -> None:
        super().sync()
        if hasattr(self, "subsidy"):
            for follower in self.subsidy.runtime.followers.values():
                follower.catch_up()

    def awarded(self, count: int) -> list[str]:
        """`count` applications of 石家庄 taken through the expert review to an announced list."""
        apps = self.recommended(count)
        experts = [self.evaluator(f"expert{i}") for i in range(3)]
        self.province.draw_evaluators({"campaign_code": "2018"})
        for app_id in apps:
            for expert in experts:
                expert.save_sheet(app_id, sheet(30))
        ranking = self.province.rank_candidates("2018")
        self.province.adopt_list({"campaign_code": "2018", "ranking_id": ranking["ranking_id"]})
        self.clock.set(datetime(2018, 12, 20, 9, 0, tzinfo=SHANGHAI))
        self.province.publish_notice("2018")
        self.clock.set(datetime(2018, 12, 27, 9, 0, tzinfo=SHANGHAI))
        self.province.announce({"campaign_code": "2018", "document_number": "冀工信两化〔2018〕600号"})
        self.sync()
        return apps

    def enterprise(self, serial: int) -> Session:
        """The enterprise of `recommended`'s serial, on the subsidy service."""
        return self.app.login(f"enterprise-{serial:03d}", "Secret-pass-1").on(self.subsidy)

    def revoke(self, application_id: str, reason: str = "抽查发现弄虚作假") -> None:
        revoke_award(self.scoring_store, application_id, reason)
        self.sync()

    def close(self) -> None:
        for store in (self.app.store, self.store, self.scoring_store, self.subsidy_store):
            store.close()


def revoke_award(store: ScoringStore, application_id: str, reason: str = "抽查发现弄虚作假") -> None:
    """What the audit service's disqualification will do (a later issue): the scoring service
    revokes the award. Until that service exists, through the domain, as its handler will."""
    candidate = store.get(Candidate, candidate_id_for(application_id))
    candidate.revoke(store.clock.now(), SYSTEM.actor(), reason,
                     {"source": "audit", "event_id": "00000000-0000-0000-0000-000000000000", "type": "audit.fraud_found"})
    store.record(candidate)


__all__ = ["Four", "PAYEE", "invoices_for"]
