"""The application service as nameko runs it: `nameko run services.application.service:Service`
(scripts/start does, for every service in services/topology.py)."""
from shared.nameko_service import build

from services.application.definition import DEFINITION

Service = build(DEFINITION)
