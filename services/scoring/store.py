"""The scoring service's store: evaluators, candidates, draws, rankings, the selection and
objections, with their read models; and the lookups more than one handler module needs."""
from __future__ import annotations

from sqlalchemy import select

from shared.errors import NotFound
from shared.store import ServiceStore

from services.scoring import projections as rm
from services.scoring.rules import ScoringRules


class ScoringStore(ServiceStore):
    name = "scoring"
    read_models = rm.metadata

    def rules(self, campaign_code: str) -> ScoringRules:
        """The campaign's expert-review settings (learned from the application service)."""
        with self.reading() as session:
            settings = rm.campaign_settings(session, campaign_code)
        if settings is None:
            raise NotFound({"campaign_code": campaign_code}, zh="评选活动不存在", en="No such campaign")
        return ScoringRules.from_settings(settings)

    def inactive_accounts(self) -> set[str]:
        with self.reading() as session:
            return {r[0] for r in session.execute(select(self.books.sessions.c.account_id)
                                                  .where(self.books.sessions.c.active == 0))}
