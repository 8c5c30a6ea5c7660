"""Running the services as real processes (`nameko run`) against the real RabbitMQ started by
scripts/test, each test with its own data directory and a clean set of queues."""
from __future__ import annotations

import inspect
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import pytest
from kombu import Connection, Queue

from shared.client import cluster
from shared.config import settings_from_env
from shared.errors import ServiceError
from shared.relay import events_exchange
from tests.support import builders as b

ROOT = Path(__file__).resolve().parents[2]
NAMEKO = str(Path(sys.executable).with_name("nameko"))
PROVINCE = ("province-admin", "Province-admin-2018")
PROVINCE_INITIAL = "Initial-province-2018"
TOKEN_SECRET = "integration-test-secret-32-bytes-long"  # every System's services sign and verify with it
TEST_SERVICES = {"tally": "tests.support.tally_service"}  # declared in the tests, run like the real ones


def _queues() -> list[str]:
    """Every queue the services of the topology (and the tests' own) declare: one for RPC, one per
    followed upstream, and the tests' capture queue."""
    from services.topology import definitions
    from tests.support import tally_service

    queues = ["test-capture"]
    for d in [*definitions(), tally_service.DEFINITION]:
        queues.append(f"rpc-{d.name}")
        queues += [f"evt-{upstream}-#--{d.name}.on_{upstream}_event" for upstream in d.effective_follows()]
    return queues


QUEUES = _queues()


def _amqp_uri() -> str:
    return os.environ.get("HBCLOUD_TEST_AMQP_URI") or os.environ.get("AMQP_URI") or "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture(scope="session")
def amqp_uri() -> str:
    uri = _amqp_uri()
    try:
        with Connection(uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no RabbitMQ at {uri}: scripts/test starts one ({e})")
        pytest.skip(f"no RabbitMQ at {uri}: run scripts/test")
    return uri


class System:
    """The services of one test, as processes, on SQLite files or (backend "postgres") on a
    database per service in the private PostgreSQL scripts/test starts: production's configuration."""

    def __init__(self, tmp: Path, amqp_uri: str, backend: str = "sqlite") -> None:
        self.tmp, self.amqp_uri, self.backend = tmp, amqp_uri, backend
        self.clock_file = tmp / "clock"
        self.clock_file.write_text("2018-12-03T10:00:00+08:00")
        self.env = {**os.environ, "AMQP_URI": amqp_uri, "HBCLOUD_DATA_DIR": str(tmp / "data"),
                    "HBCLOUD_TOKEN_SECRET": TOKEN_SECRET, "HBCLOUD_CLOCK": f"file:{self.clock_file}",
                    "HBCLOUD_CATCH_UP_SECONDS": "1", "HBCLOUD_REGISTRATIONS_PER_MINUTE": "100000",
                    "HBCLOUD_PASSWORD_HASH_CONCURRENCY": "50",  # test-strength hashing: no need to queue
                    "HBCLOUD_DEADLINE_SCAN_SECONDS": "1", "PYTHONPATH": str(ROOT)}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.log_files: dict[int, Path] = {}  # pid -> its log
        self.databases = PostgresDatabases() if backend == "postgres" else None
        if self.databases is not None:
            self.env["HBCLOUD_DATABASE_URL"] = self.databases.url_template
        self.delete_queues()

    def settings(self, **extra: str) -> Any:
        return settings_from_env({**self.env, **extra})

    def delete_queues(self) -> None:
        with Connection(self.amqp_uri) as conn:
            channel = conn.channel()
            for name in QUEUES:
                try:
                    channel.queue_delete(name)
                except Exception:  # absent queue: the channel closes, open another
                    channel = conn.channel()

    def bootstrap(self) -> None:
        """The operator's bootstrap and first sign-in, in-process on the application's store."""
        from services.application.definition import DEFINITION, make_store
        from services.application.handlers.identity import bootstrap_province_account
        from tests.support.inprocess import in_process

        store = make_store(self.settings())
        bootstrap_province_account(store, PROVINCE[0], PROVINCE_INITIAL, "河北省工业和信息化厅")
        service = in_process(DEFINITION, store, store.issuer)
        token = service.call("login", None, [{"username": PROVINCE[0], "password": PROVINCE_INITIAL}])["token"]
        service.call("change_password", token, [{"old_password": PROVINCE_INITIAL, "new_password": PROVINCE[1]}])
        store.close()

    def start(self, module: str, probe: str, wait: float = 30.0, **extra_env: str) -> subprocess.Popen[bytes]:
        process = self._launch(module, **extra_env)
        self._await(process, module, probe, wait)
        return process

    def _launch(self, module: str, **extra_env: str) -> subprocess.Popen[bytes]:
        label = module.split(":")[0].split(".")[-2 if module.endswith(":Service") else -1]  # services.<name>.service
        log = open(self.tmp / f"{label}-{len(self.processes)}.log", "ab")
        process = subprocess.Popen([NAMEKO, "run", "--config", str(ROOT / "config" / "nameko.yaml"), module],
                                   cwd=ROOT, env={**self.env, **extra_env}, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(process)
        self.log_files[process.pid] = Path(log.name)
        return process

    def _await(self, process: subprocess.Popen[bytes], module: str, probe: str, wait: float = 30.0) -> None:
        """Until the service answers `probe` over the broker (a typed refusal is an answer)."""
        service, method = probe.split(".")
        deadline = time.monotonic() + wait
        while True:
            try:
                with cluster(self.amqp_uri, timeout=2) as c:
                    getattr(getattr(c, service), method)()
                return
            except ServiceError:
                return  # a typed refusal is an answer: the service is up
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{module} did not start:\n{self.diagnosis()}")
                time.sleep(0.3)

    @staticmethod
    def _target(name: str) -> str:
        from services.topology import nameko_target

        return f"{TEST_SERVICES[name]}:Service" if name in TEST_SERVICES else nameko_target(name)

    def start_service(self, name: str, wait: float = 30.0, **extra_env: str) -> subprocess.Popen[bytes]:
        """A service of the topology (or of TEST_SERVICES), once it answers over the broker (within
        `wait` seconds, else RuntimeError with a diagnosis)."""
        return self.start(self._target(name), f"{name}.health", wait, **extra_env)

    def start_services(self, *names: str, wait: float = 30.0) -> list[subprocess.Popen[bytes]]:
        """Several services started at once (their start-up overlaps), once each answers."""
        launched = [(name, self._launch(self._target(name))) for name in names]
        for name, process in launched:
            self._await(process, self._target(name), f"{name}.health", wait)
        return [process for _, process in launched]

    def stop(self, process: subprocess.Popen[bytes], kill: bool = False) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-tail:]}" for p in sorted(self.tmp.glob("*.log")))

    def queue_depths(self) -> str:
        """Messages waiting and consumers of each service's RPC queue (or why the broker cannot say)."""
        try:
            with Connection(self.amqp_uri, connect_timeout=3) as conn:
                depths = []
                for name in QUEUES:
                    if name.startswith("rpc-"):
                        try:
                            _, waiting, consumers = conn.channel().queue_declare(name, passive=True)
                            depths.append(f"{name}: {waiting} waiting, {consumers} consumers")
                        except Exception:
                            continue  # no such queue
                return "; ".join(depths)
        except Exception as e:
            return f"queues unknown ({type(e).__name__}: {e})"

    def diagnosis(self) -> str:
        """For a service that stopped answering: which processes are alive (or their exit code), the
        RPC queues' depths, the stack of every thread (SIGUSR2, faulthandler: even one stuck in C)
        and of every green thread (SIGUSR1) of those alive (shared/nameko_service.py), and the logs."""
        states = []
        for p in self.processes:
            code = p.poll()
            states.append(f"{self.log_files[p.pid].name}: pid {p.pid} " + ("alive" if code is None else f"exited with {code}"))
            if code is None:
                os.kill(p.pid, signal.SIGUSR2)
                os.kill(p.pid, signal.SIGUSR1)
        time.sleep(1)
        return "\n".join(states) + "\n" + self.queue_depths() + "\n" + self.logs(tail=30000)

    @contextmanager
    def rpc(self, token: str | None = None) -> Iterator[Any]:
        with cluster(self.amqp_uri, token, timeout=30) as c:
            yield c

    def login(self, username: str, password: str) -> str:
        with self.rpc() as c:
            return c.application.login({"username": username, "password": password})["token"]

    def province_token(self) -> str:
        return self.login(*PROVINCE)

    def open_2018(self, province: str) -> None:
        """The 2018 campaign, with the provider the test applications name in the pool."""
        with self.rpc(province) as c:
            c.application.open_campaign(b.campaign_2018())
            c.application.add_provider({"provider_id": "hbcloud-provider", "name": "某云服务有限公司",
                                        "uscc": b.uscc("130100", 999)})

    def register(self, username: str, serial: int = 1, name: str = "石家庄某钢结构有限公司") -> None:
        with self.rpc() as c:
            c.application.register_enterprise({"username": username, "password": "Secret-pass-1", "uscc": b.uscc(serial=serial),
                                               "name": name, "county_code": "130102"})

    def first_sign_in(self, username: str, initial: str) -> tuple[str, str]:
        """An issued account sets its own password; answers (username, password) to sign in with."""
        chosen = f"{username}-Own-pass-2018"
        with self.rpc(self.login(username, initial)) as c:
            c.application.change_password({"old_password": initial, "new_password": chosen})
        return username, chosen

    def close(self) -> None:
        for p in self.processes:
            self.stop(p, kill=True)  # the test is over: no need to wait for a graceful stop
        self.delete_queues()
        if self.databases is not None:
            self.databases.drop()


class PostgresDatabases:
    """A fresh database per service (and per test service), as docker-compose runs them, dropped
    after the test."""

    def __init__(self) -> None:
        import uuid

        import psycopg2

        from services.topology import SERVICES

        base = os.environ.get("HBCLOUD_TEST_POSTGRES_URL")
        if not base:
            if os.environ.get("CI") == "true":
                pytest.fail("scripts/test starts PostgreSQL and sets HBCLOUD_TEST_POSTGRES_URL")
            pytest.skip("no PostgreSQL (run scripts/test)")
        run = uuid.uuid4().hex[:8]
        self.names = [f"hb_{run}_{service}" for service in [*SERVICES, *TEST_SERVICES]]
        self.url_template = base.rsplit("/", 1)[0] + f"/hb_{run}_{{service}}"
        self.admin = psycopg2.connect(base.replace("postgresql+psycopg2://", "postgresql://"))
        self.admin.autocommit = True
        for name in self.names:
            self.admin.cursor().execute(f"CREATE DATABASE {name}")

    def drop(self) -> None:
        for name in self.names:
            self.admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.admin.close()


def backends() -> list[str]:
    """The stores the process-level suites run on: both, unless HBCLOUD_TEST_BACKENDS names fewer."""
    return [b for b in os.environ.get("HBCLOUD_TEST_BACKENDS", "sqlite,postgres").split(",") if b]


@pytest.fixture(params=backends())
def system(request: pytest.FixtureRequest, tmp_path: Path, amqp_uri: str) -> Iterator[System]:
    s = System(tmp_path, amqp_uri, request.param)
    s.bootstrap()
    try:
        yield s
    finally:
        s.close()


class Capture:
    """What a subscriber's queue received: `received`, every message so far in arrival order."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        self.received: list[Any] = []

    def _take(self, wait: float) -> None:
        try:
            message = self._queue.get(timeout=wait)
        except self._queue.Empty:
            return
        self.received.append(message)
        message.ack()

    def drain(self, until: Callable[[list[Any]], Any], what: str, timeout: float = 45.0,
              context: Callable[[], str] | None = None) -> list[Any]:
        """Receives until `until(received)` holds, then answers every message received so far (as
        soon as it holds: nothing waits longer). Fails the test after `timeout` seconds, naming
        `what` it waited for, what did arrive and, if given, `context()` (e.g. `system.logs`)."""
        deadline = time.monotonic() + timeout
        while not until(self.received):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(_timed_out(what, timeout, f"received {len(self.received)}: {_summary(self.received)}",
                                                context))
            self._take(min(0.3, remaining))
        return list(self.received)

    def quiet(self, seconds: float = 1.0) -> list[Any]:
        """Only for asserting absence ("nothing more arrives"): listens for `seconds` and answers the
        messages that arrived meanwhile (also added to `received`), which the test asserts is empty."""
        already = len(self.received)
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self._take(min(0.3, remaining))
        return self.received[already:]


@contextmanager
def captured_events(amqp_uri: str, source: str = "application") -> Iterator[Capture]:
    """A subscriber's own durable queue bound to every event of `source`, as another government
    system would bind one. Yields a `Capture`: `drain(until=..., what=...)` waits for a condition on
    the messages received, `quiet(seconds)` asserts absence."""
    with Connection(amqp_uri) as conn:
        queue = Queue("test-capture", exchange=events_exchange(source), routing_key="#", durable=True)
        queue(conn.channel()).declare()
        with conn.SimpleQueue(queue) as q:
            yield Capture(q)


T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 45.0, interval: float = 0.3, *, what: str | None = None,
               context: Callable[[], str] | None = None) -> T:
    """Polls `predicate` every `interval` seconds and answers its first truthy value. Fails the test
    after `timeout` seconds, naming `what` it waited for (by default the predicate's source), the
    last value seen and, if given, `context()` (e.g. `system.logs`)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(_timed_out(what or _source_of(predicate), timeout, f"last value seen: {value!r}", context))
        time.sleep(interval)


def _timed_out(what: str, timeout: float, seen: str, context: Callable[[], str] | None) -> str:
    return f"timed out after {timeout:g} s waiting for {what}; {seen}" + (f"\n{context()}" if context else "")


def _source_of(predicate: Callable[..., Any]) -> str:
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return getattr(predicate, "__qualname__", repr(predicate))


def _summary(messages: list[Any], last: int = 10) -> str:
    def one(message: Any) -> str:
        try:
            return f"{message.delivery_info.get('routing_key')}@{body(message).get('position')}"
        except Exception:
            return raw_text(message)[:80]
    shown = [one(m) for m in messages[-last:]]
    return ("... " if len(messages) > last else "") + ", ".join(shown) if messages else "nothing"


def raw_text(message: Any) -> str:
    return message.body if isinstance(message.body, str) else message.body.decode("utf-8")


def body(message: Any) -> dict[str, Any]:
    return json.loads(raw_text(message))
