"""The application service's store: its eventsourcing Application (events and read models in one
database) and the few lookups more than one handler module needs."""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from eventsourcing.utils import get_topic

from shared.clock import Clock
from shared.identity import TokenIssuer
from shared.store import ServiceStore

from services.application import projections as rm
from services.application.domain import POOL_ID, Application, Campaign, SupplyPool, campaign_id_for
from services.application.eligibility import Facts, ban_is_active, evaluate


class ApplicationStore(ServiceStore):
    name = "application"
    read_models = rm.metadata

    def __init__(self, url: str, clock: Clock, issuer: TokenIssuer) -> None:
        super().__init__(url, clock)
        self.issuer = issuer  # signs the tokens `login` answers

    def campaign(self, code: str) -> Campaign:
        return self.get(Campaign, campaign_id_for(code))

    def latest_campaign(self, at: datetime) -> Campaign | None:
        """The campaign opened last at or before `at`: the one whose settings are in force then (a
        ban takes its `ban_years`, docs/reference-data.md). Campaigns are few; the log is read for
        their openings only."""
        topic, start, latest = get_topic(Campaign.Opened), 1, None
        while True:
            page = self.notification_log.select(start=start, limit=100, topics=[topic])
            for notification in page:
                opened = cast(Campaign.Opened, self.mapper.to_domain_event(notification))
                if opened.timestamp <= at:
                    latest = opened.originator_id
            if len(page) < 100:
                return None if latest is None else self.get(Campaign, latest)
            start = page[-1].id + 1

    def pool(self) -> SupplyPool | None:
        return self.find(SupplyPool, POOL_ID)

    def eligibility_failures(self, app: Application, now: datetime) -> list[dict[str, Any]]:
        """Every rule the application fails now, by name (empty when it may be submitted)."""
        with self.reading() as session:
            bans = [b for b in rm.bans_of(session, app.uscc) if ban_is_active(b, now)]
        facts = Facts(application=app, terms=self.campaign(app.campaign_code).terms, pool=self.pool(),
                      active_bans=bans, now=now)
        return [f.to_dict() for f in evaluate(facts)]
