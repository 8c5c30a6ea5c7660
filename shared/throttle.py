"""Rate limits for operations anyone may call without an account (registration; later, public
objections): a sliding window per process, by the injected clock. A caller over the limit is told
when to come back. Per process: N replicas admit N times the rate, which is the point (capacity)."""
from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from shared.errors import RateLimited


class RateLimit:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._calls: deque[datetime] = deque()
        self._lock = threading.Lock()

    def take(self, now: datetime) -> None:
        """Count one call at `now`, or raise RateLimited with the instant a call is admitted again."""
        window = timedelta(minutes=1)
        with self._lock:
            while self._calls and self._calls[0] <= now - window:
                self._calls.popleft()
            if len(self._calls) >= self.per_minute:
                raise RateLimited({"retry_after": (self._calls[0] + window).isoformat()})
            self._calls.append(now)
