"""Outbox relay: publishes a service's notification log to the topic exchange `<service>.events`,
in position order, persistent, with publisher confirms, then records how far it got.

At least once: the position is recorded only after the broker confirmed, so a crash in between
publishes those events again on restart, and consumers drop the duplicates by position."""
from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

from kombu import Connection, Exchange, Producer
from sqlalchemy import select

from shared.contract import Contract
from shared.ports import PublishedLog
from shared.store import upsert_if_greater

log = logging.getLogger(__name__)

CHANNEL = "amqp"


def events_exchange(source: str) -> Exchange:
    # Declared exactly as nameko declares it, so nameko consumers and we agree on the exchange.
    return Exchange(f"{source}.events", type="topic", durable=True, delivery_mode=2)


class OutboxRelay:
    def __init__(
        self,
        store: PublishedLog,
        contract: Contract,
        amqp_uri: str,
        *,
        batch: int = 500,
        after_publish: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.contract = contract
        self.amqp_uri = amqp_uri
        self.batch = batch
        self.exchange = events_exchange(contract.source)
        # Test seam: called after the broker confirmed, before the position is recorded.
        self._after_publish = after_publish
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self.last_error: str | None = None  # why the last attempt failed, for `health`; None once it succeeds

    def published_position(self) -> int:
        table = self.store.books.relay_positions
        with self.store.reading() as session:
            found = session.execute(select(table.c.position).where(table.c.channel == CHANNEL)).scalar()
        return int(found or 0)

    def publish_pending(self) -> int:
        """Publish everything not yet published; returns how many messages were sent."""
        try:
            sent = self._publish_pending()
        except Exception as e:
            self.last_error = str(e)[:500]
            raise
        self.last_error = None
        return sent

    def _publish_pending(self) -> int:
        with self._lock:
            sent = 0
            while True:
                start = self.published_position()
                notifications = self.store.notification_log.select(start=start + 1, limit=self.batch)
                if not notifications:
                    return sent
                envelopes = self.contract.envelopes(self.store.mapper, notifications, self.store.installation_id)
                self._publish(envelopes)
                last = envelopes[-1]["position"]
                if self._after_publish is not None:
                    self._after_publish(last)
                self._record(last)
                sent += len(envelopes)

    def _publish(self, envelopes: list[dict[str, Any]]) -> None:
        try:
            producer = Producer(self._channel(), exchange=self.exchange)
            for envelope in envelopes:
                # confirm_publish makes each publish wait for the broker's ack.
                producer.publish(
                    json.dumps(envelope, ensure_ascii=False).encode("utf-8"),
                    routing_key=envelope["type"],
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    declare=[self.exchange],
                    message_id=envelope["event_id"],
                )
        except Exception:
            self.close()
            raise

    def _record(self, position: int) -> None:
        with self.store.transaction() as session:
            upsert_if_greater(session, self.store.books.relay_positions, {"channel": CHANNEL}, "position", position)

    def _channel(self) -> Any:
        if self._connection is None:
            self._connection = Connection(self.amqp_uri, transport_options={"confirm_publish": True})
            self._connection.ensure_connection(max_retries=3)
        return self._connection.default_channel

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # closing a broken connection must not mask the original error
                log.debug("relay connection close failed", exc_info=True)
            self._connection = None
