"""The subsidy service as nameko runs it: `nameko run services.subsidy.service:Service` (scripts/start
does, for every service in services/topology.py)."""
from shared.nameko_service import build

from services.subsidy.definition import DEFINITION

Service = build(DEFINITION)
