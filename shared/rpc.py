"""nameko glue shared by every service: errors across the wire, the caller's identity, the store,
the relay and the followers as dependencies, and one place that maps failures to typed errors.

Only service.py modules (entrypoints) and clients import this; domain code never does."""
from __future__ import annotations

import functools
import logging
import os
from typing import Any, Callable, TypeVar

import eventlet
from marshmallow import Schema, ValidationError
from nameko import exceptions as nameko_exceptions
from nameko.events import event_handler
from nameko.rpc import rpc
from nameko.extensions import DependencyProvider
from nameko.standalone.rpc import ClusterRpcProxy

import shared.messages  # noqa: F401  (bilingual field messages for every input schema)
from shared.config import Settings, settings_from_env
from shared.contract import Contract, log_page
from shared.errors import ALL_ERRORS, Forbidden, InternalError, InvalidInput, NotFound, ServiceError
from shared.follower import Follower, Handle, list_parked
from shared.identity import READS_EVENT_LOGS, SYSTEM, Principal, Role, TokenIssuer
from shared.relay import OutboxRelay
from shared.store import ServiceStore

log = logging.getLogger(__name__)

AUTH_HEADER = "auth_token"

# Errors cross RPC as the same classes: nameko rebuilds registered exceptions on the caller's side.
for _cls in ALL_ERRORS:
    nameko_exceptions.registry[nameko_exceptions.get_module_path(_cls)] = _cls

F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F) -> F:
    """Entrypoint wrapper: typed errors pass through; anything else becomes an InternalError that
    leaks no internals to the caller (the full trace goes to the log)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ServiceError:
            raise
        except ValidationError as e:
            raise InvalidInput.fields(e.normalized_messages()) from None
        except Exception:
            log.exception("unexpected failure in %s", fn.__name__)
            raise InternalError() from None

    return wrapper  # type: ignore[return-value]


def load(schema: Schema, data: Any) -> Any:
    """Validate input; every bad field is reported at once."""
    if data is None:
        data = {}
    try:
        return schema.load(data)
    except ValidationError as e:
        raise InvalidInput.fields(e.normalized_messages()) from None


class Caller:
    """The verified identity of the caller of one worker."""

    def __init__(self, token: str | None, issuer: TokenIssuer) -> None:
        self._token = token
        self._issuer = issuer
        self._principal: Principal | None = None

    def principal(self) -> Principal:
        """The verified caller; refused while its initial password is still to be changed."""
        principal = self.signed_in()
        if principal.must_change_password:
            raise Forbidden({"reason": "password_change_required"}, zh="请先修改初始密码",
                            en="Change the initial password first")
        return principal

    def signed_in(self) -> Principal:
        """The verified caller, even one that must still change its initial password."""
        if self._principal is None:
            self._principal = self._issuer.verify(self._token)
        return self._principal


class Auth(DependencyProvider):
    def setup(self) -> None:
        settings = settings_from_env()
        self.issuer = TokenIssuer(settings.token_secret, settings.clock())

    def get_dependency(self, worker_ctx: Any) -> Caller:
        return Caller(worker_ctx.context_data.get(AUTH_HEADER), self.issuer)


class Store(DependencyProvider):
    """One store (eventsourcing Application) per service container. The relay and the followers
    find it by its attribute name (nameko would rebind a provider held by another provider)."""

    def __init__(self, factory: Callable[[Settings], ServiceStore]) -> None:
        self.factory = factory
        self._store: ServiceStore | None = None

    @property
    def store(self) -> ServiceStore:
        if self._store is None:  # setup order between providers is not defined: make on first use
            self._store = self.factory(settings_from_env())
        return self._store

    def setup(self) -> None:
        _ = self.store

    def get_dependency(self, worker_ctx: Any) -> ServiceStore:
        return self.store


def _store_of(provider: DependencyProvider, attr: str) -> ServiceStore:
    for dependency in provider.container.dependencies:
        if isinstance(dependency, Store) and dependency.attr_name == attr:
            return dependency.store
    raise LookupError(f"no Store named {attr!r} on {provider.container.service_name}")


def run_forever(container: Any, interval: float, job: Callable[[], Any], name: str) -> None:
    """Run `job` every `interval` seconds in a managed thread. Failures are logged, never raised:
    an exception escaping a managed thread stops the whole service process."""

    def loop() -> None:
        while True:
            try:
                job()
            except nameko_exceptions.UnknownService as e:
                log.debug("%s: %s is not running yet", name, e)
            except Exception:
                log.exception("%s failed; will try again", name)
            eventlet.sleep(interval)

    container.spawn_managed_thread(loop)


def crash_after_publish_hook() -> Callable[[int], None] | None:
    """Fault injection for the delivery tests: with HBCLOUD_FAULT_CRASH_AFTER_PUBLISH=1 the process
    dies after the broker confirmed a batch and before the relay recorded its position."""
    if os.environ.get("HBCLOUD_FAULT_CRASH_AFTER_PUBLISH") != "1":
        return None

    def crash(position: int) -> None:
        log.warning("fault injection: exiting after publishing up to %s", position)
        os._exit(70)

    return crash


class Relay(DependencyProvider):
    """Runs the outbox relay of the service's store in the background; workers may also nudge it
    right after a command so events go out promptly."""

    def __init__(self, store_attr: str, contract: Contract) -> None:
        self.store_attr = store_attr
        self.contract = contract

    def setup(self) -> None:
        settings = settings_from_env()
        self.interval = settings.relay_seconds
        self.relay = OutboxRelay(_store_of(self, self.store_attr), self.contract, settings.amqp_uri,
                                 after_publish=crash_after_publish_hook())

    def start(self) -> None:
        run_forever(self.container, self.interval, self.relay.publish_pending, "relay")

    def stop(self) -> None:
        self.relay.close()

    def get_dependency(self, worker_ctx: Any) -> OutboxRelay:
        return self.relay


class Every(DependencyProvider):
    """Runs `job(store)` in the background every `interval(settings)` seconds (e.g. deadline scans
    against the injected clock)."""

    def __init__(self, store_attr: str, job: Callable[[Any], Any], interval: Callable[[Settings], float], name: str) -> None:
        self.store_attr = store_attr
        self.job = job
        self.interval = interval
        self.name = name

    def start(self) -> None:
        store = _store_of(self, self.store_attr)
        run_forever(self.container, self.interval(settings_from_env()), lambda: self.job(store), self.name)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


class UpstreamLog:
    """Pulls an upstream's notifications over RPC with a service token and a timeout."""

    def __init__(self, upstream: str, settings: Settings, timeout: float = 10.0) -> None:
        self.upstream = upstream
        self.config = settings.nameko_config()
        self.token = TokenIssuer(settings.token_secret, settings.clock()).issue(SYSTEM)
        self.timeout = timeout
        self._proxy: ClusterRpcProxy | None = None
        self._rpc: Any = None

    def __call__(self, after: int, limit: int) -> dict[str, Any]:
        if self._rpc is None:
            self._proxy = ClusterRpcProxy(self.config, context_data={AUTH_HEADER: self.token}, timeout=self.timeout)
            self._rpc = self._proxy.start()
        try:
            return getattr(self._rpc, self.upstream).get_notifications(after=after, limit=limit)
        except nameko_exceptions.UnknownService:
            raise  # the upstream is not running (yet): the proxy itself is fine, keep it
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self._proxy is not None:
            try:
                self._proxy.stop()
            except Exception:
                log.debug("closing the upstream proxy failed", exc_info=True)
        self._proxy, self._rpc = None, None


class Follow(DependencyProvider):
    """Follows one upstream: catch-up at start and every `interval` seconds; prompts arrive through
    the entrypoint made by `prompt_entrypoint`."""

    def __init__(self, store_attr: str, upstream: str, handle: Callable[[Any], Handle]) -> None:
        self.store_attr = store_attr
        self.upstream = upstream
        self.make_handle = handle

    def setup(self) -> None:
        settings = settings_from_env()
        self.interval = settings.catch_up_seconds
        store = _store_of(self, self.store_attr)
        self.fetch = UpstreamLog(self.upstream, settings)
        self.follower = Follower(store, self.upstream, self.make_handle(store), self.fetch)

    def start(self) -> None:
        run_forever(self.container, self.interval, self.follower.catch_up, f"catch-up from {self.upstream}")

    def stop(self) -> None:
        self.fetch.close()

    def get_dependency(self, worker_ctx: Any) -> Follower:
        return self.follower


def prompt_entrypoint(upstream: str, follower_attr: str) -> Callable[..., None]:
    """An event handler method for a service class: every message from `<upstream>.events` is a
    prompt for the follower held in the attribute `follower_attr`. Errors are not requeued (that
    loops); the timer's catch-up retries."""

    @event_handler(upstream, "#", reliable_delivery=True, requeue_on_error=False)
    def on_upstream_event(self: Any, message: dict[str, Any]) -> None:
        getattr(self, follower_attr).prompt(message)

    on_upstream_event.__name__ = f"on_{upstream}_event"
    return on_upstream_event


class EventLogRpc:
    """RPCs every service offers on its own log and its followers, mixed into each service class:
    `get_notifications` for consumers, parked events for operators. The class sets `store`,
    `caller`, `contract` and `followed` (attribute names of its Follow dependencies)."""

    contract: Contract
    followed: tuple[str, ...] = ()

    @rpc
    @guarded
    def get_notifications(self, after: int, limit: int = 500) -> dict[str, Any]:
        return notifications_page(self.store, self.contract, self.caller, after, limit)  # type: ignore[attr-defined]

    @rpc
    @guarded
    def list_parked_events(self, include_resolved: bool = False) -> list[dict[str, Any]]:
        self._operator()
        return list_parked(self.store, bool(include_resolved))  # type: ignore[attr-defined]

    @rpc
    @guarded
    def retry_parked_event(self, upstream: str, parked_id: int) -> dict[str, Any]:
        self._operator()
        if upstream not in self.followed:
            raise NotFound({"upstream": upstream, "followed": list(self.followed)})
        return {"retried": getattr(self, upstream).retry_parked(int(parked_id))}

    @rpc
    @guarded
    def health(self) -> dict[str, Any]:
        """How far this service got: its log, what the relay published, what it processed of each
        upstream, and how many events are parked. Province and services."""
        self._operator()
        store = self.store  # type: ignore[attr-defined]
        return {
            "service": self.contract.source,
            "max_position": store.max_position(),
            "published_position": self.relay.published_position(),  # type: ignore[attr-defined]
            "tracked": {upstream: store.tracked_position(upstream) for upstream in self.followed},
            "parked": len(list_parked(store)),
            "now": store.clock.now().isoformat(),
        }

    def _operator(self) -> None:
        if self.caller.principal().role not in (Role.PROVINCE, Role.SERVICE):  # type: ignore[attr-defined]
            raise Forbidden()


def notifications_page(store: ServiceStore, contract: Contract, caller: Caller, after: int, limit: int) -> dict[str, Any]:
    """The body of every service's `get_notifications` RPC."""
    principal = caller.principal()
    if principal.role not in READS_EVENT_LOGS:
        raise Forbidden()
    if not isinstance(after, int) or after < 0 or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidInput.fields({"after": ["must be an integer >= 0"], "limit": ["1..1000"]})
    return log_page(store, contract, after, limit)


__all__ = ["Auth", "Store", "Relay", "Follow", "guarded", "load", "prompt_entrypoint", "notifications_page", "Role"]
