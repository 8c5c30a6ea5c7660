"""Time is injected, never read directly, so deadlines are testable and a campaign can be replayed
on its own dates. Campaign dates are Asia/Shanghai calendar days; instants are stored in UTC."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that only moves when told to (unit tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = at.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(timezone.utc)

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)


class FileClock:
    """Reads the instant from a file on every call; the system clock while the file is absent.

    For replaying a campaign on its own dates and for integration tests that move time across
    deadlines in running services (`hbcloud clock ...` writes the file). A value without an offset
    is Asia/Shanghai time, like every campaign date, whatever the host's zone."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return datetime.now(timezone.utc)
        return aware(datetime.fromisoformat(text)).astimezone(timezone.utc)


def aware(at: datetime) -> datetime:
    """An instant without an offset is read as Asia/Shanghai time, never in the host's zone."""
    return at if at.tzinfo is not None else at.replace(tzinfo=SHANGHAI)


def clock_from_setting(setting: str) -> Clock:
    """`system` (default) or `file:PATH`."""
    if setting.startswith("file:"):
        return FileClock(Path(setting[5:]))
    return SystemClock()


def end_of_day(day: date) -> datetime:
    """'Before day D' means up to the end of day D in Asia/Shanghai (our default; docs/reference-data.md)."""
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI).astimezone(timezone.utc)


def local_date(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def ban_end(starts: date, years: int) -> date:
    """三年内: `years` (the campaign's `ban_years`, 3 in 2018) from the start, the last day included
    (a ban recorded by the province, or decided by audit)."""
    try:
        return starts.replace(year=starts.year + years) - timedelta(days=1)
    except ValueError:  # 29 February
        return starts.replace(year=starts.year + years, day=28)
