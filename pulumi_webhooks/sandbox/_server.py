"""The thin HTTP layer: `http.server` in, `Sandbox.handle` through, socket-level faults out.

It is a local server, and it refuses what a web page could make a browser send it (DNS rebinding,
cross-site requests), before reading any body:

- `Host` must name a loopback address or `localhost` with the port the sandbox listens on (or a name
  given with `--allow-host`): otherwise 421;
- `Origin`, when present, must be an `http(s)` loopback origin (or an allowed host): otherwise 403;
- a write to a control API (`/_sandbox/...`, and a platform's own `/<platform>/_sandbox/...` or
  `/<platform>/_admin/...`) must declare `Content-Type: application/json` (or `+json`): another type
  is refused with 415, and a body without any type with 400. A bodiless write without a type passes:
  a browser sends none cross-site without `Origin`, which is checked above;
- `Content-Length` must be one decimal number, at most `MAX_BODY`: otherwise 400 or 413.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from ._core import Headers, Sandbox, SandboxRequest, SandboxResponse, Settings
from ._registry import default_platforms

MAX_BODY = 1 << 20  # webhook bodies are tiny; refuse anything that could exhaust memory
CONTROL_SEGMENTS = ("_sandbox", "_admin")  # `/_sandbox/...`, `/<platform>/_sandbox/...`, `/up42/_admin/...`
_READS = ("GET", "HEAD")


def is_loopback_name(host: str) -> bool:
    """`localhost` or a loopback address (127.0.0.0/8, ::1); not `*.localhost` or other names."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _authority(value: str) -> tuple[str, int | None] | None:
    """`host[:port]` of a Host header (`[v6]:port` included), or None when it is not one."""
    if not value or not value.isascii() or any(c in value for c in "/?#@\\%\t ,"):
        return None
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket:
            return None
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
    else:
        host, colon, port = value.partition(":")
        rest = colon + port
    if not rest:
        return host, None
    port = rest[1:]
    if rest[0] != ":" or not (port.isascii() and port.isdigit()) or len(port) > 5:
        return None
    return host, int(port)


def _is_control(path: str) -> bool:
    segments = path.split("/", 3)  # "", first, second, rest
    return segments[1:2] == ["_sandbox"] or segments[2:3] in (["_sandbox"], ["_admin"])


def _refusal(status: int, message: str) -> SandboxResponse:
    body = json.dumps({"error": message}).encode()
    return SandboxResponse(status, {"Content-Type": "application/json; charset=utf-8"}, body)


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
        url = urlsplit(self.path)
        length = self._length()
        refused = length if isinstance(length, SandboxResponse) else self._refusal(url.path or "/", length)
        if refused is not None:
            # The body (if any) is never read, so the connection cannot be reused: say so, or a client
            # sends its next request on a connection about to close.
            refused.headers["Connection"] = "close"
            self._write(refused)
            self.close_connection = True
            return
        assert isinstance(length, int)
        if not self._counted:
            self._counted = True
            self.server.sandbox.connection_opened(url.path)
        body = self.rfile.read(length) if length > 0 else b""
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

    def _length(self) -> int | SandboxResponse:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return SandboxResponse(411, {"Content-Type": "text/plain"}, b"Content-Length required")
        values = self.headers.get_all("Content-Length") or []
        if not values:
            return 0
        text = values[0].strip(" \t")
        if len(set(values)) > 1 or not (text.isascii() and text.isdigit()) or len(text) > 12:
            return _refusal(400, "Content-Length must be one decimal number of bytes")
        if int(text) > MAX_BODY:
            return SandboxResponse(413, {"Content-Type": "text/plain"}, b"Payload too large")
        return int(text)

    def _refusal(self, path: str, length: int) -> SandboxResponse | None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1 or not self.server.allows_host(hosts[0].strip()):
            return _refusal(421, "Host must be localhost or a loopback address with the sandbox's port")
        origins = self.headers.get_all("Origin") or []
        if len(origins) > 1 or (origins and not self.server.allows_origin(origins[0].strip())):
            return _refusal(403, "cross-origin requests are refused: Origin must be a loopback origin")
        if self.command in _READS or not _is_control(path):
            return None
        declared = self.headers.get("Content-Type")
        if declared is None:
            if length > 0:
                return _refusal(
                    400, "a control request with a body must declare Content-Type: application/json"
                )
            return None
        media = declared.partition(";")[0].strip().lower()
        if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
            return _refusal(415, "control requests take Content-Type: application/json")
        return None

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

    def __init__(self, address: tuple[str, int], sandbox: Sandbox, allowed_hosts: frozenset[str]) -> None:
        self.sandbox = sandbox
        host = address[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__(address, _Handler)
        self.allowed_hosts = allowed_hosts  # names accepted in Host and Origin besides loopback, any port

    def allows_host(self, value: str) -> bool:
        authority = _authority(value)
        if authority is None:
            return False
        host, port = authority
        if host.lower() in self.allowed_hosts:
            return True
        return is_loopback_name(host) and (80 if port is None else port) == self.server_address[1]

    def allows_origin(self, value: str) -> bool:
        scheme, sep, authority = value.partition("://")
        parsed = _authority(authority) if sep and scheme.lower() in ("http", "https") else None
        return parsed is not None and (is_loopback_name(parsed[0]) or parsed[0].lower() in self.allowed_hosts)

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hanging up are routine
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class SandboxServer:
    """A sandbox served on a background thread; `shutdown()` stops it."""

    def __init__(self, sandbox: Sandbox, host: str, port: int, allowed_hosts: Iterable[str] = ()) -> None:
        self.sandbox = sandbox
        names = {name.strip().lower() for name in allowed_hosts if name.strip()}
        if not is_loopback_name(host) and host not in ("0.0.0.0", "::", ""):  # noqa: S104 (not binding)
            names.add(host.lower())  # the address it was bound to, with --allow-remote
        self._httpd = _HTTPServer((host, port), sandbox, frozenset(names))
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


def serve(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0, *, allowed_hosts: Iterable[str] = ()
) -> SandboxServer:
    """Serve `sandbox` on `host:port` (0 picks a free port) from a daemon thread. `allowed_hosts`: names
    accepted in `Host` besides loopback ones (e.g. a container's name), with any port."""
    return SandboxServer(sandbox, host, port, allowed_hosts)


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
