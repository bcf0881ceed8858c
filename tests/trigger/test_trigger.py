"""`pulumi-webhooks trigger` and the sandbox's `POST /_sandbox/deliver`, received by a real HTTP server.

The receiver is a `http.server` on 127.0.0.1 in this process; `trigger` runs as a subprocess, as users
run it; deliveries come from the session's sandbox subprocess. Every received request is checked with
`pulumi_webhooks.verify`, whose own tests pin it to OpenSSL-computed vectors.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SandboxProcess

from pulumi_webhooks.trigger import SECRET_ENV, SECRET_WARNING
from pulumi_webhooks.trigger import main as trigger_main
from pulumi_webhooks.verify import verify_delivery

REPO = Path(__file__).resolve().parents[2]
SECRET = "app-secret-71c9e4d2"  # distinctive, so the output checks can search for it
OPEN_ID = "556677889900112"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local webhook receiver: records every request and answers `status` with `reply`."""

    url: str
    requests: queue.Queue[Received] = field(default_factory=queue.Queue)
    status: int = 200
    reply: bytes = b'{"ok":true}'
    content_type: str = "application/json"
    on_request: Callable[[], None] | None = None  # runs while the sender waits for the answer

    def take(self) -> Received:
        return self.requests.get(timeout=10)

    def drain(self) -> list[Received]:
        found = []
        while not self.requests.empty():
            found.append(self.requests.get_nowait())
        return found


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.put(Received("POST", self.path, dict(self.headers.items()), body))
            if state.on_request is not None:
                state.on_request()
            self.send_response(state.status)
            self.send_header("Content-Type", state.content_type)
            self.send_header("Content-Length", str(len(state.reply)))
            self.end_headers()
            self.wfile.write(state.reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def command(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """How to run `trigger` with ``args``: the arguments of ``subprocess.run`` but the standard streams."""
    clean = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    return {
        "args": [sys.executable, "-m", "pulumi_webhooks.cli", "trigger", *args],
        "cwd": REPO,
        "env": {**clean, "PYTHONPATH": str(REPO), **(env or {})},
        "capture_output": True,
    }


def trigger(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        **command(*args, env=env),
        check=False,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        text=True,
        timeout=timeout,
    )


def command_lines_holding(secret: str) -> list[int]:
    """The processes of this machine whose command line contains `secret` (what `ps` shows)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if secret.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:  # gone, or not ours to read
                continue
    return found


def header(request: Received, name: str) -> str:
    return {k.lower(): v for k, v in request.headers.items()}[name.lower()]


# -- pulumi-webhooks trigger ---------------------------------------------------------------------------


def test_shopline_event_is_signed_with_the_secret_and_carries_the_documented_headers(
    receiver: Receiver,
) -> None:
    done = trigger(
        "shopline", "orders/create", "--to", f"{receiver.url}/shopline/orders", env={SECRET_ENV: SECRET}
    )
    assert done.returncode == 0, done.stderr
    assert "HTTP 200 OK" in done.stdout and '{"ok":true}' in done.stdout
    got = receiver.take()
    assert got.path == "/shopline/orders"
    assert verify_delivery("shopline", got.body, got.headers, SECRET, raise_on_failure=True)
    assert not verify_delivery("shopline", got.body, got.headers, "sandbox-secret")
    assert len(header(got, "X-Shopline-Hmac-Sha256")) == 64  # hex, as the official SDK checks it
    assert header(got, "X-Shopline-Topic") == "orders/create"
    assert header(got, "X-Shopline-Shop-Domain") == "open001.myshopline.com"
    assert header(got, "X-Shopline-API-Version") == "v20260301"
    assert header(got, "X-Shopline-Webhook-Id")
    order = json.loads(got.body)
    assert order["line_items"] and order["customer"]["first_name"] == "Zoë"  # raw UTF-8 in the body
    assert SECRET not in done.stdout + done.stderr  # a chosen secret is never printed


def test_the_secret_never_appears_in_the_process_list(receiver: Receiver) -> None:
    # Issue 12 item 12: while the receiver holds the request, look at every process's command line.
    seen: list[list[int]] = []
    receiver.on_request = lambda: seen.append(command_lines_holding(SECRET))
    by_env = trigger("shoplazza", "orders/create", "--to", receiver.url, env={SECRET_ENV: SECRET})
    by_stdin = trigger("up42", "job.status", "--to", receiver.url, "--secret-stdin", stdin=SECRET + "\n")
    assert by_env.returncode == by_stdin.returncode == 0, by_env.stderr + by_stdin.stderr
    assert seen == [[], []]
    assert "signed with PULUMI_WEBHOOKS_TRIGGER_SECRET" in by_env.stdout
    assert "signed with --secret-stdin" in by_stdin.stdout
    assert verify_delivery("shoplazza", *_body_and_headers(receiver.take()), SECRET)
    assert verify_delivery(
        "up42", *_body_and_headers(receiver.take()), SECRET
    )  # the line end is not the secret
    for done in (by_env, by_stdin):
        assert SECRET not in done.stdout + done.stderr and "warning" not in done.stderr
    # What the check above would catch: --secret is in the process list, hence the warning.
    on_command_line = trigger("shoplazza", "orders/create", "--to", receiver.url, "--secret", SECRET)
    assert on_command_line.returncode == 0 and seen[-1] != []
    assert on_command_line.stderr.strip() == SECRET_WARNING
    receiver.take()


def _body_and_headers(request: Received) -> tuple[bytes, dict[str, str]]:
    return request.body, request.headers


def test_an_explicit_secret_wins_over_the_environment(receiver: Receiver) -> None:
    done = trigger(
        "shopline", "orders/paid", "--to", receiver.url, "--secret", SECRET, env={SECRET_ENV: "other"}
    )
    assert done.returncode == 0 and SECRET_WARNING in done.stderr
    assert verify_delivery("shopline", *_body_and_headers(receiver.take()), SECRET)
    cj = trigger("cj", "ORDER", "--to", receiver.url, "--open-id", OPEN_ID, env={SECRET_ENV: SECRET})
    assert cj.returncode == 0  # the openId signs CJ's deliveries; the variable is not for them
    assert verify_delivery("cj", *_body_and_headers(receiver.take()), OPEN_ID)


def test_shopline_base64_encoding_and_options(receiver: Receiver) -> None:
    args = ["--secret", SECRET, "--encoding", "base64", "--shop-domain", "demo.myshopline.com"]
    done = trigger("shopline", "products/update", "--to", receiver.url, *args, "--api-version", "v20250601")
    assert done.returncode == 0, done.stderr
    got = receiver.take()
    assert header(got, "X-Shopline-Hmac-Sha256").endswith("=")
    assert verify_delivery("shopline", got.body, got.headers, SECRET)
    assert header(got, "X-Shopline-Shop-Domain") == "demo.myshopline.com"
    assert header(got, "X-Shopline-API-Version") == "v20250601"
    assert json.loads(got.body)["variants"]


def test_shoplazza_event_with_the_default_secret(receiver: Receiver) -> None:
    done = trigger("shoplazza", "orders/paid", "--to", f"{receiver.url}/spz")
    assert done.returncode == 0, done.stderr
    assert 'default secret "sandbox-secret"' in done.stdout
    got = receiver.take()
    assert verify_delivery("shoplazza", got.body, got.headers, "sandbox-secret", raise_on_failure=True)
    assert header(got, "X-Shoplazza-Topic") == "orders/paid"
    assert header(got, "X-Shoplazza-Shop-Domain") == "store-a.myshoplaza.com"
    assert header(got, "X-Shoplazza-Api-Version") == "2022-01"
    assert header(got, "X-Shoplazza-Deduplication-ID")
    assert json.loads(got.body)["financial_status"] == "paid"


def test_cjdropshipping_event_is_signed_with_the_open_id(receiver: Receiver) -> None:
    done = trigger("cj", "logistic", "--to", f"{receiver.url}/cj", "--open-id", OPEN_ID)
    assert done.returncode == 0, done.stderr
    got = receiver.take()
    assert verify_delivery("cjdropshipping", got.body, got.headers, OPEN_ID, raise_on_failure=True)
    event = json.loads(got.body)
    assert event["type"] == "LOGISTIC" and event["openId"] == int(OPEN_ID)
    assert isinstance(
        json.loads(event["params"]["logisticsTrackEvents"]), list
    )  # a JSON string, as documented
    assert OPEN_ID not in done.stdout + done.stderr


@pytest.mark.parametrize("kind", ["PRODUCT", "VARIANT", "STOCK", "ORDER", "ORDERSPLIT", "LOGISTIC"])
def test_every_cj_message_type_has_a_documented_envelope(receiver: Receiver, kind: str) -> None:
    # In process (the command above covers the subprocess path): main() is what the CLI runs.
    assert trigger_main(["cjdropshipping", kind, "--to", receiver.url, "--open-id", OPEN_ID]) == 0
    got = receiver.take()
    assert verify_delivery("cjdropshipping", got.body, got.headers, OPEN_ID, raise_on_failure=True)
    event = json.loads(got.body)
    assert event["type"] == kind and event["openId"] == int(OPEN_ID)
    assert event["messageType"] in ("INSERT", "UPDATE", "DELETE") and len(event["messageId"]) == 32
    assert event["params"]


def test_up42_event_is_signed_over_digest_and_date(receiver: Receiver) -> None:
    done = trigger("up42", "order.status", "--to", receiver.url, "--secret", SECRET)
    assert done.returncode == 0, done.stderr
    got = receiver.take()
    assert verify_delivery("up42", got.body, got.headers, SECRET, raise_on_failure=True)
    assert header(got, "Signature-Input").startswith('up42-sig=("content-digest" "date");created=')
    assert json.loads(got.body)["event"] == "order.status"
    assert json.loads(got.body)["body"]["status"] == "FULFILLED"


def test_dry_run_prints_a_request_that_verifies() -> None:
    done = trigger("shoplazza", "products/create", "--dry-run", "--secret", SECRET)
    assert done.returncode == 0, done.stderr
    head, _, body = done.stdout.partition("\n\n")
    lines = head.splitlines()[1:]  # the first line is a comment
    headers = dict(line.split(": ", 1) for line in lines)
    assert verify_delivery("shoplazza", body.rstrip("\n").encode(), headers, SECRET)


def test_a_non_2xx_answer_fails_the_command(receiver: Receiver) -> None:
    receiver.status, receiver.reply = 401, b'{"error":"bad signature"}'
    done = trigger("shopline", "orders/paid", "--to", receiver.url)
    assert done.returncode == 1
    assert "HTTP 401" in done.stdout and "bad signature" in done.stdout
    assert "the receiver answered HTTP 401" in done.stderr
    receiver.take()


def test_an_unreachable_receiver_fails_with_a_clear_message(receiver: Receiver) -> None:
    with socket_closed_port() as port:
        done = trigger("up42", "job.status", "--to", f"http://127.0.0.1:{port}/hook")
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"pulumi-webhooks trigger: could not deliver to http://127.0.0.1:{port}/hook"
    )
    assert "Connection refused" in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_usage_error_exits_2_with_a_did_you_mean() -> None:
    done = trigger("shopline", "orders/creat", "--to", "http://127.0.0.1:1")
    assert done.returncode == 2
    assert "did you mean 'orders/create'" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["shoplin", "orders/create", "--to", "http://127.0.0.1:1"], "did you mean 'shopline'"),
        (["cj", "ORDERS", "--to", "http://127.0.0.1:1"], "did you mean 'ORDER'"),
        (["up42", "job.state", "--to", "http://127.0.0.1:1"], "did you mean 'job.status'"),
        (["cj", "ORDER", "--to", "http://127.0.0.1:1", "--secret", "x"], "use --open-id"),
        (["up42", "job.status", "--to", "http://127.0.0.1:1", "--open-id", "1"], "CJdropshipping only"),
        (["shopline", "orders/create"], "--to URL is required"),
        (["shopline", "orders/create", "--to", "127.0.0.1:8000/x"], "must be an http:// or https:// URL"),
        (["shopline", "orders/create", "--to", "http://127.0.0.1:1", "--secret", ""], "--secret is empty"),
        (
            ["shopline", "orders/create", "--to", "http://127.0.0.1:1", "--secret", "x", "--secret-stdin"],
            "once",
        ),
        (["cj", "ORDER", "--to", "http://127.0.0.1:1", "--secret-stdin"], "use --open-id"),
    ],
)
def test_usage_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        trigger_main(args)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_lists_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pulumi_webhooks.cli", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "trigger" in done.stdout


class socket_closed_port:
    """A loopback port with nothing listening (bound, then released)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        return None


# -- trigger: bounded, escaped, and usage errors instead of tracebacks ---------------------------------


@dataclass
class RawReceiver:
    """A loopback server that answers every connection with `answer(connection, stop)`: raw bytes, so a
    test can trickle or stream an answer no well-behaved server would."""

    url: str
    stop: threading.Event


@pytest.fixture
def raw_receiver(request: pytest.FixtureRequest) -> Iterator[Callable[..., RawReceiver]]:
    stop = threading.Event()
    listeners: list[socket.socket] = []

    def start(answer: Callable[[socket.socket, threading.Event], None]) -> RawReceiver:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.1)
        listeners.append(listener)

        def serve_one(connection: socket.socket) -> None:
            with connection:
                connection.settimeout(10)
                try:
                    connection.recv(65536)  # the delivery (small: one read holds it)
                    answer(connection, stop)
                except OSError:  # the sender gave up and closed: what these tests want
                    pass

        def accept() -> None:
            while not stop.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                threading.Thread(target=serve_one, args=(connection,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return RawReceiver(f"http://127.0.0.1:{listener.getsockname()[1]}", stop)

    try:
        yield start
    finally:
        stop.set()
        for listener in listeners:
            listener.close()


def _trickle(prefix: bytes, byte: bytes = b"x") -> Callable[[socket.socket, threading.Event], None]:
    def answer(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(prefix)
        while not stop.wait(0.2):  # one byte every 0.2 s: each read is far inside --timeout
            connection.sendall(byte)

    return answer


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        # The status line arrives, then the body one byte at a time (the reviewer's repro).
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n",
            "answered HTTP 200 but did not end its answer",
        ),
        # The headers never end: one more byte of a header value every 0.2 s.
        (b"HTTP/1.1 200 OK\r\nX-Slow: ", "no answer from"),
    ],
    ids=["body", "headers"],
)
def test_the_timeout_bounds_the_whole_exchange(
    raw_receiver: Callable[..., RawReceiver], prefix: bytes, message: str
) -> None:
    slow = raw_receiver(_trickle(prefix))
    started = time.monotonic()
    done = trigger("shopline", "orders/create", "--to", f"{slow.url}/", "--timeout", "1.5", timeout=20)
    took = time.monotonic() - started
    assert done.returncode == 1, done.stdout + done.stderr
    assert took < 1.5 + 8  # the deadline plus the interpreter's start on a busy machine
    assert done.stderr.startswith("pulumi-webhooks trigger: ") and message in done.stderr
    assert done.stderr.endswith("within 1.5 s\n") and len(done.stderr.splitlines()) == 1


def test_only_the_first_64_kib_of_the_answer_is_read(raw_receiver: Callable[..., RawReceiver]) -> None:
    sent: list[int] = []

    def endless(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"a" * 16384
        while not stop.wait(0.005):  # fast, and never ending
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent.append(len(chunk))

    big = raw_receiver(endless)
    done = trigger("up42", "job.status", "--to", big.url, "--timeout", "30", timeout=20)
    assert done.returncode == 0, done.stderr
    status = done.stdout.splitlines()[1]
    assert status.startswith("HTTP 200 OK in ") and status.endswith(
        "(the answer is longer than 64 KiB; the rest was not read)"
    )
    assert len(status) < 500 and "'aaaa" in status  # 300 characters of it are shown


def test_the_answer_is_shown_escaped_on_one_line(receiver: Receiver) -> None:
    tricks = (
        "\x1b[31mred\x1b[0m \x9b2J \u202eevil\u2066 zero\u200bwidth\ufeff bell\x07 nul\x00 cr\rlf\n\u2028end"
    )
    receiver.status, receiver.reply = 400, ('{"error":"' + tricks + '"}').encode()
    done = trigger("shoplazza", "orders/create", "--to", receiver.url)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and lines[1].startswith("HTTP 400 Bad Request in ")
    shown = [c for c in done.stdout + done.stderr if unicodedata.category(c) in ("Cc", "Cf") and c != "\n"]
    assert shown == []  # no control, bidi or invisible character reaches the terminal
    for escaped in ("\\x1b[31mred", "\\x9b2J", "\\u202eevil\\u2066", "zero\\u200bwidth", "\\x07", "\\x00"):
        assert escaped in lines[1]
    assert "cr lf end" in lines[1]  # line breaks are spaces
    receiver.take()


def test_a_receiver_echoing_the_key_does_not_get_it_printed(receiver: Receiver) -> None:
    receiver.status, receiver.reply = 401, f'{{"error":"expected a signature by {SECRET}"}}'.encode()
    done = trigger("shopline", "orders/create", "--to", receiver.url, env={SECRET_ENV: SECRET})
    assert done.returncode == 1 and "[redacted]" in done.stdout
    assert SECRET not in done.stdout + done.stderr
    receiver.status, receiver.reply = 200, f'{{"openId":{OPEN_ID}}}'.encode()
    cj = trigger("cj", "ORDER", "--to", receiver.url, "--open-id", OPEN_ID)
    assert cj.returncode == 0 and "[redacted]" in cj.stdout and OPEN_ID not in cj.stdout + cj.stderr
    receiver.drain()


def test_the_url_is_printed_as_it_is_sent(receiver: Receiver) -> None:
    done = trigger("up42", "job.status", "--to", f"{receiver.url}/p\u202eq\u200b")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"POST {receiver.url}/p%E2%80%AEq%E2%80%8B: ")
    assert receiver.take().path == "/p%E2%80%AEq%E2%80%8B"


@pytest.mark.parametrize("charset", ["base64", "idna"])
def test_an_answer_whose_charset_is_no_text_encoding_is_read_as_utf8(
    receiver: Receiver, charset: str
) -> None:
    receiver.content_type = f"application/json; charset={charset}"
    done = trigger("up42", "job.status", "--to", receiver.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].endswith(": '{\"ok\":true}'")
    receiver.take()


TO = ["--to", "http://127.0.0.1:1/"]  # nothing listens: a check that let a bad value through fails fast


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["up42", "job.status", *TO, "--timeout", "nan"], "argument --timeout: must be a number of seconds"),
        (["up42", "job.status", *TO, "--timeout", "inf"], "argument --timeout: must be a number of seconds"),
        (["cj", "ORDER", *TO, "--open-id", ""], "--open-id is empty"),
        (["cj", "ORDER", *TO, "--open-id", "   "], "--open-id is empty"),
        (["cj", "ORDER", *TO, "--open-id", "\u00b2"], "in ASCII digits"),  # '²'.isdigit(), but no number
        (["cj", "ORDER", *TO, "--open-id", "\u0661\u0662\u0663"], "in ASCII digits"),  # Arabic-Indic 123
        (["cj", "ORDER", *TO, "--open-id", "0123"], "without leading zeros"),  # key "0123", body 123
        (["cj", "ORDER", *TO, "--open-id", "12ab"], "a positive whole number"),
        (["shopline", "orders/create", *TO, "--shop-domain", "sh\u00f6p.myshopline.com"], "visible ASCII"),
        (["shopline", "orders/create", *TO, "--shop-domain", ""], "visible ASCII"),
        (["shopline", "orders/create", *TO, "--api-version", "v2026\u00e9"], "visible ASCII"),
        (["shoplazza", "orders/create", *TO, "--api-version", "2022-01\r\nX-Injected: 1"], "visible ASCII"),
        (["up42", "job.status", "--to", "http://127.0.0.1:1/\x01"], "is not a valid URL"),
        (["up42", "job.status", "--to", "http://xn--zz/"], "is not a valid URL"),
        (["up42", "job.status", "--to", "http://a..b/"], "is not a valid URL"),
        (["up42", "job.status", "--to", f"http://{'a' * 64}.example/"], "is not a valid URL"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(args: list[str], message: str) -> None:
    done = trigger(*args, timeout=20)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    error = done.stderr.splitlines()[-1]
    assert error.startswith("pulumi-webhooks trigger: error: ") and message in error
    if "--open-id" in args and args[-1].strip():
        assert args[-1] not in done.stderr  # the openId is the signing key: never quoted
    assert unicodedata.category(error[-1]) not in ("Cc", "Cf")


def test_a_secret_that_is_not_utf8_is_a_usage_error() -> None:
    # Bytes that are no UTF-8 reach Python as surrogates (argv, environment) or fail to decode (stdin).
    args = ["up42", "job.status", *TO]
    runs = {
        SECRET_ENV: trigger_bytes(*args, env={SECRET_ENV: "ab\udcffc"}),
        "--secret": trigger_bytes(*args, "--secret", "ab\udcffc"),
        "--secret-stdin": trigger_bytes(*args, "--secret-stdin", stdin=b"ab\xffc\n"),
    }
    for source, done in runs.items():
        assert done.returncode == 2, done.stderr
        assert b"Traceback" not in done.stderr
        assert done.stderr.decode().splitlines()[-1] == (
            f"pulumi-webhooks trigger: error: the secret from {source} is not valid UTF-8 text"
        )


def trigger_bytes(
    *args: str, env: dict[str, str] | None = None, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """`trigger` with binary standard streams (for input that is not UTF-8)."""
    return subprocess.run(**command(*args, env=env), check=False, input=stdin, timeout=20)


# -- POST /_sandbox/deliver ----------------------------------------------------------------------------


def deliver(sandbox: SandboxProcess, **body: Any) -> httpx.Response:
    return sandbox.admin.post("/_sandbox/deliver", json=body)


def shopline_subscribe(
    sandbox: SandboxProcess, handle: str, topic: str, address: str, version: str = "v20260301"
) -> str:
    response = httpx.post(
        f"{sandbox.url}/shopline/{handle}/admin/openapi/v20260301/webhooks.json",
        json={"webhook": {"address": address, "api_version": version, "topic": topic}},
        headers={"Authorization": "Bearer tok-deliver"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["webhook"]["id"])


def test_sandbox_delivers_to_every_subscription_of_the_topic(
    sandbox: SandboxProcess, receiver: Receiver
) -> None:
    first = shopline_subscribe(sandbox, "open001", "orders/create", "https://hooks.example.com/a")
    second = shopline_subscribe(
        sandbox, "open001", "orders/create", "https://hooks.example.com/b", "v20250601"
    )
    shopline_subscribe(sandbox, "open001", "products/update", "https://hooks.example.com/a")
    other = shopline_subscribe(sandbox, "other02", "orders/create", "https://hooks.example.com/c")

    response = deliver(
        sandbox,
        platform="shopline",
        topic="orders/create",
        to=f"{receiver.url}/in",
        store="open001",
        secret=SECRET,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["delivered"], report["failed"]) == (2, 0)
    assert [(d["subscription"], d["status"], d["ok"]) for d in report["deliveries"]] == [
        (first, 200, True),
        (second, 200, True),
    ]
    got = sorted(receiver.drain(), key=lambda r: header(r, "X-Sandbox-Original-Address"))
    assert [header(r, "X-Sandbox-Original-Address") for r in got] == [
        "https://hooks.example.com/a",
        "https://hooks.example.com/b",
    ]
    for request in got:
        assert request.path == "/in"
        assert verify_delivery("shopline", request.body, request.headers, SECRET, raise_on_failure=True)
        assert header(request, "X-Shopline-Shop-Domain") == "open001.myshopline.com"
    # The event version is the subscription's own.
    assert [header(r, "X-Shopline-API-Version") for r in got] == ["v20260301", "v20250601"]

    everywhere = deliver(sandbox, platform="shopline", topic="orders/create", to=receiver.url).json()
    assert sorted(d["subscription"] for d in everywhere["deliveries"]) == sorted([first, second, other])
    for request in receiver.drain():
        assert verify_delivery("shopline", request.body, request.headers, "sandbox-secret")


def test_sandbox_delivery_can_keep_the_subscription_path(sandbox: SandboxProcess, receiver: Receiver) -> None:
    response = httpx.post(
        f"{sandbox.url}/shoplazza/store-a/openapi/2022-01/webhooks",
        json={"address": "https://hooks.example.com/spz/orders?v=2", "topic": "orders/create"},
        headers={"Access-Token": "tok-deliver"},
    )
    assert response.status_code == 200, response.text
    report = deliver(
        sandbox,
        platform="shoplazza",
        topic="orders/create",
        to=f"{receiver.url}/ignored",
        keep_path=True,
        secret=SECRET,
    ).json()
    assert report["deliveries"][0]["to"] == f"{receiver.url}/spz/orders?v=2"
    got = receiver.take()
    assert got.path == "/spz/orders?v=2"
    assert verify_delivery("shoplazza", got.body, got.headers, SECRET, raise_on_failure=True)
    assert header(got, "X-Shoplazza-Shop-Domain") == "store-a.myshoplaza.com"


def test_sandbox_delivers_cj_messages_signed_with_the_accounts_open_id(
    sandbox: SandboxProcess, receiver: Receiver
) -> None:
    api = f"{sandbox.url}/cjdropshipping/api2.0/v1"
    grant = httpx.post(
        f"{api}/authentication/getAccessToken", json={"apiKey": "CJ4440001@api@0123456789abcdef"}
    ).json()
    token, open_id = grant["data"]["accessToken"], str(grant["data"]["openId"])
    url = "https://hooks.example.com/cj"
    groups = {
        "product": {"type": "ENABLE", "callbackUrls": [url]},
        "stock": {"type": "CANCEL", "callbackUrls": [url]},  # one URL even to cancel (webhook.html)
        "order": {"type": "ENABLE", "callbackUrls": [url]},
        "logistics": {"type": "ENABLE", "callbackUrls": [url + "/logistics"]},
    }
    answer = httpx.post(f"{api}/webhook/set", json=groups, headers={"CJ-Access-Token": token}).json()
    assert answer["result"] is True, answer

    report = deliver(sandbox, platform="cj", topic="logistic", to=receiver.url, store="CJ4440001").json()
    assert [(d["store"], d["subscription"], d["address"], d["ok"]) for d in report["deliveries"]] == [
        ("CJ4440001", "logistics", url + "/logistics", True)
    ]
    got = receiver.take()
    assert verify_delivery("cjdropshipping", got.body, got.headers, open_id, raise_on_failure=True)
    assert json.loads(got.body)["openId"] == int(open_id)

    assert (
        deliver(sandbox, platform="cj", topic="VARIANT", to=receiver.url).json()["delivered"] == 1
    )  # product group
    receiver.take()
    assert (
        deliver(sandbox, platform="cj", topic="STOCK", to=receiver.url).json()["deliveries"] == []
    )  # cancelled
    refused = deliver(sandbox, platform="cj", topic="ORDER", to=receiver.url, secret="x")
    assert refused.status_code == 400 and "openId" in refused.json()["error"]


def test_sandbox_delivers_up42_events_with_each_webhooks_secret(
    sandbox: SandboxProcess, receiver: Receiver
) -> None:
    form = {
        "grant_type": "password",
        "client_id": "up42-api",
        "username": "a@example.com",
        "password": "pw-4d1c",
    }
    token = httpx.post(
        f"{sandbox.url}/up42/auth/realms/public/protocol/openid-connect/token", data=form
    ).json()
    workspace = "0cb1eaa0-89a3-11ec-a8a3-0242ac120002"
    client = httpx.Client(
        base_url=f"{sandbox.url}/up42/api/workspaces/{workspace}/",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    ids = {}
    for name, secret, active, events in [
        ("signed", "whsec-one-8a1f", True, ["job.status", "order.status"]),
        ("unsigned", "", True, ["job.status"]),
        ("paused", "whsec-two-2b9e", False, ["job.status"]),
        ("orders", "whsec-three-77aa", True, ["order.status"]),
    ]:
        body = {
            "url": f"https://hooks.example.com/{name}",
            "name": name,
            "events": events,
            "secret": secret,
            "active": active,
        }
        created = client.post("webhooks", json=body)
        assert created.status_code == 201, created.text
        ids[name] = created.json()["data"]["id"]
    client.close()

    report = deliver(sandbox, platform="up42", topic="job.status", to=receiver.url).json()
    by_id = {d["subscription"]: d for d in report["deliveries"]}
    assert set(by_id) == {ids["signed"], ids["unsigned"]}
    assert by_id[ids["signed"]]["signed"] is True and by_id[ids["unsigned"]]["signed"] is False
    assert report["skipped"] == [{"store": workspace, "subscription": ids["paused"], "reason": "inactive"}]
    got = {header(r, "X-Sandbox-Original-Address"): r for r in receiver.drain()}
    signed = got["https://hooks.example.com/signed"]
    assert verify_delivery("up42", signed.body, signed.headers, "whsec-one-8a1f", raise_on_failure=True)
    unsigned = {k.lower() for k in got["https://hooks.example.com/unsigned"].headers}
    assert (
        "signature" not in unsigned and "signature-input" not in unsigned
    )  # as UP42 sends it without a secret
    refused = deliver(sandbox, platform="up42", topic="job.status", to=receiver.url, secret="x")
    assert refused.status_code == 400 and "each webhook's own secret" in refused.json()["error"]


def test_sandbox_reports_a_failing_receiver(sandbox: SandboxProcess, receiver: Receiver) -> None:
    shopline_subscribe(sandbox, "open001", "orders/paid", "https://hooks.example.com/a")
    receiver.status, receiver.reply = 500, b"boom"
    report = deliver(sandbox, platform="shopline", topic="orders/paid", to=receiver.url).json()
    assert (report["delivered"], report["failed"]) == (0, 1)
    assert report["deliveries"][0]["status"] == 500 and report["deliveries"][0]["response"] == "boom"
    receiver.take()
    with socket_closed_port() as port:
        down = deliver(
            sandbox, platform="shopline", topic="orders/paid", to=f"http://127.0.0.1:{port}/"
        ).json()
    assert (
        down["deliveries"][0]["status"] is None and "ConnectionRefusedError" in down["deliveries"][0]["error"]
    )


@pytest.mark.parametrize(
    "to",
    [
        "https://hooks.example.com/a",  # the subscription's own, public address
        "http://10.0.0.7:8000/hooks",
        "http://192.168.1.20/hooks",
        "http://8.8.8.8/",
        "http://hooks.localhost:8000/",
        "http://user:pw@127.0.0.1:8000/",
        "ftp://127.0.0.1/",
        "127.0.0.1:8000",
    ],
)
def test_sandbox_refuses_non_loopback_targets(sandbox: SandboxProcess, receiver: Receiver, to: str) -> None:
    shopline_subscribe(sandbox, "open001", "orders/create", "https://hooks.example.com/a")
    response = deliver(sandbox, platform="shopline", topic="orders/create", to=to)
    assert response.status_code == 400
    assert "'to'" in response.json()["error"]
    assert receiver.drain() == []


def test_sandbox_delivery_validation(sandbox: SandboxProcess, receiver: Receiver) -> None:
    bad_topic = deliver(sandbox, platform="shopline", topic="order/create", to=receiver.url)
    assert bad_topic.status_code == 400 and "did you mean 'orders/create'" in bad_topic.json()["error"]
    bad_platform = deliver(sandbox, platform="shopify", topic="orders/create", to=receiver.url)
    assert bad_platform.status_code == 400 and "unknown platform 'shopify'" in bad_platform.json()["error"]
    missing = sandbox.admin.post("/_sandbox/deliver", json={"platform": "shopline", "topic": "orders/create"})
    assert missing.status_code == 400 and "to" in missing.json()["error"]
    none = deliver(sandbox, platform="shoplazza", topic="orders/create", to=receiver.url)
    assert none.status_code == 200 and none.json()["deliveries"] == []
    for localhost in (receiver.url, receiver.url.replace("127.0.0.1", "localhost")):
        assert deliver(sandbox, platform="up42", topic="job.status", to=localhost).status_code == 200


def test_an_empty_secret_from_the_environment_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(SECRET_ENV, "")
    with pytest.raises(SystemExit) as exited:
        trigger_main(["shopline", "orders/create", "--to", "http://127.0.0.1:1"])
    assert exited.value.code == 2
    assert f"the secret from {SECRET_ENV} is empty" in capsys.readouterr().err
