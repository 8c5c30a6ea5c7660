"""With HBCLOUD_QUORUM_QUEUES=1 (as compose sets it) a follower's event queue is a quorum queue, and
it still wakes the follower; without the setting it stays the classic queue existing brokers hold.
The type is read from the broker itself (rabbitmqctl on the broker scripts/test runs)."""
from __future__ import annotations

import shutil
import subprocess
from urllib.parse import unquote, urlparse

import pytest

from tests.support.system import System

FOLLOWER_QUEUE = "evt-application-#--review.on_application_event"  # review follows application
RPC_QUEUE = "rpc-review"


def queue_types(amqp_uri: str) -> dict[str, str]:
    vhost = unquote(urlparse(amqp_uri).path[1:]) or "/"
    if not shutil.which("rabbitmqctl"):
        pytest.skip("no rabbitmqctl: the broker is not this machine's")
    listed = subprocess.run(["rabbitmqctl", "-n", "rabbit@localhost", "-q", "list_queues", "-p", vhost,
                             "--no-table-headers", "name", "type"], capture_output=True, text=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip(f"rabbitmqctl cannot list the broker's queues: {listed.stderr.strip()}")
    return dict(line.split("\t")[:2] for line in listed.stdout.splitlines() if "\t" in line)


@pytest.mark.parametrize("setting, expected", [("1", "quorum"), ("0", "classic")])
def test_the_follower_queue_type_follows_the_setting(system: System, setting: str, expected: str) -> None:
    system.start_service("review", HBCLOUD_QUORUM_QUEUES=setting)
    types = queue_types(system.amqp_uri)
    assert types[FOLLOWER_QUEUE] == expected
    assert types[RPC_QUEUE] == "classic"  # nameko's RPC queue is left as it is
