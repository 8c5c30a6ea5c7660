"""Running the services as real processes (`nameko run`) against the real RabbitMQ started by
scripts/test, each test with its own data directory and a clean set of queues."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

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
QUEUES = ["rpc-application", "rpc-tally", "rpc-review", "evt-application-#--tally.on_application_event",
          "evt-application-#--review.on_application_event",
          "evt-review-#--application.on_review_event", "evt-audit-#--application.on_audit_event", "test-capture"]


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
    """The services of one test, as processes."""

    def __init__(self, tmp: Path, amqp_uri: str) -> None:
        self.tmp, self.amqp_uri = tmp, amqp_uri
        self.clock_file = tmp / "clock"
        self.clock_file.write_text("2018-12-03T10:00:00+08:00")
        self.env = {**os.environ, "AMQP_URI": amqp_uri, "HBCLOUD_DATA_DIR": str(tmp / "data"),
                    "HBCLOUD_TOKEN_SECRET": "integration-test-secret-32-bytes-long", "HBCLOUD_CLOCK": f"file:{self.clock_file}",
                    "HBCLOUD_CATCH_UP_SECONDS": "1", "HBCLOUD_DEADLINE_SCAN_SECONDS": "1", "PYTHONPATH": str(ROOT)}
        self.processes: list[subprocess.Popen[bytes]] = []
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
        from services.application.domain import account_id_for
        from services.application.service import make_store

        store = make_store(self.settings())
        store.bootstrap_province_account(PROVINCE[0], PROVINCE_INITIAL, "河北省工业和信息化厅")
        account = store.find(account_id_for(PROVINCE[0]))
        if account.must_change_password:  # the operator's first sign-in, done here in-process
            store.change_password(store.principal_of(account), {"old_password": PROVINCE_INITIAL, "new_password": PROVINCE[1]})
        store.close()

    def start(self, module: str, probe: str, **extra_env: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{module.split(':')[-1]}-{len(self.processes)}.log", "ab")
        process = subprocess.Popen([NAMEKO, "run", "--config", str(ROOT / "config" / "nameko.yaml"), module],
                                   cwd=ROOT, env={**self.env, **extra_env}, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(process)
        service, method = probe.split(".")
        deadline = time.monotonic() + 30
        while True:
            try:
                with cluster(self.amqp_uri, timeout=2) as c:
                    getattr(getattr(c, service), method)(*(["contacts"] if method == "reference_data" else []))
                return process
            except ServiceError:
                return process  # a typed refusal is an answer: the service is up
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{module} did not start:\n{self.logs()}")
                time.sleep(0.3)

    def start_application(self, **extra_env: str) -> subprocess.Popen[bytes]:
        return self.start("services.application.service:ApplicationRpc", "application.reference_data", **extra_env)

    def start_review(self, **extra_env: str) -> subprocess.Popen[bytes]:
        return self.start("services.review.service:ReviewRpc", "review.worklist", **extra_env)

    def start_tally(self, **extra_env: str) -> subprocess.Popen[bytes]:
        return self.start("tests.support.tally_service:TallyRpc", "tally.stats", **extra_env)

    def stop(self, process: subprocess.Popen[bytes], kill: bool = False) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.tmp.glob("*.log")))

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


@pytest.fixture
def system(tmp_path: Path, amqp_uri: str) -> Iterator[System]:
    s = System(tmp_path, amqp_uri)
    s.bootstrap()
    try:
        yield s
    finally:
        s.close()


@contextmanager
def captured_events(amqp_uri: str, source: str = "application") -> Iterator[Any]:
    """A subscriber's own durable queue bound to every event of `source`, as another government
    system would bind one. Yields `drain(seconds)`, which answers every message received so far."""
    with Connection(amqp_uri) as conn:
        queue = Queue("test-capture", exchange=events_exchange(source), routing_key="#", durable=True)
        queue(conn.channel()).declare()
        received: list[Any] = []

        def drain(seconds: float = 3.0) -> list[Any]:
            deadline = time.monotonic() + seconds
            with conn.SimpleQueue(queue) as q:
                while time.monotonic() < deadline:
                    try:
                        message = q.get(timeout=0.3)
                    except q.Empty:
                        continue
                    received.append(message)
                    message.ack()
            return received

        yield drain


def wait_until(predicate: Any, timeout: float = 45.0, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(interval)


def raw_text(message: Any) -> str:
    return message.body if isinstance(message.body, str) else message.body.decode("utf-8")


def body(message: Any) -> dict[str, Any]:
    return json.loads(raw_text(message))
