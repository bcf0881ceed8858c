"""A context variable set for the length of a block: the operation's deadline, the provider
configuration in force and the resource an operation is for are each scoped this way, per thread of
work, never process-wide."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def scoped(var: contextvars.ContextVar[T], value: T) -> Iterator[T]:
    """``var`` is ``value`` in the block (and in what it calls on this thread), then what it was."""
    token = var.set(value)
    try:
        yield value
    finally:
        var.reset(token)
