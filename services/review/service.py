"""The review service as nameko runs it: `nameko run services.review.service:Service` (scripts/start
does, for every service in services/topology.py)."""
from shared.nameko_service import build

from services.review.definition import DEFINITION

Service = build(DEFINITION)
