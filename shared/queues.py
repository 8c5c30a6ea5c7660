"""The followers' event queues (`evt-<upstream>-#--<service>.on_<upstream>_event`): durable, and
quorum queues when the installation says so (HBCLOUD_QUORUM_QUEUES=1; docs/operations.md).

A quorum queue is replicated across a cluster's nodes and written to disk before the broker confirms
a publish, so an event's prompt survives the loss of a node. A queue's type is fixed when it is first
declared: a broker that holds the classic queue refuses a quorum declaration of the same name
(PRECONDITION_FAILED), which is why the setting is off unless an installation turns it on (compose
does, on its own broker). RPC queues and reply queues are nameko's own and stay as they are."""
from __future__ import annotations

from typing import Any

from nameko.events import EventHandler

from shared.config import settings_from_env

QUORUM = {"x-queue-type": "quorum"}


class FollowerEventHandler(EventHandler):  # type: ignore[misc]
    """nameko's event handler, whose queue is declared as a quorum queue with the setting on."""

    def setup(self) -> None:
        super().setup()  # builds self.queue; it is declared when the consumer starts, after this
        if settings_from_env().quorum_queues:
            queue: Any = self.queue
            # A quorum queue must outlive its consumers: reliable delivery gives exactly that.
            assert queue.durable and not queue.auto_delete and not queue.exclusive, queue
            queue.queue_arguments = {**(queue.queue_arguments or {}), **QUORUM}


follower_event_handler = FollowerEventHandler.decorator
