"""The docs stay true for what is not a single service's contract (tests/contract covers each
service's events and RPCs): the kit's own RPCs are documented once, for every service."""
from __future__ import annotations

import re
from pathlib import Path

from shared.event_log_operations import EVENT_LOG_OPERATIONS

ROOT = Path(__file__).resolve().parents[2]


def test_the_rpcs_every_service_offers_are_documented():
    text = (ROOT / "docs" / "rpc.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(\w+)\(", text))
    assert {op.name for op in EVENT_LOG_OPERATIONS} <= documented


def test_the_architecture_page_explains_how_to_add_a_service():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "services/topology.py" in text and "## Adding a service" in text
