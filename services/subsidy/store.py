"""The subsidy service's store: subsidy cases, with their read models."""
from __future__ import annotations

from shared.store import ServiceStore

from services.subsidy import projections as rm


class SubsidyStore(ServiceStore):
    name = "subsidy"
    read_models = rm.metadata
