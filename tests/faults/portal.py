"""A portal during the broker's outage, as a process of its own: calls one cheap RPC in a loop with
a client timeout until the stop file appears, writing each call (when, how long, outcome) as a JSON
line. Run by the fault suite: python -m tests.faults.portal AMQP_URI TIMEOUT OUT STOP_FILE"""
import eventlet

eventlet.monkey_patch()  # as the CLI and every nameko client: before kombu is imported

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from amqp.exceptions import AMQPError  # noqa: E402
from kombu.exceptions import KombuError  # noqa: E402
from nameko.exceptions import RpcTimeout, UnknownService  # noqa: E402

from shared.client import cluster  # noqa: E402
from shared.errors import ServiceError  # noqa: E402

# What a portal can catch by type: a service's refusal, the client's own timeout, a service not (yet)
# consuming its queue, and a broker that is gone (the socket's error, or kombu's and amqp's types).
TYPED = (ServiceError, RpcTimeout, UnknownService, OSError, AMQPError, KombuError)


def main(uri: str, timeout: float, out: Path, stop: Path) -> None:
    began = time.monotonic()
    with out.open("a") as f:
        while not stop.exists():
            t0 = time.monotonic()
            typed, error = True, ""
            try:
                with cluster(uri, timeout=timeout) as c:
                    c.application.reference_data("divisions")
                outcome = "ok"
            except Exception as e:
                outcome, typed, error = type(e).__name__, isinstance(e, TYPED), str(e)[:200]
            f.write(json.dumps({"began": round(t0 - began, 3), "seconds": round(time.monotonic() - t0, 3),
                                "outcome": outcome, "typed": typed, "error": error}) + "\n")
            f.flush()
            time.sleep(0.2)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
