"""The audit service's store: its own records (checkpoints, spot checks, fraud decisions) as events,
and the ledger of every service's events beside them (services/audit/ledger.py)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared.clock import Clock
from shared.identity import SYSTEM
from shared.store import ServiceStore

from services.audit import ledger
from services.audit import projections as rm
from services.audit.domain import Checkpoint

DEFAULT_CHECKPOINT_INTERVAL = 100


class AuditStore(ServiceStore):
    name = "audit"
    read_models = rm.metadata

    def __init__(self, url: str, clock: Clock | None = None,
                 checkpoint_interval: int = DEFAULT_CHECKPOINT_INTERVAL) -> None:
        super().__init__(url, clock)
        self.checkpoint_interval = checkpoint_interval

    def append_to_ledger(self, session: Session, envelope: dict[str, Any]) -> int:
        """Append an upstream event inside the transaction that records its tracking position; at
        every `checkpoint_interval` entries, record the checkpoint in the same transaction."""
        now = self.clock.now()
        seq, chain_head = ledger.append(session, envelope, now.isoformat())
        if seq % self.checkpoint_interval == 0:
            checkpoint = Checkpoint.record(now, SYSTEM.actor(), seq, ledger.root_at(session, seq).hex(), chain_head)
            self.record(checkpoint)  # nested: the same transaction as the entry
            rm.project_checkpoint(session, checkpoint)
        return seq
