"""The application, review and scoring services side by side in-process (no broker): scoring follows
the application's and the review's logs directly, so it is tested on the real envelopes they emit."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from services.application.events import contract as application_contract
from services.review.events import contract as review_contract
from services.application.definition import DEFINITION as APPLICATION
from services.scoring.definition import DEFINITION as SCORING
from services.scoring.events import contract as scoring_contract
from services.scoring.store import ScoringStore
from shared.clock import FixedClock
from shared.contract import log_page
from shared.follower import Follower, dispatch
from tests.support.inprocess import SECRET, Session, in_process
from tests.support.review_inprocess import Both, all_confirmed, checklist_all_match

# Evaluators' employers: credit codes of Hebei institutions (valid check digits, made up).
from tests.support import builders as b

SHEET_JUSTIFICATIONS = {"results": "成本降低明显，效率提升有数据支撑", "advancement": "采用容器化和微服务架构",
                        "practicality": "贴合企业生产管理需要", "replicability": "同行业可复制推广",
                        "breadth_depth": "核心业务系统上云"}


def sheet(results: int, advancement: int = 15, practicality: int = 10, replicability: int = 10,
          breadth_depth: int = 7, final: bool = True) -> dict[str, Any]:
    return {"scores": {"results": results, "advancement": advancement, "practicality": practicality,
                       "replicability": replicability, "breadth_depth": breadth_depth},
            "justifications": dict(SHEET_JUSTIFICATIONS), "final": final}


class Three(Both):
    def __init__(self, tmp: Path, clock: FixedClock, secret: str = SECRET) -> None:
        self.scoring_store = ScoringStore(f"sqlite:///{tmp / 'scoring.sqlite'}", clock)
        super().__init__(tmp, clock, secret)
        self.scoring = in_process(SCORING, self.scoring_store, self.app.issuer)
        follows = SCORING.effective_follows()
        self.scoring.runtime.followers["application"] = Follower(
            self.scoring_store, "application", dispatch(self.scoring_store, follows["application"]),
            lambda after, limit: log_page(self.app.store, application_contract, after, limit))
        self.scoring.runtime.followers["review"] = Follower(
            self.scoring_store, "review", dispatch(self.scoring_store, follows["review"]),
            lambda after, limit: log_page(self.store, review_contract, after, limit))
        self.application_follows_scoring = Follower(
            self.app.store, "scoring", dispatch(self.app.store, APPLICATION.follows["scoring"]),
            lambda after, limit: log_page(self.scoring_store, scoring_contract, after, limit))
        p = self.app.provision
        self.provider = self.review(p("cloudco", "provider", provider_id="hbcloud-provider"))
        self.county = self.review(p("changan", "county", division_code="130102"))
        self.city = self.review(p("sjz-city", "city", division_code="130100"))
        self.province = self.app.province.on(self.scoring)
        self.sync()

    def sync(self) -> None:
        super().sync()
        if hasattr(self, "scoring"):
            for follower in self.scoring.runtime.followers.values():
                follower.catch_up()
            self.application_follows_scoring.catch_up()

    def scoring_anonymous(self) -> Session:
        """The public, without an account (the notice and objections)."""
        return Session(self.scoring, self.app.issuer, None)

    def recommended(self, count: int, first_serial: int = 1) -> list[str]:
        """`count` applications of 石家庄 submitted, confirmed, passed and recommended."""
        ids = []
        for serial in range(first_serial, first_serial + count):
            _, app_id = self.submitted(f"enterprise-{serial:03d}", serial=serial)
            self.provider.provider_answer(app_id, all_confirmed())
            case = self.county.get_case(app_id)
            self.county.county_review(app_id, checklist_all_match(case))
            self.city.city_review(app_id, {"decision": "recommend", "opinion": "上云成效显著，同意推荐"})
            ids.append(app_id)
        self.sync()
        return ids

    def evaluator(self, username: str, employers: list[str] | None = None, kind: str = "expert",
                  **interests: Any) -> Session:
        """An evaluator account issued by the province, which has declared its interests."""
        session = self.app.provision(username, "expert").on(self.scoring)
        self.sync()
        session.declare_interests({"kind": kind, "employers": employers if employers is not None else [b.uscc("130100", 800 + len(username))],
                                   **interests})
        return session


__all__ = ["Three", "sheet", "all_confirmed"]
