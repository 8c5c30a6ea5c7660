"""The public event contract: stored topics stay put (replay depends on them), envelopes validate,
old shapes are upcast for consumers."""
from __future__ import annotations

from pathlib import Path

import pytest
from eventsourcing.utils import get_topic
from marshmallow import ValidationError

from services.topology import definitions
from shared import contract as kit

SNAPSHOT = Path(__file__).with_name("stored_topics.txt")


def test_stored_topics_and_public_types_do_not_move():
    """Stored events name their class as `module:Class`. Moving or renaming one breaks the replay of
    every stored event unless the old topic is registered as an alias (eventsourcing.utils.
    register_topic): if this fails, register the alias, then update the snapshot."""
    current = sorted(f"{get_topic(cls)} {public.name}"
                     for d in definitions()
                     for cls, public in d.contract.entries())
    assert current == sorted(SNAPSHOT.read_text().split("\n")[:-1])


def envelope(**over):
    base = {"event_id": "7d0c2f7e-2f1e-4d55-9a9e-0d6f3c1b9a01", "type": "demo.happened", "schema_version": 1,
            "source": "demo", "position": 3, "occurred_at": "2018-12-03T02:00:00+00:00", "aggregate_id": "a",
            "aggregate_version": 1, "application_id": None, "actor": {"id": "x", "role": "service"},
            "data": {"amount": "1.00"}}
    return base | over


def test_a_malformed_envelope_is_refused_with_every_problem():
    with pytest.raises(ValidationError) as e:
        kit.read_envelope(envelope(position=0, actor={"id": "x"}, type="Not A Type"))
    assert {"position", "actor", "type"} <= set(e.value.messages)


def test_an_old_shape_is_upcast_to_the_newest_the_consumer_knows(monkeypatch):
    monkeypatch.setattr(kit, "UPCASTERS", {})
    kit.register_upcaster("demo.happened", 1, lambda d: {"amount_yuan": d.pop("amount")})
    kit.register_upcaster("demo.happened", 2, lambda d: d | {"currency": "CNY"})
    read = kit.read_envelope(envelope())
    assert read["schema_version"] == 3 and read["data"] == {"amount_yuan": "1.00", "currency": "CNY"}
    assert kit.read_envelope(envelope(schema_version=3, data={"amount_yuan": "2.00", "currency": "CNY"}))["data"]["amount_yuan"] == "2.00"


def test_event_ids_are_stable_in_an_installation_and_differ_in_another(tmp_path):
    """Two deployments replaying the same history publish different event ids, so a subscriber
    deduplicating across environments drops nothing real; one installation keeps its ids."""
    from datetime import datetime, timezone
    from uuid import UUID

    from shared.contract import log_page
    from tests.support.pingpong import Ping, PingStore, ping_contract

    same_id = UUID("12345678-1234-5678-1234-567812345678")

    def replay(path) -> list[str]:
        store = PingStore(f"sqlite:///{path}")
        if store.max_position() == 0:
            store.record(Ping._begin(Ping.Pinged, same_id, datetime(2018, 12, 3, tzinfo=timezone.utc),
                                     {"id": "t", "role": "service"}, n=1, poison=False))
        return [n["event_id"] for n in log_page(store, ping_contract, 0, 10)["notifications"]]

    production, test_system = replay(tmp_path / "a.sqlite"), replay(tmp_path / "b.sqlite")
    assert production != test_system
    assert replay(tmp_path / "a.sqlite") == production  # reopened (a restart, a replica): the same ids
