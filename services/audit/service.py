"""The audit service as nameko runs it: `nameko run services.audit.service:Service` (scripts/start
does, for every service in services/topology.py)."""
from shared.nameko_service import build

from services.audit.definition import DEFINITION

Service = build(DEFINITION)
