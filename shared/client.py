"""An RPC client for portals, operators and tests: nameko's standalone proxy with the caller's
token in the context data and a timeout. Importing shared.rpc registers the typed errors, so a
failed call raises the same class the service raised."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from nameko.standalone.rpc import ClusterRpcProxy

import shared.nameko_service  # noqa: F401  (registers the error classes for deserialization)
from shared.nameko_service import AUTH_HEADER


@contextmanager
def cluster(amqp_uri: str, token: str | None = None, timeout: float = 30.0) -> Iterator[Any]:
    context = {AUTH_HEADER: token} if token else {}
    with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, context_data=context, timeout=timeout) as rpc:
        yield rpc
