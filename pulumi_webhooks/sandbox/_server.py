"""The thin HTTP layer: `http.server` in, `Sandbox.handle` through, socket-level faults out."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from ._core import Headers, Sandbox, SandboxRequest, SandboxResponse, Settings
from ._registry import default_platforms

MAX_BODY = 1 << 20  # webhook bodies are tiny; refuse anything that could exhaust memory


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as they do in production
    server_version = "pulumi-webhooks-sandbox"
    timeout = 120  # idle keep-alive connections release their thread eventually
    wbufsize = 1 << 16  # headers and body leave in one segment (no Nagle/delayed-ACK 40 ms stalls)
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self._counted = False  # one handler per connection: count it once, at its first request

    def _dispatch(self) -> None:
        if not self._counted:
            self._counted = True
            self.server.sandbox.connection_opened(urlsplit(self.path).path)
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._write(SandboxResponse(411, {"Content-Type": "text/plain"}, b"Content-Length required"))
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._write(SandboxResponse(413, {"Content-Type": "text/plain"}, b"Payload too large"))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        req = SandboxRequest(
            method=self.command,
            path=url.path or "/",
            query=parse_qs(url.query, keep_blank_values=True),
            headers=Headers(self.headers.items()),
            body=body,
        )
        try:
            resp = self.server.sandbox.handle(req)
        except Exception as exc:  # for example the state file cannot be written: answer, do not hang
            resp = SandboxResponse(500, {"Content-Type": "text/plain"}, f"sandbox error: {exc!r}".encode())
        if resp.action in ("drop", "commit_then_drop"):
            self._abort()  # the client sees the connection close with no response at all
            return
        self._write(resp)
        if resp.action == "truncate":
            self._abort()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def _write(self, resp: SandboxResponse) -> None:
        body = resp.body
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # A truncated answer announces the full length but sends only the first half.
        self.wfile.write(body[: len(body) // 2] if resp.action == "truncate" else body)
        self.wfile.flush()

    def _abort(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):  # the peer may have gone already
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the sandbox keeps its own request log, which never holds header values


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client connection never blocks shutdown

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        host = address[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hanging up are routine
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class SandboxServer:
    """A sandbox served on a background thread; `shutdown()` stops it."""

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        self.sandbox = sandbox
        self._httpd = _HTTPServer((host, port), sandbox)
        self.host = host
        self.port: int = self._httpd.server_address[1]
        netloc = f"[{host}]" if ":" in host else host
        self.url = f"http://{netloc}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-http", daemon=True
        )
        self._thread.start()

    def shutdown(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def serve(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """Serve `sandbox` on `host:port` (0 picks a free port) from a daemon thread."""
    return SandboxServer(sandbox, host, port)


class RunningSandbox:
    """An in-process sandbox for tests and examples; a context manager that shuts it down on exit."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.sandbox = server.sandbox
        self.url = server.url
        self.port = server.port

    def base_url(self, platform: str) -> str:
        """The base-URL setting a client of `platform` uses, e.g. `http://127.0.0.1:PORT/shopline/{handle}`."""
        return self.url + self.sandbox.platforms[platform].url_template

    def shutdown(self) -> None:
        self.server.shutdown()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()


def start_sandbox(
    host: str = "127.0.0.1",
    port: int = 0,
    state_file: str | os.PathLike[str] | None = None,
    token: str | None = None,
    *,
    rate_limits: bool = True,
    latency: float = 0.0,
) -> RunningSandbox:
    """Start every registered platform's emulator in this process (state file loaded if present)."""
    settings = Settings(rate_limits=rate_limits, latency=latency, token=token)
    sandbox = Sandbox(default_platforms(), settings=settings, state_file=state_file)
    return RunningSandbox(serve(sandbox, host, port))
