"""A downstream nameko service for the delivery tests: follows the application service and records
one event per upstream event it processed (random ids: only tracking prevents duplicates).
Events of an enterprise named POISON… fail until the file TALLY_CURE_FILE exists."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nameko.rpc import rpc

from shared.config import Settings
from shared.follower import list_parked
from shared.rpc import Follow, Store, prompt_entrypoint
from tests.support.pingpong import TallyStore


def make_store(settings: Settings) -> TallyStore:
    cure = os.environ.get("TALLY_CURE_FILE")
    return TallyStore(settings.store_url("tally"), cure_file=Path(cure) if cure else None, clock=settings.clock())


class TallyRpc:
    name = "tally"
    store: TallyStore = Store(make_store)  # type: ignore[assignment]
    application = Follow("store", "application", lambda s: s.handle)
    on_application_event = prompt_entrypoint("application", "application")

    @rpc
    def stats(self) -> dict[str, Any]:
        return self.store.stats("application")

    @rpc
    def parked(self) -> list[dict[str, Any]]:
        return list_parked(self.store)

    @rpc
    def retry(self, parked_id: int) -> bool:
        return self.application.retry_parked(parked_id)
