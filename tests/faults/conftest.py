"""The fault suite's own broker (a RabbitMQ node of its own, on its own port and data directory, so
killing it disturbs nothing else) and its random seed (HBCLOUD_FAULT_SEED replays one)."""
from __future__ import annotations

import os
import random
from typing import Iterator

import pytest

from tests.support.own_broker import OwnBroker, own_broker

# Not the broker-crash tests' 5699: the two never collide. HBCLOUD_FAULT_BROKER_PORT runs another
# copy of the suite beside this one (its node is named after the port).
PORT = int(os.environ.get("HBCLOUD_FAULT_BROKER_PORT", "5698"))
NODE = "hbfaults@localhost" if PORT == 5698 else f"hbfaults{PORT}@localhost"


@pytest.fixture(scope="session")
def fault_broker() -> Iterator[OwnBroker]:
    with own_broker(NODE, PORT) as broker:
        broker.wait_listening()
        yield broker


@pytest.fixture
def fault_seed(request: pytest.FixtureRequest) -> int:
    """Printed at once (not only in a failure's captured output) so a run that hangs can be replayed."""
    seed = int(os.environ.get("HBCLOUD_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    line = f"fault seed {seed} (replay: HBCLOUD_FAULT_SEED={seed})"
    if reporter is not None:
        reporter.write_line(f"\n{request.node.nodeid}: {line}")
    print(line)
    return seed
