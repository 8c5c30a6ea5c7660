"""A command retried with its idempotency key, as a portal retries one whose answer it lost (a
timeout, a service killed after it committed): the first answer again and nothing more recorded,
even where the record has moved on and the same call without the key is refused."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from shared.errors import Conflict, ServiceError
from tests.support.inprocess import Session


def retried(session: Session, command: str, args: tuple[Any, ...], log: Callable[[], Any],
            refused: type[ServiceError] | None = None, other: tuple[Any, ...] | None = None) -> dict[str, Any]:
    """Calls `command(*args)` with a key, then again with the same key: the first answer (its
    `position` too) and `log()` (the service's head) unchanged. `refused`: what the same call without
    the key answers now (None: it would act again). `other`: other input, which the key then refuses
    (`conflict`, naming the command it was used for). Answers the first answer."""
    call = getattr(session, command)
    key = f"retry-{command}"
    first = call(*args, idempotency_key=key)
    if refused is not None:
        with pytest.raises(refused):
            call(*args)
    recorded = log()
    assert call(*args, idempotency_key=key) == first
    assert log() == recorded, f"{command}: a retry with its key recorded something"
    if other is not None:
        with pytest.raises(Conflict) as reused:
            call(*other, idempotency_key=key)
        assert reused.value.details["used_for"] == command
    return dict(first)


def head(session: Session) -> Callable[[], Any]:
    """The position of the last event of the service `session` calls (an account that reads logs)."""
    return lambda: session.get_notifications(0, 1)["max_position"]
