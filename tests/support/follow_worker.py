"""A consumer process for the exactly-once tests: follows the ping store's log into a tally store
until it has tracked `n` positions. Run two at once on the same stores.

python -m tests.support.follow_worker UPSTREAM_URL DOWNSTREAM_URL N"""
from __future__ import annotations

import sys
import time

from shared.contract import log_page
from shared.follower import Follower
from tests.support.pingpong import PingStore, TallyStore, ping_contract


def main(upstream_url: str, downstream_url: str, n: int) -> None:
    upstream, tally = PingStore(upstream_url), TallyStore(downstream_url)
    # Small pages and one event at a time make the two processes interleave as much as possible.
    follower = Follower(tally, "ping", tally.handle, lambda after, limit: log_page(upstream, ping_contract, after, limit),
                        page_size=5)
    print("ready", flush=True)
    sys.stdin.readline()  # both processes start together
    deadline = time.monotonic() + 120
    while follower.tracked() < n and time.monotonic() < deadline:
        follower.catch_up()
    print("done", follower.tracked(), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
