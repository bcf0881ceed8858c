"""Answers are read up to a cap (issue 12.5): a 300 MB answer was read whole into memory (2.5 GB at
peak) and asked for 7 more times. Now any answer is streamed and reading stops at 8 MiB with one clear
line, the request is not repeated, and an error answer is read only as far as its message needs (64 KiB).

A real server on loopback sends the answers (``hostile_server``): one that announces 300 MB, one that
streams chunks without a length, one whose error page never ends. Each keeps sending until the client
hangs up, so what it managed to send shows where the client stopped.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest
from conftest import EngineFactory

from pulumi_webhooks import errors
from pulumi_webhooks._core.http import MAX_ANSWER_BYTES, MAX_ERROR_BODY_BYTES
from pulumi_webhooks.shopline.api import ShoplineApi
from reliability.harness import (
    SHOPLINE_TOKEN,
    clear_error_problem,
    last_line,
    shopline_webhook_program,
    step_outcome,
)
from reliability.hostile_server import (
    FILLER,
    Connection,
    HostileServer,
    chunked,
    each_request,
    head,
    stream_until_closed,
)

MiB = 1024 * 1024
DECLARED = 300 * 1000 * 1000  # what the issue saw
SEND_AT_MOST = 64 * MiB  # the server gives up here (the old client read everything it was sent)
# The kernel buffers a few MiB on loopback that the client never asked for: what was sent past the cap
# must stay within that, not reach the tens of MiB the server would go on sending.
SOCKET_SLACK = 16 * MiB


def declared_huge(connection: Connection) -> bool:
    stream_until_closed(connection, head(Content_Length=str(DECLARED)), FILLER, SEND_AT_MOST)
    return False


def chunked_huge(connection: Connection) -> bool:
    stream_until_closed(connection, head(Transfer_Encoding="chunked"), chunked(FILLER), SEND_AT_MOST)
    return False


def endless_error_page(connection: Connection) -> bool:
    first = head("404 Not Found", Transfer_Encoding="chunked") + chunked(
        b'{"errors": "Not Found"}' + b" " * 100
    )
    stream_until_closed(connection, first, chunked(FILLER), SEND_AT_MOST)
    return False


def client(server: HostileServer) -> ShoplineApi:
    return ShoplineApi(f"{server.url}/open001", SHOPLINE_TOKEN, rate=None)


@pytest.mark.parametrize("answer", [declared_huge, chunked_huge], ids=["content-length", "chunked"])
def test_an_oversized_answer_is_refused_once_and_never_held_in_memory(
    answer: Callable[[Connection], bool],
) -> None:
    with HostileServer(each_request(answer)) as server:
        tracemalloc.start()
        try:
            with pytest.raises(errors.ServerError) as failure:
                client(server).request("list webhooks", "GET", "webhooks.json")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    message = str(failure.value)
    print(
        f"{answer.__name__}: peak {peak / MiB:.1f} MiB, server sent {server.connections[0].sent / MiB:.1f} MiB"
    )
    assert "too large" in message and "8 MiB" in message and "\n" not in message, message
    assert "gave up after" not in message  # not repeated: the same request gets the same answer
    assert len(server.requests) == 1, server.requests
    assert peak < 3 * MAX_ANSWER_BYTES, peak  # the cap, its join, and a chunk: not the answer
    assert server.connections[0].sent < MAX_ANSWER_BYTES + SOCKET_SLACK


def test_an_error_answer_is_read_only_as_far_as_its_message() -> None:
    with (
        HostileServer(each_request(endless_error_page)) as server,
        pytest.raises(errors.NotFoundError) as failure,
    ):
        client(server).request("read webhook", "GET", "webhooks/1.json")
    assert "HTTP 404" in str(failure.value) and "Not Found" in str(failure.value), failure.value
    assert len(str(failure.value)) < 500
    assert len(server.requests) == 1
    assert server.connections[0].sent < MAX_ERROR_BODY_BYTES + SOCKET_SLACK


def test_through_the_provider_host_an_oversized_listing_fails_the_step_in_one_line(
    make_engine: EngineFactory,
) -> None:
    with HostileServer(each_request(chunked_huge)) as server:
        engine = make_engine(
            env={"SHOPLINE_BASE_URL": f"{server.url}/{{handle}}", "SHOPLINE_ACCESS_TOKEN": SHOPLINE_TOKEN}
        )
        error = step_outcome(engine.up(shopline_webhook_program("https://hooks.example.com/big")))
    assert error is not None and clear_error_problem(error, "SHOPLINE") is None, error
    assert "too large" in last_line(error) and "8 MiB" in last_line(error), last_line(error)
    assert [r.split(b" ")[0] for r in server.requests] == [b"GET"], server.requests  # asked once, no create
    assert max(c.sent for c in server.connections) < MAX_ANSWER_BYTES + SOCKET_SLACK
