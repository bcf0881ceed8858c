"""A real HTTP server on loopback that misbehaves on purpose: it drips its answer a byte at a time, or
sends far more than any platform would. A test-local socket server (not the sandbox): what it does to
the bytes on the wire is the point, and it records what it sent and when each connection ended.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Behaviour = Callable[["Connection"], None]
FILLER = b'{"webhooks": [' + b'{"id": "0000000000", "topic": "orders/create"}, ' * 1400  # ~64 KiB


@dataclass
class Connection:
    """One accepted connection: what the behaviour sends, and whether the client is still there."""

    sock: socket.socket
    accepted_at: float
    ended_at: float | None = None
    sent: int = 0
    requests: list[bytes] = field(default_factory=list)  # request lines received

    def read_request(self) -> bool:
        """Read one request (head and a Content-Length body); False when the client went away."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self._recv()
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = self._recv()
            if not chunk:
                return False
            body += chunk
        self.requests.append(head.split(b"\r\n", 1)[0])
        return True

    def send(self, data: bytes) -> bool:
        """Send ``data``; False when the client closed the connection."""
        try:
            self.sock.sendall(data)
        except OSError:
            self._ended()
            return False
        self.sent += len(data)
        return True

    def drip(self, data: bytes, interval: float) -> bool:
        """Send ``data`` one byte every ``interval`` seconds, noticing at once when the client leaves."""
        for i in range(len(data)):
            if not self.send(data[i : i + 1]):
                return False
            if not self.wait_open(interval):
                return False
        return True

    def wait_open(self, seconds: float) -> bool:
        """Wait ``seconds`` unless the client closes first (then False)."""
        give_up = time.monotonic() + seconds
        while (left := give_up - time.monotonic()) > 0:
            readable, _, _ = select.select([self.sock], [], [], left)
            if readable:
                try:
                    if self.sock.recv(65536, socket.MSG_PEEK) == b"":
                        self._ended()
                        return False
                except OSError:
                    self._ended()
                    return False
                return True  # the client sent something (a next request): still there
        return True

    def _recv(self) -> bytes:
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self._ended()
        return chunk

    def _ended(self) -> None:
        if self.ended_at is None:
            self.ended_at = time.monotonic()


class HostileServer:
    """Serves every connection with ``behaviour`` on a thread of its own."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.connections: list[Connection] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> HostileServer:
        self._accepting.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._accepting.join(5)
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    @property
    def requests(self) -> list[bytes]:
        return [r for c in self.connections for r in c.requests]

    def span(self) -> float:
        """Seconds from the first connection to the last one the client closed (or now)."""
        assert self.connections, "nothing connected"
        start = min(c.accepted_at for c in self.connections)
        end = max(c.ended_at if c.ended_at is not None else time.monotonic() for c in self.connections)
        return end - start

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection = Connection(sock, time.monotonic())
            self.connections.append(connection)
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: Connection) -> None:
        try:
            self.behaviour(connection)
        finally:
            connection.wait_open(0.5)  # let the client close first: that moment is what tests measure
            connection._ended()
            connection.sock.close()


def head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def stream_until_closed(connection: Connection, first: bytes, chunk: bytes, limit: int) -> None:
    """Send ``first`` and then ``chunk`` again and again until the client leaves (or ``limit`` bytes)."""
    if not connection.send(first):
        return
    while connection.sent < limit and connection.send(chunk):
        pass


def each_request(answer: Callable[[Connection], bool]) -> Behaviour:
    """Answer every request of a keep-alive connection with ``answer`` (which returns False to stop)."""

    def behaviour(connection: Connection) -> None:
        while connection.read_request():
            if not answer(connection):
                return

    return behaviour
