"""Test data: valid credit codes, a complete application for the 2018 campaign, tiny real files (kept in
tools/play/forms.py, which the campaign driver uses too), and envelopes for the tests."""
from __future__ import annotations

from typing import Any

from tools.play.forms import (CLOUD_SECTION, CONTRACTS, ENTERPRISE_SECTION, PDF, PLEDGE, PNG, ROOT, SCENARIOS,  # noqa: F401
                              b64, campaign_2018, documents, fill_complete, real_pdf, real_png, uscc)


def returned_for_correction(application_id: str, round: int = 1, reasons: tuple[str, ...] = ("营业执照复印件不清晰",),
                            stage: str = "county") -> dict[str, Any]:
    """The review service's envelope that returns an application to its enterprise."""
    return {"event_id": "5b1f5c1e-9a43-4e8e-9d1a-3f0f8f1b2c01", "type": "review.returned_for_correction",
            "schema_version": 1, "source": "review", "position": 12, "occurred_at": "2018-12-05T02:00:00+00:00",
            "aggregate_id": "0d0c1a9e-6b8e-4a57-9a3d-51c1f1e0a001", "aggregate_version": 4,
            "application_id": application_id, "actor": {"id": "9f1c3e2a-0000-5000-8000-000000130102", "role": "county"},
            "data": {"round": round, "stage": stage, "reasons": list(reasons)}}
