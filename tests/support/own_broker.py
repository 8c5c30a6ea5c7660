"""A RabbitMQ node of a test's own (its own node name, port and data directory), for tests that kill
the broker: nothing else on the machine's broker is disturbed. Debian's `rabbitmq-server` wrapper
runs the VM as the rabbitmq user in a session of its own, so the node is found (and SIGKILLed) by
the node name in its processes' environment."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.system import wait_until


def answers(port: int) -> bool:
    """Something listens on the port (the node's AMQP listener opens last, once the node is up)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def kill_node(node: str, port: int) -> None:
    """SIGKILL every process of the node, then wait until its port is closed (so nothing of it is
    still there when another node of this name starts)."""
    marker = f"RABBITMQ_NODENAME={node}".encode()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "environ").read_bytes():
                os.kill(int(proc.name), 9)
        except (OSError, ValueError):
            continue
    deadline = time.monotonic() + 20
    while answers(port) and time.monotonic() < deadline:
        time.sleep(0.2)


class OwnBroker:
    def __init__(self, base: Path, node: str, port: int) -> None:
        self.base, self.node, self.port = base, node, port
        self.uri = f"amqp://guest:guest@127.0.0.1:{port}//"
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, "RABBITMQ_NODENAME": node, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                    "RABBITMQ_NODE_PORT": str(port), "RABBITMQ_DIST_PORT": str(port + 20000),
                    "RABBITMQ_MNESIA_BASE": str(base / "mnesia"), "RABBITMQ_LOG_BASE": str(base / "log"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins")}
        base.mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        shutil.chown(base, "rabbitmq", "rabbitmq")  # Debian's rabbitmq-server runs as the rabbitmq user

    def start(self, wait: bool = True) -> None:
        """Starts the node on its data directory (again, after a kill: durable queues survive)."""
        kill_node(self.node, self.port)  # nothing of an earlier node of this name may still hold the port
        log = open(self.base / "broker.out", "ab")
        self.process = subprocess.Popen(["rabbitmq-server"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        if wait:
            self.wait_listening()

    def wait_listening(self) -> None:
        wait_until(lambda: answers(self.port), timeout=60, what=f"the test's own broker {self.node} to listen")

    def kill(self) -> None:
        """SIGKILL to every process of the node."""
        assert self.process is not None
        kill_node(self.node, self.port)
        self.process.wait()
        wait_until(lambda: not answers(self.port), timeout=20, what="the killed broker to stop listening")

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-chars:]}"
                         for p in [self.base / "broker.out", *sorted((self.base / "log").glob("*.log"))] if p.exists())


@contextmanager
def own_broker(node: str, port: int) -> Iterator[OwnBroker]:
    """A started node (not yet awaited: the caller may prepare data meanwhile, then wait_listening()),
    killed and its data removed afterwards. Skips when rabbitmq-server is not installed (fails on CI)."""
    if shutil.which("rabbitmq-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("rabbitmq-server is not installed (scripts/test installs it)")
        pytest.skip("rabbitmq-server is not installed")
    base = Path(tempfile.mkdtemp(prefix=f"hbcloud-{node.split('@')[0]}-", dir="/var/tmp"))  # readable by the rabbitmq user
    broker = OwnBroker(base, node, port)
    broker.start(wait=False)
    try:
        yield broker
    finally:
        kill_node(node, port)
        shutil.rmtree(base, ignore_errors=True)
