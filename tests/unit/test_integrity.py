"""A stored record its own service cannot read is an integrity failure at a position, reported as
such to every reader of the log and visible in `health`, never an `internal_error` that stalls
followers without saying why."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.errors import IntegrityFailure
from tests.support.inprocess import Harness


def test_an_unreadable_record_is_named_by_position_to_readers_and_in_health(tmp_path, clock):
    h = Harness(f"sqlite:///{tmp_path / 'application.sqlite'}", clock)
    h.open_2018()
    head = h.store.max_position()
    with h.store.transaction() as session:  # one changed byte in the stored record at position 2
        session.execute(text("UPDATE application_events SET state = X'00' || substr(state, 2) WHERE id = 2"))
    page = h.province.get_notifications(0, 1)  # before it: still readable
    assert [n["position"] for n in page["notifications"]] == [1]
    with pytest.raises(IntegrityFailure) as failure:
        h.province.get_notifications(0, 100)
    assert failure.value.details["position"] == 2 and failure.value.details["source"] == "application"
    with pytest.raises(Exception):
        h.service.runtime.relay.publish_pending()  # the relay stops there too
    health = h.province.health()
    assert health["relay_lag"] == head and "position 2" in health["relay_error"]
