"""Builds a nameko service from a service declaration (shared/definition.py): one RPC method per
operation, each running the kit's pipeline; one event handler per followed upstream, whose messages
are prompts for that upstream's follower; the outbox relay, the followers' catch-up and the
declared timers as background threads. Also the transport's side of identity (the token header)
and of errors (typed errors cross RPC as the same classes).

Only the services' `service.py` modules and RPC clients import this; domain code never does."""
from __future__ import annotations

import functools
import json
import logging
import os
from typing import Any, Callable

import eventlet
from eventlet import tpool
from nameko import exceptions as nameko_exceptions
from nameko.events import event_handler
from kombu import Producer
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko import rpc as nameko_rpc
from nameko.standalone.rpc import ClusterRpcProxy

import shared.messages  # noqa: F401  (bilingual field messages for every input schema)
from shared import identity
from shared.config import Settings, settings_from_env
from shared.definition import Runtime, ServiceDefinition
from shared.errors import ALL_ERRORS, InternalError, InvalidInput, ServiceError
from shared.follower import Follower, dispatch
from shared.identity import ServiceCredential, TokenIssuer
from shared.pipeline import Pipeline, all_operations
from shared.relay import OutboxRelay

log = logging.getLogger(__name__)

AUTH_HEADER = "auth_token"

# Password hashing runs in eventlet's thread pool, off the event loop that serves every other call.
# At most HBCLOUD_PASSWORD_HASH_CONCURRENCY at once (default 1: one argon2 hash already runs 4 lanes on
# every core); more would starve the event loop and hold the workers every other caller needs.
identity.offload = identity.bounded(tpool.execute, int(os.environ.get("HBCLOUD_PASSWORD_HASH_CONCURRENCY", "1")))

# Errors cross RPC as the same classes: nameko rebuilds registered exceptions on the caller's side.
for _cls in ALL_ERRORS:
    nameko_exceptions.registry[nameko_exceptions.get_module_path(_cls)] = _cls


class RejectedCallsInOneLine(logging.Filter):
    """nameko logs every exception a worker raised as an ERROR with its traceback. A typed refusal
    (bad input, no token, not found) is the caller's matter: one WARNING line with the code, and no
    traceback; only an internal error keeps its trace (the pipeline logged it already)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ServiceError) and not isinstance(error, InternalError):
            worker = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "rejected %s: %s %s", (worker, error.code, _short(error.details))
            record.exc_info, record.exc_text = None, None
        return True


def _short(details: Any, limit: int = 300) -> str:
    text = json.dumps(details, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


logging.getLogger("nameko.containers").addFilter(RejectedCallsInOneLine())


def _refuse_undecodable(consumer: Any, message: Any, exc: Exception) -> None:
    """A request whose body is not JSON (or is nested past what a parser follows) gets a typed
    answer instead of silence, and the log gets one line instead of the whole body (kombu's default
    wrote all of it: 200 KB for one absurd request)."""
    size = len(message.body or b"")
    log.warning("refused an undecodable message (%s, %d bytes): %s", message.content_type, size, type(exc).__name__)
    reply_to, correlation_id = message.properties.get("reply_to"), message.properties.get("correlation_id")
    if reply_to and correlation_id:
        payload = str(InvalidInput.fields({"body": ["not a JSON object {\"args\": [...], \"kwargs\": {...}} "
                                                    "/ 请求体须为JSON对象"]}))
        reply = {"result": None, "error": {"exc_type": "InvalidInput", "exc_path": "shared.errors.InvalidInput",
                                           "exc_args": [payload], "value": payload}}
        try:
            Producer(message.channel).publish(json.dumps(reply), exchange=RPC_EXCHANGE, routing_key=reply_to,
                                              correlation_id=correlation_id, content_type="application/json",
                                              content_encoding="utf-8")
        except Exception:
            log.warning("could not answer the undecodable message", exc_info=True)
    message.ack()


RPC_EXCHANGE = "nameko-rpc"
QueueConsumer.on_decode_error = _refuse_undecodable


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


class UpstreamLog:
    """Pulls an upstream's notifications over RPC with a service token and a timeout."""

    def __init__(self, upstream: str, settings: Settings, timeout: float = 10.0) -> None:
        self.upstream = upstream
        self.config = settings.nameko_config()
        self.credential = ServiceCredential(TokenIssuer(settings.signing_secret(), settings.clock()))
        self.timeout = timeout
        self._proxy: ClusterRpcProxy | None = None
        self._proxy_token: str | None = None
        self._rpc: Any = None

    def __call__(self, after: int, limit: int) -> dict[str, Any]:
        token = self.credential.token()
        if self._rpc is not None and token != self._proxy_token:
            self.close()  # the proxy's context carries the token: renew both
        if self._rpc is None:
            self._proxy = ClusterRpcProxy(self.config, context_data={AUTH_HEADER: token}, timeout=self.timeout)
            self._rpc = self._proxy.start()
            self._proxy_token = token
        try:
            page: dict[str, Any] = getattr(self._rpc, self.upstream).get_notifications(after=after, limit=limit)
            return page
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


class Caller:
    """One worker's view of the running service: calls go through the pipeline with its token."""

    def __init__(self, pipeline: Pipeline[Any], token: str | None) -> None:
        self.pipeline, self.token = pipeline, token

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self.pipeline.call(name, self.token, args, kwargs)

    def prompt(self, upstream: str, message: dict[str, Any]) -> None:
        self.pipeline.runtime.followers[upstream].prompt(message)


class ServiceRuntime(DependencyProvider):  # type: ignore[misc]
    """The store, relay, followers and timers of one service container."""

    def __init__(self, definition: ServiceDefinition[Any]) -> None:
        self.definition = definition

    def setup(self) -> None:
        settings = settings_from_env()
        d = self.definition
        store = d.make_store(settings)
        relay = OutboxRelay(store, d.contract, settings.amqp_uri, after_publish=crash_after_publish_hook())
        follows = d.effective_follows()
        self.fetchers = {upstream: UpstreamLog(upstream, settings) for upstream in follows}
        followers = {upstream: Follower(store, upstream, dispatch(store, table), self.fetchers[upstream])
                     for upstream, table in follows.items()}
        self.runtime = Runtime(store, d.contract, relay, followers)
        self.pipeline = Pipeline(d, self.runtime, TokenIssuer(settings.signing_secret(), settings.clock()))
        self.settings = settings

    def start(self) -> None:
        runtime, settings = self.runtime, self.settings
        assert runtime.relay is not None
        run_forever(self.container, settings.relay_seconds, runtime.relay.publish_pending, "relay")
        for upstream, follower in runtime.followers.items():
            run_forever(self.container, settings.catch_up_seconds, follower.catch_up, f"catch-up from {upstream}")
        for timer in self.definition.timers:
            run_forever(self.container, timer.interval(settings), functools.partial(timer.job, runtime.store), timer.name)

    def stop(self) -> None:
        if self.runtime.relay is not None:
            self.runtime.relay.close()
        for fetch in self.fetchers.values():
            fetch.close()

    def get_dependency(self, worker_ctx: Any) -> Caller:
        return Caller(self.pipeline, worker_ctx.context_data.get(AUTH_HEADER))


class ReplySafeRpc(nameko_rpc.Rpc):  # type: ignore[misc]
    """nameko's RPC entrypoint, except that a reply that cannot be sent (the broker died with calls
    in flight) is logged instead of killing the whole container, relay and followers with it. The
    request stays unacknowledged, so the broker delivers it again once it is back; commands that
    matter carry an idempotency key, and the caller's retry acts once."""

    def handle_result(self, message: Any, worker_ctx: Any, result: Any, exc_info: Any) -> Any:
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except Exception as e:
            log.warning("could not send the reply of %s (%s: %s); the request will be delivered again",
                        worker_ctx, type(e).__name__, e)
            return result, exc_info


def _rpc_method(name: str) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self.runtime.call(name, args, kwargs)

    method.__name__ = method.__qualname__ = name
    return ReplySafeRpc.decorator(method)  # type: ignore[no-any-return]


def _prompt_entrypoint(upstream: str) -> Callable[..., None]:
    """Every message from `<upstream>.events` is a prompt for that upstream's follower. Errors are
    not requeued (that loops); the timer's catch-up retries."""

    def on_upstream_event(self: Any, message: dict[str, Any]) -> None:
        self.runtime.prompt(upstream, message)

    on_upstream_event.__name__ = f"on_{upstream}_event"
    return event_handler(upstream, "#", reliable_delivery=True, requeue_on_error=False)(on_upstream_event)  # type: ignore[no-any-return]


def build(definition: ServiceDefinition[Any]) -> type:
    """The nameko service class of a declaration; run it as `nameko run <module>:Service`."""
    attributes: dict[str, Any] = {"name": definition.name, "runtime": ServiceRuntime(definition),
                                  "__doc__": f"The {definition.name} service, built from its declaration."}
    for op in all_operations(definition):
        attributes[op.name] = _rpc_method(op.name)
    for upstream in definition.effective_follows():
        attributes[f"on_{upstream}_event"] = _prompt_entrypoint(upstream)
    return type(f"{definition.name.title()}Service", (), attributes)
