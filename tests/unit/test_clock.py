"""The injected clocks: a file clock value is read in Asia/Shanghai when it carries no offset."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from shared.clock import SHANGHAI, FileClock, clock_from_setting


@pytest.fixture
def host_in_utc(monkeypatch):
    """The host's zone is not Shanghai's (a container in UTC), whatever this machine says."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("text", ["2018-12-03T09:00:00", "2018-12-03 09:00", "2018-12-03T09:00:00\n"])
def test_a_file_clock_value_without_an_offset_is_shanghai_time(tmp_path, host_in_utc, text):
    path = tmp_path / "clock"
    path.write_text(text)
    assert FileClock(path).now() == datetime(2018, 12, 3, 1, 0, tzinfo=timezone.utc)


def test_a_file_clock_value_with_an_offset_keeps_it(tmp_path, host_in_utc):
    path = tmp_path / "clock"
    path.write_text("2018-12-03T09:00:00+00:00")
    clock = clock_from_setting(f"file:{path}")
    assert clock.now() == datetime(2018, 12, 3, 9, 0, tzinfo=timezone.utc)
    assert clock.now().astimezone(SHANGHAI).hour == 17


def test_a_missing_clock_file_is_the_system_clock(tmp_path):
    before = datetime.now(timezone.utc)
    assert before <= FileClock(tmp_path / "absent").now() <= datetime.now(timezone.utc)
