"""The Pulumi engine's log: where the package's info and warning lines reach the user.

The CLI starts every provider plugin with the engine's address as its first argument (the dynamic
host, ``python -m pulumi.dynamic <address>``, ignores it; the native plugin is given it by the SDK).
:func:`attach` connects one handler to the ``pulumi_webhooks`` logger that forwards records at INFO
and above to the engine's ``Log`` RPC, so ``pulumi up`` shows "SHOPLINE answered 429, waiting 2.0 s"
and takeover warnings next to the resource, and ``--debug`` would show the debug ones.

Logging must never fail an operation: a lost engine connection drops the line, nothing else. Records
are redacted by the package loggers' filter before any handler sees them.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import threading
from collections.abc import Sequence
from typing import Any

from pulumi_webhooks._core.redact import get_logger, redact
from pulumi_webhooks._core.scopes import scoped

PACKAGE_LOGGER = "pulumi_webhooks"
LOG_TIMEOUT = 2.0  # seconds one Log RPC may take before the line is dropped

_lock = threading.Lock()
_attached: list[EngineLogHandler] = []  # at most one
# The resource the current operation is for, when the caller knows it (the native plugin does; the
# dynamic host does not tell its providers): the engine shows the line next to that resource.
_resource: contextvars.ContextVar[str] = contextvars.ContextVar("pulumi_webhooks_urn", default="")


def about(urn: str) -> contextlib.AbstractContextManager[str]:
    """Log lines of this thread's operation belong to resource ``urn``."""
    return scoped(_resource, urn)


class EngineLogHandler(logging.Handler):
    """Sends each record to the engine's ``Log`` RPC (severity from the record's level)."""

    def __init__(self, address: str) -> None:
        super().__init__(logging.INFO)
        import grpc
        from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

        self.address = address
        self._pb = engine_pb2
        self._channel = grpc.insecure_channel(address)
        self._stub = engine_pb2_grpc.EngineStub(self._channel)

    def _severity(self, level: int) -> Any:
        pb = self._pb
        if level >= logging.ERROR:
            return pb.ERROR
        if level >= logging.WARNING:
            return pb.WARNING
        if level >= logging.INFO:
            return pb.INFO
        return pb.DEBUG

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = redact(record.getMessage())
            urn = str(getattr(record, "urn", "") or _resource.get())
            self._stub.Log(
                self._pb.LogRequest(severity=self._severity(record.levelno), message=message, urn=urn),
                timeout=LOG_TIMEOUT,
            )
        except Exception:  # the engine is gone or slow: the line is lost, the operation goes on
            return

    def close(self) -> None:
        try:
            self._channel.close()
        finally:
            super().close()


def address_from_argv(argv: Sequence[str] | None = None) -> str | None:
    """The engine address the CLI passed to this plugin process, if any (``host:port``). The CLI starts
    a plugin as ``[--logtostderr] [-v=N] [--tracing ENDPOINT] ENGINE_ADDRESS``: the address is the last
    argument that is neither a flag nor ``--tracing``'s value (which looks like an address too)."""
    args = list(sys.argv[1:] if argv is None else argv)
    positional: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--tracing":
            skip = True
        elif not arg.startswith("-"):
            positional.append(arg)
    return positional[-1] if positional and ":" in positional[-1] else None


def attach(address: str | None = None) -> bool:
    """Forward the package's log records to the engine at ``address`` (default: from ``sys.argv``).
    Idempotent; True when a handler is attached."""
    address = address or address_from_argv()
    if not address:
        return False
    with _lock:
        if _attached:
            return True
        try:
            handler = EngineLogHandler(address)
        except Exception:  # grpc missing or a bad address: run without the engine log
            return False
        logger = get_logger(PACKAGE_LOGGER)
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:  # never hide DEBUG records someone asked for
            logger.setLevel(logging.INFO)
        _attached.append(handler)
        return True


def detach() -> None:
    """Remove the engine handler (tests; a plugin shutting down)."""
    with _lock:
        handlers = _attached[:]
        _attached.clear()
    for handler in handlers:
        get_logger(PACKAGE_LOGGER).removeHandler(handler)
        handler.close()
