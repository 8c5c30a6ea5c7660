"""The scoring service as nameko runs it: `nameko run services.scoring.service:Service` (scripts/start
does, for every service in services/topology.py)."""
from shared.nameko_service import build

from services.scoring.definition import DEFINITION

Service = build(DEFINITION)
