"""What a portal does on the caller's side of RPC: signs accounts in (and again when a token expired
by the service clock or ended), sends each command with the deterministic idempotency key its caller
names (every command takes one but `change_password`), retries transient failures (timeouts, lost connections, a service not running
or restarting, `rate_limited`, a concurrent change) with backoff up to a limit, and hands typed
refusals back as they came. `stats` counts what was seen, for a report."""
from __future__ import annotations

import hashlib
import logging
import random
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import eventlet
import eventlet.queue
import eventlet.semaphore
from eventlet.queue import LightQueue
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from shared.errors import Conflict, NotAuthenticated, RateLimited, ServiceError
from shared.wire import AUTH_HEADER  # and the typed errors, registered for deserialization

logging.getLogger("amqp").setLevel(logging.ERROR)  # a discarded proxy's channel chatter

# The calls that hash a password: the service hashes one (or a few) at a time and answers
# `rate_limited` to the rest, so the portal sends them `hashing` at a time.
HASHING = {"login", "register_enterprise", "change_password", "provision_account", "reset_password"}
# A token that stopped working for one of these reasons is renewed by signing in again.
RENEWABLE = {"expired_token", "session_ended", "invalid_token"}


class GaveUp(Exception):
    """A call still failing transiently after every attempt."""


@dataclass
class Account:
    """An account the driver signs in with; `token` is filled and renewed by the portal."""
    username: str
    password: str
    role: str = ""
    account_id: str = ""
    token: str | None = None
    lock: Any = field(default_factory=lambda: eventlet.semaphore.Semaphore(1), repr=False, compare=False)


@dataclass
class Stats:
    calls: int = 0
    attempts: int = 0
    retries: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    rate_limited: int = 0
    sign_ins: int = 0
    typed_errors: Counter[str] = field(default_factory=Counter)  # code -> count, refusals handed back
    gave_up: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, Counter) else v) for k, v in self.__dict__.items()}


def transient(error: BaseException) -> bool:
    """Worth another attempt: the broker or the service did not answer, not a refusal."""
    if isinstance(error, ServiceError):
        return isinstance(error, RateLimited) or (isinstance(error, Conflict)
                                                  and error.details.get("reason") == "changed concurrently")
    return isinstance(error, (RpcTimeout, UnknownService, OSError, socket.timeout, ConnectionError, EOFError)) or \
        type(error).__module__.split(".")[0] in ("amqp", "kombu")


def idempotency_key(*parts: Any) -> str:
    """A key from the run's seed, the step and the subject; hashed when longer than the wire allows."""
    text = ":".join(str(p) for p in parts)
    return text if len(text) <= 128 else text[:80] + "#" + hashlib.sha256(text.encode()).hexdigest()[:40]


class Portal:
    """RPC to the running services for many accounts at once: `pool_size` open proxies shared by
    green threads (eventlet), the caller's token set per call."""

    def __init__(self, amqp_uri: str, timeout: float = 30.0, attempts: int = 8, backoff: float = 0.5,
                 max_backoff: float = 8.0, pool_size: int = 8, hashing: int = 1, rate_limit_wait: float = 300.0) -> None:
        self.amqp_uri, self.timeout, self.attempts = amqp_uri, timeout, attempts
        self.backoff, self.max_backoff = backoff, max_backoff
        self.stats = Stats()
        self._idle: LightQueue = LightQueue()
        self._open: list[Any] = []
        self._slots = eventlet.semaphore.Semaphore(pool_size)
        self._hashing = eventlet.semaphore.Semaphore(hashing)
        self.rate_limit_wait = rate_limit_wait

    # ------------------------------------------------------------------ proxies
    def _take(self) -> Any:
        try:
            return self._idle.get_nowait()
        except eventlet.queue.Empty:
            runner = ClusterRpcProxy({"AMQP_URI": self.amqp_uri, "serializer": "json"}, timeout=self.timeout)
            proxy = runner.start()
            proxy._runner = runner
            self._open.append(runner)
            return proxy

    def _discard(self, proxy: Any) -> None:
        runner = proxy._runner
        if runner in self._open:
            self._open.remove(runner)
        try:
            runner.stop()
        except Exception:  # a broken connection may not close cleanly: it is dropped either way
            pass

    def close(self) -> None:
        while self._open:
            runner = self._open.pop()
            try:
                runner.stop()
            except Exception:
                pass

    def _once(self, token: str | None, service: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if method in HASHING:
            with self._hashing:
                return self._send(token, service, method, args, kwargs)
        return self._send(token, service, method, args, kwargs)

    def _send(self, token: str | None, service: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        with self._slots:
            proxy = self._take()
            proxy._worker_ctx.data = {AUTH_HEADER: token} if token else {}  # read at publish time
            try:
                answer = getattr(getattr(proxy, service), method)(*args, **kwargs)
            except ServiceError:
                self._idle.put(proxy)
                raise
            except BaseException:
                self._discard(proxy)  # a timed-out or broken proxy may hold a late reply: never reuse it
                raise
            self._idle.put(proxy)
            return answer

    # ------------------------------------------------------------------ calls
    def call(self, account: Account | None, service: str, method: str, *args: Any, key: str | None = None,
                **kwargs: Any) -> Any:
        """One command or query as `account` (None: public). `key` is sent as `idempotency_key`, the
        same with every attempt: a retry of a command that acted (its answer lost to a timeout, or
        its service killed after the commit) answers the first answer. A typed refusal is raised as such."""
        self.stats.calls += 1
        if key is not None:
            kwargs["idempotency_key"] = key
        signed_in_again = False
        limited_until = time.monotonic() + self.rate_limit_wait
        attempt = 0
        while attempt < self.attempts:
            attempt += 1
            self.stats.attempts += 1
            token = self._token_of(account) if account is not None else None
            try:
                return self._once(token, service, method, args, kwargs)
            except NotAuthenticated as e:
                if account is None or signed_in_again or e.details.get("reason") not in RENEWABLE:
                    self.stats.typed_errors[e.payload["code"]] += 1
                    raise
                self._token_of(account, stale=token)  # the service clock moved past the token
                signed_in_again = True
                attempt -= 1
                continue
            except ServiceError as e:
                if isinstance(e, RateLimited) and time.monotonic() < limited_until:
                    self.stats.rate_limited += 1  # busy, not broken: waits without using up the attempts
                    attempt -= 1
                    self._pause(1, e)
                    continue
                if transient(e) and attempt < self.attempts:
                    self._pause(attempt, e)
                    continue
                self.stats.typed_errors[e.payload["code"]] += 1
                raise
            except Exception as e:
                if not transient(e):
                    raise
                if isinstance(e, RpcTimeout):
                    self.stats.timeouts += 1
                else:
                    self.stats.connection_errors += 1
                if attempt == self.attempts:
                    self.stats.gave_up += 1
                    raise GaveUp(f"{service}.{method}: still failing after {attempt} attempts: {type(e).__name__}: {e}") from e
                self._pause(attempt, e)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _pause(self, attempt: int, error: BaseException) -> None:
        # `retry_after` is an instant by the service clock, which a played campaign sets to its own
        # dates: it says nothing about real time here, so a backoff with jitter it is.
        self.stats.retries += 1
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        eventlet.sleep(delay * random.uniform(0.5, 1.0))

    def _token_of(self, account: Account, stale: str | None = None) -> str | None:
        """The account's token, signing in when it has none or still has `stale` (one sign-in for
        the green threads that found the same token expired at once)."""
        if account.token is not None and account.token != stale:
            return account.token
        with account.lock:
            if account.token is None or account.token == stale:
                account.token = None
                self.sign_in(account)
        return account.token

    def sign_in(self, account: Account) -> dict[str, Any]:
        """Signs in with `account.password`; answers the account as `login` describes it."""
        self.stats.sign_ins += 1
        answer = self.call(None, "application", "login", {"username": account.username, "password": account.password})
        account.token = answer["token"]
        account.account_id = answer["account"]["account_id"]
        account.role = answer["account"]["role"]
        return dict(answer["account"])

    def first_sign_in(self, account: Account, initial: str) -> None:
        """An issued account replaces the password the province handed out with `account.password`."""
        chosen = account.password
        account.password = initial
        try:
            self.sign_in(account)
            self.call(account, "application", "change_password", {"old_password": initial, "new_password": chosen})
        except NotAuthenticated:  # a retry after the change acted: the chosen password is the one now
            pass
        account.password, account.token = chosen, None

    def wait_until(self, predicate: Callable[[], Any], what: str, timeout: float = 120.0, interval: float = 0.5) -> Any:
        """Polls until `predicate()` is truthy (what another service has yet to follow), else TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:g}s for {what}; last: {value!r}")
            eventlet.sleep(interval)
