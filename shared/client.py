"""An RPC client for portals, operators and tests: nameko's standalone proxy with the caller's
token in the context data and a timeout. Importing shared.wire registers the typed errors, so a
failed call raises the same class the service raised."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from nameko.standalone.rpc import ClusterRpcProxy

from shared.wire import AUTH_HEADER  # and the typed errors, registered for deserialization


@contextmanager
def cluster(amqp_uri: str, token: str | None = None, timeout: float = 30.0) -> Iterator[Any]:
    context = {AUTH_HEADER: token} if token else {}
    with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, context_data=context, timeout=timeout) as rpc:
        yield rpc
