"""One relay per service at a time: a lease in the service's own store.

Replicas of a service (on PostgreSQL) share one store and so one log; each would otherwise publish
the whole log, every event once per replica. The replica holding the lease relays; the others stand
by and take over once it has not renewed the lease for `ttl` seconds (it died, hangs, or lost its
database). Taking over is one conditional UPDATE, which is its own check: of two replicas trying at
once, one matches the row and the other finds it already renewed.

Two relays can still overlap for a moment (a holder paused longer than the ttl resumes mid-batch);
that only publishes some events twice, which delivery already allows: consumers drop a position
they have tracked. Expiry compares the replicas' wall clocks, so keep them in step (NTP) to well
within the ttl."""
from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any, Callable

from eventsourcing.persistence import IntegrityError as StoredIntegrityError
from sqlalchemy import Table, select, text
from sqlalchemy.exc import IntegrityError

from shared.ports import Transactions
from shared.store import rowcount

DEFAULT_TTL = 10.0


def holder_name() -> str:
    """This process, recognisably: host and pid for an operator, a random part so a restarted
    process with a reused pid is not taken for its predecessor."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def gone(holder: str) -> bool:
    """Whether a holder is a process of this host that no longer runs: a restarted service (a new
    pid, or in a container the same pid 1 as its predecessor) takes over at once rather than
    standing by for the rest of a dead process's lease. Other hosts' holders are left to expire."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # our own pid under another name: our predecessor
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        pass
    return False


class Lease:
    def __init__(self, store: Transactions, table: Table, channel: str, holder: str | None = None, *,
                 ttl: float = DEFAULT_TTL, now: Callable[[], float] = time.time) -> None:
        self.store, self.table, self.channel = store, table, channel
        self.holder = holder or holder_name()
        self.ttl = ttl
        self._now = now
        self._held_until = 0.0  # what we last wrote, while we hold it
        self.seen_holder: str | None = None  # who held it when we last looked, for `health`
        name = table.name
        # SQL text, built once: it runs every time the lease is renewed or contested.
        self._take = text(
            f"UPDATE {name} SET holder = :holder, expires_at = :until "
            f"WHERE channel = :channel AND (holder = :holder OR expires_at < :now OR holder = :gone)")
        self._create = text(f"INSERT INTO {name} (channel, holder, expires_at) VALUES (:channel, :holder, :until)")

    def held(self) -> bool:
        """Whether this process may relay now, renewing the lease when half of it has run out.
        Costs a write only then, or when the lease looks free: a standby reads."""
        now = self._now()
        if self._held_until - now > self.ttl / 2:
            return True
        gone_holder = ""
        if self._held_until <= now:  # not ours (or lapsed): take it only if it is free
            row = self._read()
            if row is not None and row.holder != self.holder and row.expires_at >= now:
                if not gone(row.holder):
                    self._held_until, self.seen_holder = 0.0, row.holder
                    return False
                gone_holder = row.holder
        return self._try_take(now, gone_holder)

    def release(self) -> None:
        """On a clean stop: let a standby take over at once rather than after the ttl."""
        if self._held_until > self._now():  # a database that is down raises: the lease then expires
            with self.store.transaction() as session:
                session.execute(text(f"UPDATE {self.table.name} SET expires_at = 0 "
                                     "WHERE channel = :channel AND holder = :holder"),
                                {"channel": self.channel, "holder": self.holder})
        self._held_until = 0.0

    def _read(self) -> Any:
        with self.store.reading() as session:
            return session.execute(select(self.table.c.holder, self.table.c.expires_at)
                                   .where(self.table.c.channel == self.channel)).first()

    def _try_take(self, now: float, gone_holder: str = "") -> bool:
        until = now + self.ttl
        params = {"channel": self.channel, "holder": self.holder, "until": until, "now": now, "gone": gone_holder}
        try:
            with self.store.transaction() as session:
                taken = rowcount(session.execute(self._take, params)) == 1
                if not taken and session.execute(select(self.table.c.channel)
                                                 .where(self.table.c.channel == self.channel)).first() is None:
                    session.execute(self._create, params)  # the first relay of this store
                    taken = True
        except (IntegrityError, StoredIntegrityError):  # another replica created the row first: it holds it
            taken = False
        self._held_until = until if taken else 0.0
        self.seen_holder = self.holder if taken else self.seen_holder
        return taken
