"""TLS verification cannot be turned off: an https API endpoint whose certificate is not trusted is
refused, whatever the environment says, and the step fails at once with one clear line.

The server is on loopback (nothing else may be contacted) with a self-signed certificate made for this
test (``tls/``, valid until 2126, good for nothing else). Loopback is where turning verification off would
be most tempting, so refusing there shows there is no switch at all.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from engine import Engine

import pulumi_webhooks.shopline as shopline
from reliability.harness import (
    SHOPLINE_TOKEN,
    SHOPLINE_VERSION,
    clear_error_problem,
    last_line,
    start_host,
    step_outcome,
)

TLS = Path(__file__).resolve().parent / "tls"

# Variables other tools read to switch verification off or to replace the CA bundle with nothing.
DISARMING_ENV = {
    "PYTHONHTTPSVERIFY": "0",
    "CURL_CA_BUNDLE": "",
    "REQUESTS_CA_BUNDLE": "",
    "HTTPX_VERIFY": "0",
}


class _Shopline(BaseHTTPRequestHandler):
    """Answers every request like an empty SHOPLINE store, counting what reached it."""

    served = 0

    def do_GET(self) -> None:
        type(self).served += 1
        body = json.dumps({"webhooks": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def untrusted_https() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shopline)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "untrusted-cert.pem", TLS / "untrusted-key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    _Shopline.served = 0
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_untrusted_certificate_is_refused_at_once_with_a_clear_error(untrusted_https: str) -> None:
    host = start_host(
        {"SHOPLINE_BASE_URL": f"{untrusted_https}/{{handle}}", **DISARMING_ENV},
        {"shopline:accessToken": SHOPLINE_TOKEN},
        ("shopline:accessToken",),
    )
    engine = Engine(host)

    def program() -> None:
        shopline.Webhook(
            "hook",
            handle="tls",
            topic="orders/create",
            address="https://hooks.example.com/tls",
            api_version=SHOPLINE_VERSION,
        )

    try:
        result = engine.up(program)
        error = step_outcome(result)
        assert error is not None, "an untrusted certificate was accepted"
        assert clear_error_problem(error, "SHOPLINE") is None, error
        line = last_line(error)
        assert "certificate" in line and "127.0.0.1" in line, line
        assert "gave up after" not in line  # not retried: it would fail the same way every time
        assert SHOPLINE_TOKEN not in engine.host.logs()
    finally:
        engine.host.close()
    assert _Shopline.served == 0  # no request got through the handshake
