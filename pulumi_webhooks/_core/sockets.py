"""Every socket operation of the shared HTTP clients, bounded by the operation deadline.

httpx's timeouts bound each socket read, not a request: a server that sends one byte per second never
trips a 2 s read timeout and can hold a request (status line and headers included) for as long as it
likes. So the connection pools of the shared clients get a network backend whose connect, TLS
handshake, read and write take ``min(their own timeout, time left in the operation)`` and fail at once
when none is left (``_core.deadline``: the deadline of the calling thread's operation). An operation
therefore ends at its deadline whatever the server does; without a deadline scope nothing changes.

That includes the name lookup: ``getaddrinfo`` takes no timeout, and a resolver that does not answer is
asked again for tens of seconds. So the backend resolves the host itself, on a daemon thread it waits
for at most that long (a lookup still running then is left to end on its own), and connects to the
addresses in the resolver's order, as ``socket.create_connection`` would.

Loaded with the first HTTP client (httpcore is imported by then anyway).
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from pulumi_webhooks._core.deadline import DEADLINE_PASSED, current_deadline
from pulumi_webhooks._core.redact import get_logger

log = get_logger("pulumi_webhooks.http")


def bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` cut to the time left in the current operation; raises ``expired`` when none is."""
    deadline = current_deadline()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired(DEADLINE_PASSED)
    return left if timeout is None else min(timeout, left)


class ResolveTimeout(httpcore.ConnectTimeout):
    """The host name did not resolve in time; ``deadline``: the operation's deadline ended the wait (the
    message is then :data:`DEADLINE_PASSED`), not the connect timeout."""

    def __init__(self, message: str, *, deadline: bool) -> None:
        super().__init__(message)
        self.deadline = deadline


def resolve(host: str, port: int, timeout: float | None) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order, within ``timeout`` and the operation
    deadline (:class:`ResolveTimeout` when they pass; ``httpcore.ConnectError`` with the resolver's
    ``socket.gaierror`` as its cause when the name does not resolve)."""
    try:
        ipaddress.ip_address(host)
        return [host]  # nothing to look up
    except ValueError:
        pass
    limit = bounded(timeout, httpcore.ConnectTimeout)
    try:
        if limit is None:  # no bound asked for: as the default backend does
            found = _addresses(host, port)
        else:
            answer: concurrent.futures.Future[list[Any]] = concurrent.futures.Future()
            threading.Thread(target=_look_up, args=(answer, host, port), name="resolve", daemon=True).start()
            try:
                found = answer.result(limit)
            except concurrent.futures.TimeoutError:
                if timeout is None or limit < timeout:
                    raise ResolveTimeout(DEADLINE_PASSED, deadline=True) from None
                raise ResolveTimeout(
                    f"the host name did not resolve within {limit:g} s", deadline=False
                ) from None
    except OSError as exc:  # socket.gaierror: no such name, or the resolver failed
        raise httpcore.ConnectError(str(exc)) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _addresses(host: str, port: int) -> list[Any]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def _look_up(answer: concurrent.futures.Future[list[Any]], host: str, port: int) -> None:
    try:
        answer.set_result(_addresses(host, port))
    except BaseException as exc:  # handed to the thread that waits for it
        answer.set_exception(exc)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write stops at the operation deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, bounded(timeout, httpcore.ConnectTimeout))
        return DeadlineStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Opens :class:`DeadlineStream` connections through the pool's own backend."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in resolve(host, port, timeout):
            left = bounded(timeout, httpcore.ConnectTimeout)
            try:
                return DeadlineStream(
                    self._backend.connect_tcp(address, port, left, local_address, socket_options)
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:  # the next address may answer
                failure = exc
        raise failure or httpcore.ConnectError(f"{host} resolved to no address")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = bounded(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def bound_by_deadline(client: httpx.Client) -> bool:
    """Give every connection pool of ``client`` (its own and any proxy's) the deadline backend. True when
    all were found; httpx keeps them in private attributes, so a layout this does not know is logged
    and left as is (the body reads of ``_core.http`` still check the clock)."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    complete = True
    for transport in transports:
        if transport is None:  # a mount that disables proxying for a pattern
            continue
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, DeadlineBackend):
            continue
        if not isinstance(backend, httpcore.NetworkBackend):
            complete = False
            continue
        setattr(pool, "_network_backend", DeadlineBackend(backend))  # noqa: B010 (a private attribute)
    if not complete:
        log.debug("HTTP client layout not recognised: socket reads are not cut at the operation deadline")
    return complete
