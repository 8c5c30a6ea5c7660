"""Calling the services without nameko and without this repository: plain AMQP with kombu, as a
portal in any language would (docs/rpc.md, "The wire"). Prints the reply as JSON.

    python examples/plain_rpc_client.py AMQP_URI SERVICE METHOD 'JSON_ARGS' ['JSON_KWARGS'] [TOKEN]

e.g. python examples/plain_rpc_client.py amqp://guest:guest@127.0.0.1:5672/ application login \\
         '[{"username": "province-admin", "password": "..."}]'
"""
from __future__ import annotations

import json
import sys
import uuid

from kombu import Connection, Exchange, Producer, Queue

RPC_EXCHANGE = Exchange("nameko-rpc", type="topic", durable=True)  # every service's RPC requests


def call(amqp_uri: str, service: str, method: str, args: list, kwargs: dict, token: str | None = None,
         timeout: float = 30.0) -> dict:
    """One request, one reply: {"result": ..., "error": null} or {"result": null, "error": {...}}."""
    reply_key = f"plain-client-{uuid.uuid4()}"
    correlation_id = str(uuid.uuid4())
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        # Our own reply queue, bound to the RPC exchange under a routing key only we use.
        reply_queue = Queue(reply_key, exchange=RPC_EXCHANGE, routing_key=reply_key, exclusive=True, auto_delete=True)
        reply_queue(channel).declare()
        headers = {"nameko.auth_token": token} if token else {}
        Producer(channel).publish(
            json.dumps({"args": args, "kwargs": kwargs}), exchange=RPC_EXCHANGE, routing_key=f"{service}.{method}",
            content_type="application/json", content_encoding="utf-8", reply_to=reply_key,
            correlation_id=correlation_id, headers=headers, mandatory=True, declare=[RPC_EXCHANGE])
        replies: list[dict] = []

        def on_reply(body: object, message: object) -> None:
            if message.properties.get("correlation_id") == correlation_id:  # type: ignore[attr-defined]
                replies.append(body if isinstance(body, dict) else json.loads(body))  # type: ignore[arg-type]
            message.ack()  # type: ignore[attr-defined]

        with conn.Consumer(reply_queue, callbacks=[on_reply], accept=["json"]):
            while not replies:
                conn.drain_events(timeout=timeout)
    reply = replies[0]
    error = reply.get("error")
    if error and error.get("exc_args"):
        # The services' errors carry their payload as JSON text: {code, message_zh, message_en, details}.
        try:
            error = {**error, "payload": json.loads(error["exc_args"][0])}
        except ValueError:
            pass  # nameko's own errors (an unknown method, a wrong number of arguments) carry plain text
    return {"result": reply.get("result"), "error": error}


if __name__ == "__main__":
    uri, service, method, raw_args = sys.argv[1:5]
    raw_kwargs = sys.argv[5] if len(sys.argv) > 5 else "{}"
    token = sys.argv[6] if len(sys.argv) > 6 else None
    print(json.dumps(call(uri, service, method, json.loads(raw_args), json.loads(raw_kwargs), token), ensure_ascii=False))
