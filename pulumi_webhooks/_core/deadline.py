"""The total time budget of one provider operation (retries and rate-limit waits included).

The Python provider host ignores Pulumi's customTimeouts and its Cancel is a no-op, so every
operation bounds itself: the provider opens a scope, and the HTTP client consults it before each try,
before each socket operation (``_core/sockets.py``) and between the chunks of an answer, so that an
operation ends at its deadline (within a fraction of a second) whatever the server does.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

from pulumi_webhooks._core.errors import OperationTimeoutError
from pulumi_webhooks._core.scopes import scoped

# The message of the timeouts raised when the deadline cuts a socket operation or a body read short.
DEADLINE_PASSED = "the operation deadline passed"

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "pulumi_webhooks_deadline", default=None
)


@contextlib.contextmanager
def deadline_scope(seconds: float) -> Iterator[float]:
    """Run the block with a deadline ``seconds`` from now (an outer, earlier deadline wins)."""
    deadline = time.monotonic() + seconds
    outer = _deadline.get()
    if outer is not None:
        deadline = min(deadline, outer)
    with scoped(_deadline, deadline):
        yield deadline


def current_deadline() -> float | None:
    return _deadline.get()


class TimeSpent(OperationTimeoutError):
    """No time left when the next step was to start: the cause is what took the time before (a caller
    that knows it, such as the platform's last answer, reports that instead)."""


def remaining(what: str) -> float | None:
    """Seconds left in the current scope; raises :class:`TimeSpent` when none are left."""
    deadline = _deadline.get()
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeSpent(
            f"{what} ran out of time (pulumi-webhooks:operationTimeout / PULUMI_WEBHOOKS_OPERATION_TIMEOUT)"
        )
    return left
