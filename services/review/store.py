"""The review service's store: review cases and city rankings, with their read models."""
from __future__ import annotations

from shared.store import ServiceStore

from services.review import projections as rm


class ReviewStore(ServiceStore):
    name = "review"
    read_models = rm.metadata
