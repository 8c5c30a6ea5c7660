"""The application and review services side by side in-process (no broker): each follows the
other's log directly, so review behaviour is tested on the real envelopes the application emits."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from services.application.events import contract as application_contract
from services.review.definition import DEFINITION as REVIEW
from services.review.events import contract as review_contract
from services.review.store import ReviewStore
from services.application.definition import DEFINITION as APPLICATION
from shared.clock import FixedClock
from shared.contract import log_page
from shared.follower import Follower, dispatch
from tests.support import builders as b
from tests.support.builders import fill_complete
from tests.support.inprocess import SECRET, Harness, Session, in_process

CHECKED = {"confirmed": True, "remark": ""}


class Both:
    def __init__(self, tmp: Path, clock: FixedClock, secret: str = SECRET) -> None:
        self.app = Harness(f"sqlite:///{tmp / 'application.sqlite'}", clock, secret=secret)
        self.clock = clock
        self.store = ReviewStore(f"sqlite:///{tmp / 'review.sqlite'}", clock)
        self.service = in_process(REVIEW, self.store, self.app.issuer)
        self.review_follows = Follower(self.store, "application", dispatch(self.store, REVIEW.effective_follows()["application"]),
                                       lambda after, limit: log_page(self.app.store, application_contract, after, limit))
        self.application_follows = Follower(self.app.store, "review", dispatch(self.app.store, APPLICATION.follows["review"]),
                                            lambda after, limit: log_page(self.store, review_contract, after, limit))
        self.service.runtime.followers["application"] = self.review_follows
        self.app.service.runtime.followers["review"] = self.application_follows
        self.app.open_2018()
        self.sync()

    def sync(self) -> None:
        """Deliver what each service published to the other (what the broker does in production)."""
        self.review_follows.catch_up()
        self.application_follows.catch_up()

    def review(self, session: Session) -> Session:
        """The same account, calling the review service."""
        return session.on(self.service)

    def submitted(self, username: str = "steelworks", serial: int = 1, county: str = "130102",
                  region: str = "130102") -> tuple[Session, str]:
        ent = self.app.enterprise(username, serial=serial, county=county, region=region)
        app_id = ent.start_application("2018")["application_id"]
        fill_complete(ent, app_id)
        ent.submit(app_id)
        self.sync()
        return ent, app_id


def all_confirmed(contract_ids: list[str] | None = None) -> dict[str, Any]:
    ids = contract_ids if contract_ids is not None else [c["contract_id"] for c in b.CONTRACTS]
    return {"items": {"first_cloud_date": CHECKED, "content": CHECKED, "results": CHECKED,
                      "contracts": {cid: CHECKED for cid in ids}}}


def checklist_all_match(case: dict[str, Any]) -> dict[str, Any]:
    return {"checklist": {d["document_id"]: {"matches_original": True} for d in case["content"]["documents"]},
            "complete": True, "local_industrial_enterprise": True, "decision": "pass",
            "remarks": "原件已审，与系统提交复印件一致"}
