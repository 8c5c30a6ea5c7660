"""Who is calling: roles, jurisdictions, signed tokens and password hashing.

Tokens are HS256 JWTs signed with the system's secret; every service verifies them. They travel as
nameko context data on RPC calls and never appear in events."""
from __future__ import annotations

import functools
import hashlib
import hmac
import os
from dataclasses import asdict, dataclass
from datetime import timedelta
from enum import Enum
from typing import Any, Callable, TypeVar

import jwt
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from shared.clock import Clock
from shared.errors import NotAuthenticated


class Role(str, Enum):
    ENTERPRISE = "enterprise"
    PROVIDER = "provider"
    COUNTY = "county"
    CITY = "city"
    EXPERT = "expert"
    PROVINCE = "province"
    FINANCE = "finance"
    AUDITOR = "auditor"
    SERVICE = "service"  # another service of this system (catch-up pulls)
    SUBSCRIBER = "subscriber"  # another government system reading the event logs


SEES_ALL_APPLICATIONS = frozenset({Role.PROVINCE, Role.AUDITOR})
READS_EVENT_LOGS = frozenset({Role.SERVICE, Role.SUBSCRIBER, Role.PROVINCE, Role.AUDITOR})


@dataclass(frozen=True)
class Principal:
    account_id: str
    role: Role
    division_code: str | None = None  # county code for county bureaus, unit code for city bureaus
    provider_id: str | None = None
    enterprise_id: str | None = None
    # An issued account signs in first with the password the province handed out: until it sets its
    # own, its token is good for nothing but changing it.
    must_change_password: bool = False
    # The account's session when the token was issued: a password change, reset or deactivation
    # starts a new one, and every service refuses tokens of an older one (shared/sessions.py).
    session: int = 0

    def actor(self) -> dict[str, str]:
        """What events record about who acted: never a credential."""
        return {"id": self.account_id, "role": self.role.value}


SYSTEM = Principal(account_id="system", role=Role.SERVICE)


class TokenIssuer:
    ALGORITHM = "HS256"

    MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash

    def __init__(self, secret: str, clock: Clock, ttl: timedelta = timedelta(hours=8)) -> None:
        if len(secret.encode()) < self.MIN_SECRET_BYTES:
            raise ValueError(f"the token secret must be at least {self.MIN_SECRET_BYTES} bytes (HBCLOUD_TOKEN_SECRET)")
        self._secret = secret
        self._clock = clock
        self._ttl = ttl

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def derived_key(self, purpose: str) -> bytes:
        """A key for another use of the installation's secret (never the signing key itself)."""
        return hmac.new(self._secret.encode(), f"hbcloud:{purpose}".encode(), hashlib.sha256).digest()

    def issue(self, principal: Principal) -> str:
        now = self._clock.now()
        claims: dict[str, Any] = {k: v for k, v in asdict(principal).items() if v not in (None, False)}
        claims["role"] = principal.role.value
        claims["sub"] = claims.pop("account_id")
        claims["iat"] = int(now.timestamp())
        claims["exp"] = int((now + self._ttl).timestamp())
        return jwt.encode(claims, self._secret, algorithm=self.ALGORITHM)

    def verify(self, token: str | None) -> Principal:
        if not token:
            raise NotAuthenticated({"reason": "missing_token"})
        try:
            # Expiry is checked against the injected clock, not the wall clock.
            claims = jwt.decode(
                token, self._secret, algorithms=[self.ALGORITHM], options={"verify_exp": False}
            )
        except jwt.PyJWTError:
            raise NotAuthenticated({"reason": "invalid_token"}) from None
        if claims.get("exp", 0) <= self._clock.now().timestamp():
            raise NotAuthenticated({"reason": "expired_token"})
        try:
            return Principal(
                account_id=claims["sub"],
                role=Role(claims["role"]),
                division_code=claims.get("division_code"),
                provider_id=claims.get("provider_id"),
                enterprise_id=claims.get("enterprise_id"),
                must_change_password=bool(claims.get("must_change_password", False)),
                session=int(claims.get("session", 0)),
            )
        except (KeyError, ValueError):
            raise NotAuthenticated({"reason": "invalid_token"}) from None


class ServiceCredential:
    """The token a service presents to other services (catch-up pulls). Renewed by the injected
    clock once half its lifetime has passed, so it never expires under a long-running service."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self._issuer = issuer
        self._token: str | None = None
        self._renew_at = 0.0

    def renew(self) -> None:
        """Issue a new token at the next call (the last one was refused as expired)."""
        self._token = None

    def token(self) -> str:
        now = self._issuer.clock.now().timestamp()
        if self._token is None or now >= self._renew_at:
            self._token = self._issuer.issue(SYSTEM)
            self._renew_at = now + self._issuer.ttl.total_seconds() / 2
        return self._token


def _password_hasher() -> PasswordHasher:
    """argon2id with the parameters of an argon2-cffi profile (HBCLOUD_PASSWORD_HASH_PROFILE; default
    RFC 9106's low-memory one). Hashes carry their parameters, so a change of profile keeps every
    stored hash verifiable. The test suites use CHEAPEST; never production."""
    name = os.environ.get("HBCLOUD_PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY")
    return PasswordHasher.from_parameters(getattr(profiles, name))


_hasher = _password_hasher()

T = TypeVar("T")


def _in_this_thread(fn: Callable[..., T], *args: Any) -> T:
    return fn(*args)


# How the slow hashing runs. A service replaces it with a bounded thread pool
# (shared/nameko_service.py): argon2 on the event loop stalled every other caller of the process
# (15 wrong sign-ins took another caller's 42 ms query to 3.1 s).
offload: Callable[..., Any] = _in_this_thread


class PasswordWorkBusy(Exception):
    """More password hashing is in progress than the process allows; the caller is asked to retry
    (the pipeline answers `rate_limited`) rather than holding a worker every other caller needs."""


def bounded(run: Callable[..., Any], limit: int) -> Callable[..., Any]:
    """`run` (e.g. a thread pool's execute) with at most `limit` calls in progress at once."""
    in_progress = [0]

    def offload_bounded(fn: Callable[..., T], *args: Any) -> T:
        if in_progress[0] >= limit:
            raise PasswordWorkBusy()
        in_progress[0] += 1
        try:
            result: T = run(fn, *args)
            return result
        finally:
            in_progress[0] -= 1

    return offload_bounded


def hash_password(password: str) -> str:
    hashed: str = offload(_hasher.hash, password)
    return hashed


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _nobody(), password)
    except (VerificationError, InvalidHashError):
        return False


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether the password matches. Without a hash (an unknown user name) the same work is done
    against a hash of nothing, so the answer takes as long and tells nothing."""
    matched: bool = offload(_verify, password_hash, password)
    return matched and password_hash is not None


@functools.cache
def _nobody() -> str:
    """A hash of nothing anyone knows, made once on first use (not at import: every CLI call imports this)."""
    return _hasher.hash(os.urandom(16).hex())
