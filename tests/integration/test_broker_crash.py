"""The broker dies (SIGKILL) with RPC calls in flight: the service must not die with it. nameko
kills a whole container when it cannot send a reply; our entrypoint logs that instead, and the
service answers again once the broker is back. On a broker of the test's own (its own node, port
and data), so nothing else is disturbed."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from shared.errors import ServiceError
from tests.support.system import System, wait_until

PORT = 5699
NODE_ENV = b"RABBITMQ_NODENAME=hbcrash@localhost"


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def kill_node() -> None:
    """SIGKILL every process of the test's node: Debian's wrapper runs the VM as the rabbitmq user in
    a session of its own, with the node's name only in its environment."""
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and NODE_ENV in (proc / "environ").read_bytes():
                os.kill(int(proc.name), 9)
        except (OSError, ValueError):
            continue


class OwnBroker:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, "RABBITMQ_NODENAME": "hbcrash@localhost", "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                    "RABBITMQ_NODE_PORT": str(PORT), "RABBITMQ_DIST_PORT": str(PORT + 20000),
                    "RABBITMQ_MNESIA_BASE": str(base / "mnesia"), "RABBITMQ_LOG_BASE": str(base / "log"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins")}
        base.mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        shutil.chown(base, "rabbitmq", "rabbitmq")  # Debian's rabbitmq-server runs as the rabbitmq user

    def start(self) -> None:
        log = open(self.base / "broker.out", "ab")
        self.process = subprocess.Popen(["rabbitmq-server"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        wait_until(lambda: _answers(PORT), timeout=60, what="the test's own broker to listen")

    def kill(self) -> None:
        """SIGKILL to every process of the node (Debian's wrapper runs the VM as another user, in
        its own session)."""
        assert self.process is not None
        kill_node()
        self.process.wait()
        wait_until(lambda: not _answers(PORT), timeout=20, what="the killed broker to stop listening")


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    if shutil.which("rabbitmq-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("rabbitmq-server is not installed (scripts/test installs it)")
        pytest.skip("rabbitmq-server is not installed")
    base = Path(tempfile.mkdtemp(prefix="hbcloud-own-broker-", dir="/var/tmp"))  # readable by the rabbitmq user
    broker = OwnBroker(base)
    broker.start()
    try:
        yield broker
    finally:
        kill_node()
        shutil.rmtree(base, ignore_errors=True)


def test_a_broker_killed_under_load_does_not_kill_the_service(tmp_path, own_broker):
    (tmp_path / "system").mkdir()
    system = System(tmp_path / "system", f"amqp://guest:guest@127.0.0.1:{PORT}//")
    system.bootstrap()
    try:
        service = system.start_service("application")
        stop = threading.Event()

        def keep_calling() -> None:
            while not stop.is_set():
                try:
                    with system.rpc() as c:
                        while not stop.is_set():
                            c.application.reference_data("divisions")
                except Exception:
                    time.sleep(0.2)  # the broker is gone: try again

        callers = [threading.Thread(target=keep_calling, daemon=True) for _ in range(12)]
        for t in callers:
            t.start()
        time.sleep(2)  # calls in flight
        own_broker.kill()
        time.sleep(3)
        assert service.poll() is None, "the service died with the broker:\n" + system.logs()
        own_broker.start()

        def answers() -> bool:
            try:
                with system.rpc() as c:
                    return bool(c.application.reference_data("contacts"))
            except ServiceError:
                return True
            except Exception:
                return False

        wait_until(answers, timeout=90, what="the service to answer again after the broker came back", context=system.logs)
        stop.set()
        assert service.poll() is None, system.logs()
    finally:
        system.close()
