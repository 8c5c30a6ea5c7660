"""The campaign settings a downstream service keeps from the application service's
`application.campaign_opened` events: one read-model table per service (`<service>_rm_campaigns`),
written by the kit's handler and read by code, the same in every service that needs them."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, Text, select
from sqlalchemy.orm import Session

from shared.contract import Envelope
from shared.definition import Change
from shared.readmodels import upsert


class CampaignSettings:
    def __init__(self, metadata: MetaData, service: str) -> None:
        self.table = Table(f"{service}_rm_campaigns", metadata,
                           Column("code", String(32), primary_key=True),
                           Column("settings", Text, nullable=False))

    def save(self, session: Session, code: str, settings: dict[str, Any]) -> None:
        upsert(session, self.table, "code", {"code": code, "settings": json.dumps(settings, ensure_ascii=False)})

    def get(self, session: Session, code: str) -> dict[str, Any] | None:
        raw = session.execute(select(self.table.c.settings).where(self.table.c.code == code)).scalar()
        return json.loads(raw) if raw else None

    def on_opened(self, store: Any, envelope: Envelope) -> Change:
        """The handler of `application.campaign_opened`."""
        data = envelope["data"]
        return Change(project=lambda s: self.save(s, data["code"], data["settings"]))
