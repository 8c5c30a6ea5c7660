"""Builds a nameko service from a service declaration (shared/definition.py): one RPC method per
operation, each running the kit's pipeline; one event handler per followed upstream, whose messages
are prompts for that upstream's follower; the outbox relay, the followers' catch-up and the
declared timers as background threads. Also the transport's side of identity (the token header)
and of errors (typed errors cross RPC as the same classes).

Only the services' `service.py` modules and RPC clients import this; domain code never does."""
from __future__ import annotations

import contextlib
import faulthandler
import functools
import json
import logging
import os
import signal
from typing import Any, Callable, Iterator

import eventlet
from eventlet import tpool
from eventlet.queue import Empty, Full, LightQueue
from nameko import exceptions as nameko_exceptions
from kombu import Producer
from kombu.transport.pyamqp import Transport as PyAmqpTransport
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko import rpc as nameko_rpc
from nameko.standalone.rpc import ClusterRpcProxy

import shared.messages  # noqa: F401  (bilingual field messages for every input schema)
from shared import identity
from shared.config import Settings, settings_from_env
from shared.definition import Runtime, ServiceDefinition
from shared.errors import InternalError, InvalidInput, NotAuthenticated, ServiceError
from shared.follower import Follower, dispatch
from shared.identity import ServiceCredential, TokenIssuer
from shared.pipeline import Pipeline, all_operations
from shared.queues import follower_event_handler
from shared.lease import Lease
from shared.relay import CHANNEL, OutboxRelay
from shared.wire import AUTH_HEADER  # and the typed errors, registered for deserialization

log = logging.getLogger(__name__)

# Password hashing runs in eventlet's thread pool, off the event loop that serves every other call.
# At most HBCLOUD_PASSWORD_HASH_CONCURRENCY at once (default 1: one argon2 hash already runs 4 lanes on
# every core); more would starve the event loop and hold the workers every other caller needs.
identity.offload = identity.bounded(tpool.execute, int(os.environ.get("HBCLOUD_PASSWORD_HASH_CONCURRENCY", "1")))

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


BODY_SHAPE = "not a JSON object {\"args\": [...], \"kwargs\": {...}} / 请求体须为JSON对象"


def _answer_invalid_body(message: Any) -> None:
    """The typed answer to a request whose body is not `{"args": [...], "kwargs": {...}}`."""
    reply_to, correlation_id = message.properties.get("reply_to"), message.properties.get("correlation_id")
    if not (reply_to and correlation_id):
        return
    payload = str(InvalidInput.fields({"body": [BODY_SHAPE]}))
    reply = {"result": None, "error": {"exc_type": "InvalidInput", "exc_path": "shared.errors.InvalidInput",
                                       "exc_args": [payload], "value": payload}}
    try:
        Producer(message.channel).publish(json.dumps(reply), exchange=RPC_EXCHANGE, routing_key=reply_to,
                                          correlation_id=correlation_id, content_type="application/json",
                                          content_encoding="utf-8")
    except Exception:
        log.warning("could not answer the malformed request", exc_info=True)


def _refuse_undecodable(consumer: Any, message: Any, exc: Exception) -> None:
    """A request whose body is not JSON (or is nested past what a parser follows) gets a typed
    answer instead of silence, and the log gets one line instead of the whole body (kombu's default
    wrote all of it: 200 KB for one absurd request)."""
    size = len(message.body or b"")
    log.warning("refused an undecodable message (%s, %d bytes): %s", message.content_type, size, type(exc).__name__)
    _answer_invalid_body(message)
    message.ack()


_handle_rpc_request = nameko_rpc.RpcConsumer.handle_message


def _refuse_misshapen(self: Any, body: Any, message: Any) -> None:
    """JSON that is not an object, or whose `args` is not a list or `kwargs` not an object, is the
    same `invalid_input` as a body that is not JSON (nameko answered a bare TypeError, or spread a
    string's characters as arguments). A missing `args` or `kwargs` stays nameko's MalformedRequest."""
    if isinstance(body, dict) and isinstance(body.get("args", []), list) and isinstance(body.get("kwargs", {}), dict):
        _handle_rpc_request(self, body, message)
        return
    log.warning("refused a request of the wrong shape (%s)", type(body).__name__)
    _answer_invalid_body(message)
    self.queue_consumer.ack_message(message)


nameko_rpc.RpcConsumer.handle_message = _refuse_misshapen


RPC_EXCHANGE = "nameko-rpc"
QueueConsumer.on_decode_error = _refuse_undecodable

# What kombu counts as the broker going away: socket errors (OSError) and AMQP connection and
# channel errors.
BROKER_GONE: tuple[type[BaseException], ...] = (*PyAmqpTransport.connection_errors, *PyAmqpTransport.channel_errors)


def _settle_or_let_the_broker_redeliver(settle: Callable[[Any, Any], None], what: str) -> Callable[[Any, Any], None]:
    """nameko acks (or requeues) a message when its worker ends, on the connection the message came
    from, and catches only amqp's ConnectionError. When the broker died during the worker, the
    socket raises ConnectionResetError or BrokenPipeError (OSError), which escapes into the worker's
    managed thread and makes nameko kill the whole container: the process dies with the broker
    (tests/integration/test_broker_crash.py found it, on an event handler's ack). An ack that cannot
    be sent is moot: the broker requeues every unacknowledged message of a connection it lost, the
    RPC caller retries with its idempotency key and a follower drops what it already processed."""

    @functools.wraps(settle)
    def settle_quietly(self: Any, message: Any) -> None:
        try:
            settle(self, message)
        except BROKER_GONE as e:
            log.warning("could not %s a message (%s: %s); the broker delivers it again", what, type(e).__name__, e)

    return settle_quietly


QueueConsumer.ack_message = _settle_or_let_the_broker_redeliver(QueueConsumer.ack_message, "acknowledge")
QueueConsumer.requeue_message = _settle_or_let_the_broker_redeliver(QueueConsumer.requeue_message, "requeue")

# kombu retries a lost connection after 2, 4, 6, ... up to 30 s: a consumer could stay deaf for
# 30 s after the broker came back. It tries every 2 s instead (one log line each).
RECONNECT_SECONDS = 2.0


@contextlib.contextmanager
def _establish_connection_promptly(self: Any) -> Iterator[Any]:
    with self.create_connection() as conn:
        conn.ensure_connection(self.on_connection_error, self.connect_max_retries,
                               interval_start=RECONNECT_SECONDS, interval_step=0, interval_max=RECONNECT_SECONDS)
        yield conn


QueueConsumer.establish_connection = _establish_connection_promptly


FIRST_RETRY_SECONDS = 0.25


def run_forever(container: Any, interval: float, job: Callable[[], Any], name: str,
                pause: Callable[[float], Any] = eventlet.sleep) -> None:
    """Run `job` every `interval` seconds (or sooner, when `pause` returns sooner) in a managed
    thread. Failures are logged, never raised: an exception escaping a managed thread stops the
    whole service process. A failed run is tried again sooner, after 0.25 s, doubling while it
    keeps failing, up to `interval`: what made it fail often passes at once (an upstream
    restarting, a pull whose token the clock overtook), and its events would wait a whole
    interval (bench/bench_province.py saw 3–6 s)."""

    def loop() -> None:
        retry = FIRST_RETRY_SECONDS
        while True:
            try:
                job()
            except nameko_exceptions.UnknownService as e:
                log.debug("%s: %s is not running yet", name, e)
            except Exception as e:
                if retry == FIRST_RETRY_SECONDS or retry >= interval:  # the first of a run, then once an interval
                    log.exception("%s failed; will try again", name)
                else:  # the quick retries in between: one line each
                    log.warning("%s failed again (%s: %s); trying again in %.2g s", name, type(e).__name__,
                                str(e)[:200], min(retry, interval))
            else:
                retry = FIRST_RETRY_SECONDS
                pause(interval)
                continue
            pause(min(retry, interval))
            retry *= 2

    container.spawn_managed_thread(loop)


class Wake:
    """Wake-ups for one background thread (a follower's pulls, the relay's publishing). Any number
    of wake-ups while it works leave one, so it works once more afterwards and nothing a wake-up
    announced is missed."""

    def __init__(self) -> None:
        self._pending: LightQueue = LightQueue(maxsize=1)

    def set(self) -> None:
        try:
            self._pending.put_nowait(None)
        except Full:
            pass  # a wake-up is pending already

    def wait(self, timeout: float) -> None:
        """Until a wake-up, or `timeout` seconds."""
        try:
            self._pending.get(timeout=timeout)
        except Empty:
            pass


def crash_after_publish_hook() -> Callable[[int], None] | None:
    """Fault injection for the delivery tests: with HBCLOUD_FAULT_CRASH_AFTER_PUBLISH=1 the process
    dies after the broker confirmed a batch and before the relay recorded its position."""
    if os.environ.get("HBCLOUD_FAULT_CRASH_AFTER_PUBLISH") != "1":
        return None

    def crash(position: int) -> None:
        log.warning("fault injection: exiting after publishing up to %s", position)
        os._exit(70)

    return crash


def dump_green_threads(signum: int = 0, frame: Any = None) -> None:
    """`kill -USR1 <pid>` logs the stack of every green thread of a service: what a process that is
    alive but does not answer is waiting for."""
    import gc
    import traceback

    import greenlet  # type: ignore[import-untyped]

    stacks = []
    for g in gc.get_objects():
        try:  # the heap holds weak proxies whose referent is gone: isinstance on one raises
            if isinstance(g, greenlet.greenlet) and g.gr_frame is not None:
                stacks.append("".join(traceback.format_stack(g.gr_frame)))
        except ReferenceError:
            continue
    log.warning("%d green threads:\n%s", len(stacks), "\n--\n".join(stacks))


def install_stack_dump() -> None:
    """SIGUSR1: every green thread's stack, logged. SIGUSR2: every OS thread's current stack, written
    to stderr by faulthandler at once, even while the event loop is stuck in C (a busy database)."""
    try:
        signal.signal(signal.SIGUSR1, dump_green_threads)
        faulthandler.register(signal.SIGUSR2, all_threads=True)
    except ValueError:  # not the main thread (a test running the service in-process): no signal
        log.debug("no SIGUSR1 stack dump outside the main thread")


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
        try:
            return self._pull(after, limit)
        except NotAuthenticated as e:
            if e.details.get("reason") != "expired_token":
                raise
            # The token expired on its way: the clock moved past it between its issue and its check
            # (a replayed campaign's clock jumps by days). Once more with a new one, rather than
            # leave the events waiting for the next timed pull (bench/bench_province.py saw 3–5 s).
            self.credential.renew()
            return self._pull(after, limit)

    def _pull(self, after: int, limit: int) -> dict[str, Any]:
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

    def __init__(self, pipeline: Pipeline[Any], token: str | None, wakes: dict[str, Wake]) -> None:
        self.pipeline, self.token, self.wakes = pipeline, token, wakes

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self.pipeline.call(name, self.token, args, kwargs)

    def prompt(self, upstream: str, message: dict[str, Any]) -> None:
        """A message from the upstream wakes its follower's own thread, which pulls; the worker
        returns at once. It must not pull itself: a pull holds the follower's lock through an RPC
        to the upstream, and prompts waiting for that lock held every worker of the process (the
        pool is shared with RPC), so the service stopped answering. Two services following each
        other under load deadlocked that way until an RPC timed out, again and again
        (tests/integration/test_broker_crash.py). As with Follower.prompt, the body is only a hint:
        a message at or below the tracked position wakes nothing."""
        position = message.get("position") if isinstance(message, dict) else None
        if isinstance(position, int) and not isinstance(position, bool):
            if position <= self.pipeline.runtime.followers[upstream].tracked():
                return
        self.wakes[upstream].set()


class ServiceRuntime(DependencyProvider):  # type: ignore[misc]
    """The store, relay, followers and timers of one service container."""

    def __init__(self, definition: ServiceDefinition[Any]) -> None:
        self.definition = definition

    def setup(self) -> None:
        settings = settings_from_env()
        d = self.definition
        store = d.make_store(settings)
        lease = Lease(store, store.books.relay_lease, CHANNEL, ttl=settings.relay_lease_seconds)
        relay = OutboxRelay(store, d.contract, settings.amqp_uri, after_publish=crash_after_publish_hook(), lease=lease)
        follows = d.effective_follows()
        self.fetchers = {upstream: UpstreamLog(upstream, settings) for upstream in follows}
        followers = {upstream: Follower(store, upstream, dispatch(store, table), self.fetchers[upstream],
                                        parks=d.parks_failures, batch=d.follow_batch)
                     for upstream, table in follows.items()}
        self.runtime = Runtime(store, d.contract, relay, followers)
        self.wakes = {upstream: Wake() for upstream in follows}
        # The relay looks every HBCLOUD_RELAY_SECONDS, and at once when this process recorded events:
        # waiting for its next look was most of the time from an event's commit to its processing
        # downstream (bench/bench_province.py, docs/performance.md).
        self.relay_wake = Wake()
        # a command that recorded events wakes the relay (not a read that answers a position)
        self.pipeline = Pipeline(d, self.runtime, TokenIssuer(settings.signing_secret(), settings.clock()),
                                 on_recorded=self.relay_wake.set)
        self.settings = settings
        install_stack_dump()

    def start(self) -> None:
        runtime, settings = self.runtime, self.settings
        assert runtime.relay is not None
        run_forever(self.container, settings.relay_seconds, runtime.relay.publish_pending, "relay",
                    pause=self.relay_wake.wait)
        for upstream, follower in runtime.followers.items():  # at start, when prompted, and on a timer
            run_forever(self.container, settings.catch_up_seconds, functools.partial(self._catch_up, follower),
                        f"catch-up from {upstream}", pause=self.wakes[upstream].wait)
        for timer in self.definition.timers:
            run_forever(self.container, timer.interval(settings), functools.partial(timer.job, runtime.store), timer.name)

    def _catch_up(self, follower: Follower) -> None:
        if follower.catch_up():
            self.relay_wake.set()  # what processing recorded goes out now

    def stop(self) -> None:
        if self.runtime.relay is not None:
            self.runtime.relay.stop()
        for fetch in self.fetchers.values():
            fetch.close()

    def get_dependency(self, worker_ctx: Any) -> Caller:
        return Caller(self.pipeline, worker_ctx.context_data.get(AUTH_HEADER), self.wakes)


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
    """Every message from `<upstream>.events` is a prompt for that upstream's follower (Caller.prompt:
    it wakes the follower's thread and returns). Errors are not requeued (that loops); the timer's
    catch-up retries."""

    def on_upstream_event(self: Any, message: dict[str, Any]) -> None:
        self.runtime.prompt(upstream, message)

    on_upstream_event.__name__ = f"on_{upstream}_event"
    return follower_event_handler(upstream, "#", reliable_delivery=True, requeue_on_error=False)(on_upstream_event)  # type: ignore[no-any-return]


def build(definition: ServiceDefinition[Any]) -> type:
    """The nameko service class of a declaration; run it as `nameko run <module>:Service`."""
    attributes: dict[str, Any] = {"name": definition.name, "runtime": ServiceRuntime(definition),
                                  "__doc__": f"The {definition.name} service, built from its declaration."}
    for op in all_operations(definition):
        attributes[op.name] = _rpc_method(op.name)
    for upstream in definition.effective_follows():
        attributes[f"on_{upstream}_event"] = _prompt_entrypoint(upstream)
    return type(f"{definition.name.title()}Service", (), attributes)
