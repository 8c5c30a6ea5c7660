"""The fault suite's proofs fail when they should: on logs with an effect doubled or missing, on a
follower short of its upstream's head, on a read model that differs from its rebuild."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from shared.config import settings_from_env
from tests.faults import proofs
from tests.support.inprocess import Harness

A, B = "0d0c1a9e-6b8e-4a57-9a3d-51c1f1e0a001", "0d0c1a9e-6b8e-4a57-9a3d-51c1f1e0a002"


def event(position: int, kind: str, application_id: str | None, **data: Any) -> dict[str, Any]:
    return {"event_id": f"{kind}-{position}", "position": position, "type": kind, "application_id": application_id, "data": data}


def campaign_logs() -> dict[str, list[dict[str, Any]]]:
    """Two applications submitted, both awarded and paid; fraud found in A, its award revoked and reclaimed."""
    return {
        "application": [event(1, "application.submitted", A), event(2, "application.submitted", B)],
        "review": [event(1, "review.case_opened", A), event(2, "review.case_opened", B)],
        "scoring": [event(1, "scoring.list_announced", None, entries=[A, B]), event(2, "scoring.awarded", A),
                    event(3, "scoring.awarded", B), event(4, "scoring.award_revoked", A)],
        "subsidy": [event(1, "subsidy.case_opened", A), event(2, "subsidy.case_opened", B), event(3, "subsidy.paid", A),
                    event(4, "subsidy.paid", B), event(5, "subsidy.reclaim_opened", A)],
        "audit": [event(1, "audit.fraud_found", A)],
    }


def test_a_whole_campaign_once_each_passes():
    problems, counts = proofs.nothing_twice(campaign_logs())
    assert problems == []
    assert counts["awarded"] == 2 and counts["reclaims"] == 1


def test_an_effect_twice_or_missing_is_named():
    logs = campaign_logs()
    logs["subsidy"].append(event(6, "subsidy.case_opened", B))  # a second case for one award
    logs["review"].pop(0)  # a submission no case was opened for
    logs["subsidy"] = [e for e in logs["subsidy"] if e["type"] != "subsidy.reclaim_opened"]  # a revoked, paid award not reclaimed
    problems, _ = proofs.nothing_twice(logs)
    assert any(p.startswith("subsidy case: more than once") and B in p for p in problems)
    assert any(p.startswith("review case: none for 1") and A in p for p in problems)
    assert any(p.startswith("reclaim: none for 1") for p in problems)


def test_a_follower_short_of_its_upstreams_head_is_behind():
    def health(head: int, tracked: dict[str, int], relay_lag: int = 0) -> dict[str, Any]:
        return {"max_position": head, "tracked": tracked, "relay_lag": relay_lag, "parked": 0, "stalled": {}, "relay_error": None}

    seen = {"application": health(10, {"review": 4}), "review": health(4, {"application": 9})}
    assert proofs.behind(seen) == ["review tracked application@9, head 10"]
    seen["review"]["tracked"]["application"] = 10
    seen["application"]["parked"] = 1
    assert proofs.nothing_lost(seen) == ["application: 1 parked events"]


def test_a_read_model_row_that_differs_from_the_rebuild_is_named(tmp_path: Path, clock):
    data = tmp_path / "data"
    data.mkdir()
    harness = Harness(f"sqlite:///{data / 'application.sqlite'}", clock)
    harness.open_2018()
    harness.enterprise("steelworks")
    harness.store.close()
    settings = settings_from_env({"HBCLOUD_DATA_DIR": str(tmp_path / "copy"), "HBCLOUD_TOKEN_SECRET": "x" * 32})
    assert proofs.read_models_match_rebuild(data, tmp_path / "copy", settings, ["application"])[0] == []

    db = sqlite3.connect(data / "application.sqlite")
    db.execute("UPDATE application_rm_enterprises SET name = '别的名字'")
    db.commit()
    db.close()
    problems, _ = proofs.read_models_match_rebuild(data, tmp_path / "copy2", settings_from_env(
        {"HBCLOUD_DATA_DIR": str(tmp_path / "copy2"), "HBCLOUD_TOKEN_SECRET": "x" * 32}), ["application"])
    assert len(problems) == 1 and problems[0].startswith("application.application_rm_enterprises: 1 rows differ")
