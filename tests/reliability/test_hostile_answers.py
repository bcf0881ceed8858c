"""Answers no platform sends but a broken proxy or a hostile server can, each one an error of our tree.

- A compression bomb: 700 bytes on the wire that expand to 256 MiB (``Content-Encoding: gzip, gzip``). The
  client asks for no encoding; one it gets anyway is decoded with zlib a piece at a time, so reading stops
  at the 8 MiB cap (64 KiB for an error answer's message) and the message says what was decoded, not the
  compressed length. An encoding it does not read (br, zstd, three layers deep) is refused once.
- Bodies that broke the client with a raw Python exception: a broken gzip stream (``httpx.DecodingError``),
  JSON nested a hundred thousand deep (``RecursionError`` in the parser) and an error body nested 600 deep
  (``RecursionError`` in the message's walk). Now each is a ``ServerError`` that says a write may have gone
  through (so the provider looks before it writes again), or the status's own error with what could be
  read of its message.
- A status outside 2xx that the call does not allow (a redirect, 304): it counted as success, so a DELETE
  answered with a redirect counted as deleted. Now it is an error naming the status and, for a redirect,
  where it points (scheme and host only), not retried: the same request gets the same answer.

Real servers on loopback: ``hostile_server`` for answers byte by byte, and a small stateful SHOPLINE
(``FakeShopline``) for the provider host's end-to-end cases.
"""

from __future__ import annotations

import http.server
import json
import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any

import pytest
from conftest import EngineFactory

from pulumi_webhooks import errors
from pulumi_webhooks._core.http import MAX_ANSWER_BYTES, ApiClient
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks.cjdropshipping.api import CjApi
from pulumi_webhooks.cjdropshipping.auth import AccessTokenAuth
from pulumi_webhooks.shopline import models as shopline_wire
from pulumi_webhooks.shopline.api import ShoplineApi
from pulumi_webhooks.up42.api import Up42Api
from reliability.harness import (
    SHOPLINE_TOKEN,
    SHOPLINE_VERSION,
    clear_error_problem,
    last_line,
    shopline_webhook_program,
    step_outcome,
)
from reliability.hostile_server import Behaviour, Connection, HostileServer, each_request, head

MiB = 1024 * 1024
WBITS = {"gzip": 31, "x-gzip": 31, "deflate": 15, "raw-deflate": -15}
LISTING = json.dumps(
    {
        "webhooks": [
            {"id": 7, "address": "https://h.example.com/a", "topic": "orders/create", "api_version": "v1"}
        ]
    }
).encode()


def encode(chunks: Iterable[bytes], *codings: str) -> bytes:
    """``chunks`` with each coding applied in turn (as ``Content-Encoding: a, b`` says: a first)."""
    data = b""
    for coding in codings:
        packer = zlib.compressobj(9, zlib.DEFLATED, WBITS[coding], 9, zlib.Z_RLE)
        data = b"".join([*(packer.compress(c) for c in chunks), packer.flush()])
        chunks = [data]
    return data


def zeros(size: int) -> Iterator[bytes]:
    return (bytes(MiB) for _ in range(size // MiB))


@cache
def bomb(codings: str, size: int) -> bytes:
    return encode(zeros(size), *(c.strip() for c in codings.split(",")))


def answering(status: str, body: bytes, **headers: str) -> Behaviour:
    """Every request answered with ``status``, ``headers`` and ``body`` (its length announced)."""

    def answer(connection: Connection) -> bool:
        return connection.send(head(status, Content_Length=str(len(body)), **headers) + body)

    return each_request(answer)


def shopline(server: HostileServer) -> ShoplineApi:
    return ShoplineApi(f"{server.url}/open001", SHOPLINE_TOKEN, rate=None)


def up42(server: HostileServer) -> Up42Api:
    return Up42Api(server.url, None)


def cj(server: HostileServer) -> CjApi:
    return CjApi(
        server.url, auth=AccessTokenAuth("cj-access-hostile-1"), pace_key=server.url, rate=RatePolicy(100, 10)
    )


def peak_while(call: Callable[[], object]) -> tuple[BaseException | None, int]:
    """What ``call`` raised, and the most memory Python held meanwhile."""
    tracemalloc.start()
    try:
        call()
        raised = None
    except Exception as exc:
        raised = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return raised, peak


# -- compression --------------------------------------------------------------------------------------
BOMBS = {  # Content-Encoding -> decoded size
    "gzip": 64 * MiB,
    "x-gzip": 64 * MiB,
    "deflate": 64 * MiB,
    "gzip, gzip": 256 * MiB,
}


@pytest.mark.parametrize("codings", list(BOMBS))
def test_a_compression_bomb_stops_at_the_cap_and_says_what_it_decoded(codings: str) -> None:
    payload = bomb(codings, BOMBS[codings])
    with HostileServer(answering("200 OK", payload, Content_Encoding=codings)) as server:
        raised, peak = peak_while(lambda: shopline(server).request("list webhooks", "GET", "webhooks.json"))
    assert isinstance(raised, errors.ServerError), repr(raised)
    message = str(raised)
    print(f"{codings}: {len(payload)} bytes on the wire, peak {peak / MiB:.1f} MiB: {message}")
    assert message.startswith("SHOPLINE list webhooks failed (HTTP 200)"), message
    assert "too large" in message and f"more than 8 MiB once decoded ({codings})" in message, message
    assert f"({len(payload)} bytes;" not in message  # the compressed length is not the answer's size
    assert "gave up after" not in message and len(server.requests) == 1  # the same answer again: no
    assert raised.may_have_committed and raised.max_retries == 0
    assert peak < 3 * MAX_ANSWER_BYTES, f"{peak / MiB:.0f} MiB held for an 8 MiB cap"


def test_an_error_answer_that_is_a_bomb_is_read_only_as_far_as_its_message() -> None:
    page = [b'{"errors": "Not Found"}' + b" " * 1000, *zeros(64 * MiB)]
    payload = encode(page, "gzip")
    with HostileServer(answering("404 Not Found", payload, Content_Encoding="gzip")) as server:
        raised, peak = peak_while(lambda: shopline(server).request("read webhook", "GET", "1/webhooks.json"))
    assert isinstance(raised, errors.NotFoundError), repr(raised)
    assert "HTTP 404" in str(raised) and "Not Found" in str(raised) and len(str(raised)) < 500, raised
    assert peak < 4 * MiB, f"{peak / MiB:.0f} MiB held for an error message"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate", "identity"])
def test_the_client_asks_for_no_encoding_and_still_reads_one_it_gets(coding: str) -> None:
    # Raw deflate is what some servers send as "deflate" (no zlib header).
    body = LISTING if coding == "identity" else encode([LISTING], coding)
    named = "deflate" if coding == "raw-deflate" else coding
    with HostileServer(answering("200 OK", body, Content_Encoding=named)) as server:
        response, page = shopline(server).request(
            "list webhooks", "GET", "webhooks.json", model=lambda: shopline_wire.WebhookListEnvelope
        )
    assert response.request.headers["accept-encoding"] == "identity"
    assert page is not None and [w.id for w in page.webhooks] == [7]
    assert "content-encoding" not in response.headers  # the copy holds the decoded body


@pytest.mark.parametrize("codings", ["br", "zstd", "compress", "gzip, gzip, gzip"])
def test_an_encoding_that_is_not_read_is_refused_once_by_name(codings: str) -> None:
    body = encode([LISTING], "gzip", "gzip", "gzip") if codings.count("gzip") == 3 else b"\x8b\x02\x80{}\x03"
    with (
        HostileServer(answering("200 OK", body, Content_Encoding=codings)) as server,
        pytest.raises(errors.ServerError) as failure,
    ):
        shopline(server).request("list webhooks", "GET", "webhooks.json")
    message = str(failure.value)
    assert message.startswith("SHOPLINE list webhooks failed (HTTP 200)"), message
    assert f"encoded with {codings}" in message and "gave up after" not in message, message
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"\x1f\x8b\x08\x00garbage, not a gzip stream", "its gzip encoding is broken"),
        (encode([LISTING], "gzip")[:20], "the body ends before its gzip data does"),
    ],
    ids=["broken", "truncated"],
)
def test_a_broken_compressed_answer_to_a_create_may_have_committed(body: bytes, words: str) -> None:
    with (
        HostileServer(answering("201 Created", body, Content_Encoding="gzip")) as server,
        pytest.raises(errors.ServerError) as failure,
    ):
        shopline(server).request("create webhook", "POST", "webhooks.json", json={"webhook": {}})
    message = str(failure.value)
    assert message.startswith("SHOPLINE create webhook failed (HTTP 201)") and words in message, message
    assert failure.value.may_have_committed  # the platform answered: the provider looks it up
    assert [r.split(b" ")[0] for r in server.requests] == [b"POST"]  # not sent again blindly


def test_a_broken_compressed_error_answer_keeps_its_status() -> None:
    with (
        HostileServer(
            answering("422 Unprocessable Entity", b"\x1f\x8b junk", Content_Encoding="gzip")
        ) as server,
        pytest.raises(errors.ApiValidationError) as failure,
    ):
        shopline(server).request("create webhook", "POST", "webhooks.json", json={"webhook": {}})
    assert "SHOPLINE create webhook failed (HTTP 422)" in str(failure.value)
    assert len(server.requests) == 1


# -- JSON nested too deeply -----------------------------------------------------------------------------
NESTED_600 = b"[" * 600 + b'"address is invalid"' + b"]" * 600


@pytest.mark.parametrize(
    ("client", "status", "body", "expected", "words"),
    [
        (
            shopline,
            "200 OK",
            b"[" * 100_000,
            errors.ServerError,
            "unexpected answer (the JSON is nested too deeply",
        ),
        (shopline, "422 Unprocessable Entity", b"[" * 60_000, errors.ApiValidationError, "nested too deeply"),
        (shopline, "422 Unprocessable Entity", NESTED_600, errors.ApiValidationError, ": address is invalid"),
        (up42, "200 OK", b'{"data": ' + b"[" * 60_000, errors.ServerError, "nested too deeply"),
        (
            up42,
            "422 Unprocessable Entity",
            b'{"error": ' + b"[" * 60_000,
            errors.ApiValidationError,
            "HTTP 422",
        ),
        (cj, "200 OK", b'{"code": 200, "data": ' + b"[" * 60_000, errors.ServerError, "nested too deeply"),
    ],
    ids=["shopline-200", "shopline-422", "shopline-422-600-deep", "up42-200", "up42-422", "cj-200"],
)
def test_json_nested_too_deeply_is_an_error_of_the_tree(
    client: Callable[[HostileServer], ApiClient],
    status: str,
    body: bytes,
    expected: type[errors.ApiError],
    words: str,
) -> None:
    with HostileServer(answering(status, body)) as server:
        api = client(server)
        with pytest.raises(errors.ApiError) as failure:
            api.request("create webhook", "POST", "webhooks", json={})
    assert type(failure.value) is expected, repr(failure.value)
    message = str(failure.value)
    assert message.startswith(f"{api.platform} create webhook failed (HTTP {status[:3]}") and words in message
    assert len(message) < 500 and len(server.requests) == 1, message
    if expected is errors.ServerError:
        assert failure.value.may_have_committed  # a 2xx answer to a write: it went through


# -- statuses outside 2xx -------------------------------------------------------------------------------
LOCATION = (
    f"https://admin:{SHOPLINE_TOKEN}@elsewhere.example.com:8443/login?next=/admin&token={SHOPLINE_TOKEN}"
)


def delete_on_shopline(server: HostileServer) -> None:
    shopline(server).delete_webhook("42")


def delete_on_up42(server: HostileServer) -> None:
    up42(server).delete_webhook("workspace-1", "webhook-1")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308, 304])
@pytest.mark.parametrize("delete", [delete_on_shopline, delete_on_up42], ids=["shopline", "up42"])
def test_a_delete_answered_outside_2xx_is_not_counted_as_deleted(
    status: int, delete: Callable[[HostileServer], None]
) -> None:
    answer = (
        answering(f"{status} Moved", b"", Location=LOCATION)
        if status != 304
        else answering("304 Not Modified", b"")
    )
    with (
        HostileServer(answer) as server,
        pytest.raises(errors.ServerError) as failure,
    ):
        delete(server)
    message = str(failure.value)
    assert f"delete webhook failed (HTTP {status})" in message and "\n" not in message, message
    if status == 304:
        assert "neither a success nor an error" in message, message
    else:
        assert "redirected to https://elsewhere.example.com:8443," in message, message
        assert "base URL" in message and "login" not in message and "admin" not in message, message
    assert SHOPLINE_TOKEN not in message
    assert len(server.requests) == 1  # the same request gets the same answer: not retried
    # A redirect says the request was not carried out; 303 See Other points to the result of one that was.
    assert failure.value.may_have_committed is (status == 303)


def test_a_relative_redirect_names_the_servers_own_origin() -> None:
    with (
        HostileServer(answering("302 Found", b"", Location="/signin?session=abc")) as server,
        pytest.raises(errors.ServerError) as failure,
    ):
        shopline(server).request("list webhooks", "GET", "webhooks.json")
    assert f"redirected to {server.url}," in str(failure.value) and "signin" not in str(failure.value)
    assert len(server.requests) == 1


# -- through the provider host ------------------------------------------------------------------------------
Misbehaviour = Callable[[http.server.BaseHTTPRequestHandler], bool]  # True: it answered


def as_usual(_handler: http.server.BaseHTTPRequestHandler) -> bool:
    return False


class FakeShopline:
    """A small stateful SHOPLINE on loopback: it lists, creates and deletes webhooks of any store. A
    ``misbehave[method]`` hook answers a request its own way, after a create has been stored."""

    def __init__(self) -> None:
        self.hooks: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.misbehave: dict[str, Misbehaviour] = {}
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                self.answer(200, {"webhooks": fake.hooks})

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path))
                posted = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["webhook"]
                hook = {"id": 1000 + len(fake.hooks), **posted}
                fake.hooks.append(hook)  # committed, whatever the answer says
                if not fake.misbehave.get("POST", as_usual)(self):
                    self.answer(201, {"webhook": hook})

            def do_DELETE(self) -> None:
                fake.requests.append(("DELETE", self.path))
                if fake.misbehave.get("DELETE", as_usual)(self):
                    return
                fake.hooks = [h for h in fake.hooks if f"/{h['id']}/" not in self.path]
                self.answer(200, {})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeShopline:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def env(self) -> dict[str, str]:
        return {"SHOPLINE_BASE_URL": f"{self.url}/{{handle}}", "SHOPLINE_ACCESS_TOKEN": SHOPLINE_TOKEN}


def broken_gzip(handler: http.server.BaseHTTPRequestHandler) -> bool:
    body = b"\x1f\x8b\x08\x00 not a gzip stream"
    handler.send_response(201)
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
    return True


def moved(handler: http.server.BaseHTTPRequestHandler) -> bool:
    handler.send_response(301)
    handler.send_header("Location", f"https://new-api.example.com/v2/?access_token={SHOPLINE_TOKEN}")
    handler.send_header("Content-Length", "0")
    handler.end_headers()
    return True


def test_through_the_provider_host_a_create_whose_answer_is_undecodable_is_found_and_kept(
    make_engine: EngineFactory,
) -> None:
    # The create committed on the platform, and its answer's gzip is broken: Pulumi must record the
    # subscription (found by the look-up the unreadable answer calls for), not lose it.
    with FakeShopline() as fake:
        fake.misbehave["POST"] = broken_gzip
        engine = make_engine(env=fake.env())
        result = engine.up(shopline_webhook_program("https://hooks.example.com/gz"))
        assert result.ok, step_outcome(result)
        assert [m for m, _ in fake.requests] == ["GET", "POST", "GET"], fake.requests
        assert len(fake.hooks) == 1 and fake.hooks[0]["api_version"] == SHOPLINE_VERSION
        [state] = engine.state.values()
        assert state.id.endswith(str(fake.hooks[0]["id"])), state.id


def test_through_the_provider_host_a_redirected_delete_fails_and_keeps_state(
    make_engine: EngineFactory,
) -> None:
    with FakeShopline() as fake:
        engine = make_engine(env=fake.env())
        assert engine.up(shopline_webhook_program("https://hooks.example.com/moved")).ok
        fake.misbehave["DELETE"] = moved
        destroyed = engine.destroy()
        error = step_outcome(destroyed)
        assert error is not None and clear_error_problem(error, "SHOPLINE") is None, error
        line = last_line(error)
        assert "HTTP 301" in line and "https://new-api.example.com" in line, line
        assert SHOPLINE_TOKEN not in error and "access_token" not in error, error
        assert len(engine.state) == 1 and len(fake.hooks) == 1  # nothing was deleted, and state says so
        assert [m for m, _ in fake.requests].count("DELETE") == 1
