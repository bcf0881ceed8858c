"""Long work is not silent (issue 15.5): every retry and wait reaches the Pulumi engine's log at INFO
("SHOPLINE create webhook: answered 429, waiting 1.0 s, try 2 of 8"), and a connection error names its
cause (DNS, refused, TLS, timeout) instead of "ConnectError talking to X".

The DNS case uses a name under ``.invalid`` (RFC 6761: it never resolves, and the resolver may answer
it without asking anyone); the refused case a loopback port nothing listens on; TLS a loopback server
that answers a TLS handshake in plain HTTP.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable

import httpx
import pytest
from conftest import EngineFactory, SandboxProcess

import pulumi_webhooks.shopline as shopline
from pulumi_webhooks import errors
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks.shopline.api import ShoplineApi
from reliability.harness import SHOPLINE_TOKEN, SHOPLINE_VERSION, clear_error_problem, last_line, step_outcome
from reliability.hostile_server import Connection, HostileServer, head

RETRY_LINE = re.compile(
    r"^SHOPLINE (?P<op>[a-z ]+): (?P<cause>.+), waiting \d+\.\d s, try (?P<n>\d) of (?P<of>\d)$"
)


def program(name: str = "hook") -> Callable[[], None]:
    def run() -> None:
        shopline.Webhook(
            name,
            handle="open001",
            api_version=SHOPLINE_VERSION,
            topic="orders/create",
            address="https://hooks.example.com/visible",
        )

    return run


def retry_lines(lines: list[str]) -> list[re.Match[str]]:
    return [m for line in lines if (m := RETRY_LINE.match(line))]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_throttled_create_is_reported_with_its_wait_and_try(
    sandbox: SandboxProcess, make_engine: EngineFactory
) -> None:
    engine = make_engine(
        env={
            "SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}"),
            "SHOPLINE_ACCESS_TOKEN": SHOPLINE_TOKEN,
        }
    )
    sandbox.fault("shopline", "status", method="POST", status=429, retry_after=1, count=2)
    assert engine.up(program()).ok
    found = retry_lines(engine.host.engine_lines("INFO"))
    assert [(m["op"], m["cause"], m["n"], m["of"]) for m in found] == [
        ("create webhook", "answered 429", "2", "8"),
        ("create webhook", "answered 429", "3", "8"),
    ], engine.host.engine_lines()
    assert all(SHOPLINE_TOKEN not in line for line in engine.host.engine_lines())


def test_a_name_that_does_not_resolve_is_named_as_such(make_engine: EngineFactory) -> None:
    engine = make_engine(
        env={"SHOPLINE_BASE_URL": "https://{handle}.example.invalid", "SHOPLINE_ACCESS_TOKEN": SHOPLINE_TOKEN}
    )
    error = step_outcome(engine.up(program()))
    assert error is not None and clear_error_problem(error, "SHOPLINE") is None, error
    line = last_line(error)
    assert "could not resolve host open001.example.invalid (DNS" in line, line
    assert "ConnectError" not in line and "may have reached" not in line, line
    # A name that does not exist is asked once more (a resolver can hiccup), not eight times.
    assert "gave up after 2 attempts" in line, line
    [retry] = retry_lines(engine.host.engine_lines("INFO"))
    assert retry["cause"].startswith("could not resolve host open001.example.invalid") and retry["of"] == "2"


def test_a_refused_connection_is_named_and_every_retry_is_visible(make_engine: EngineFactory) -> None:
    port = closed_port()
    engine = make_engine(
        env={
            "SHOPLINE_BASE_URL": f"http://127.0.0.1:{port}/{{handle}}",
            "SHOPLINE_ACCESS_TOKEN": SHOPLINE_TOKEN,
        },
        config={"pulumi-webhooks:operationTimeout": "3"},
    )
    error = step_outcome(engine.up(program()))
    assert error is not None and clear_error_problem(error, "SHOPLINE") is None, error
    line = last_line(error)
    assert f"connection refused by 127.0.0.1:{port} (nothing listens there)" in line, line
    found = retry_lines(engine.host.engine_lines("INFO"))
    assert found and all(m["cause"].startswith("connection refused by 127.0.0.1") for m in found), found
    assert [int(m["n"]) for m in found] == list(range(2, len(found) + 2))  # every try, in order


def plain_http_to_a_tls_client(connection: Connection) -> None:
    connection.send(head(Content_Length="2") + b"{}")


def silent(connection: Connection) -> None:
    connection.read_request()
    connection.wait_open(30)


class OneTry(ShoplineApi):
    max_attempts = 1  # one try is enough to read its error


def test_a_tls_failure_and_a_read_timeout_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with HostileServer(plain_http_to_a_tls_client) as server:
        api = ShoplineApi(f"https://127.0.0.1:{server.port}/open001", SHOPLINE_TOKEN, rate=None)
        with pytest.raises(errors.ConnectionError) as tls:
            api.request("list webhooks", "GET", "webhooks.json")
    assert "TLS handshake with 127.0.0.1 failed" in str(tls.value), tls.value
    assert "gave up after 2 attempts" in str(tls.value), tls.value  # once more, not eight times

    monkeypatch.setenv("PULUMI_WEBHOOKS_REQUEST_TIMEOUT", "1")
    with HostileServer(silent) as server, pytest.raises(errors.TimeoutError) as read:
        OneTry(f"{server.url}/open001", SHOPLINE_TOKEN, rate=None).request(
            "list webhooks", "GET", "webhooks.json"
        )
    assert "127.0.0.1 did not answer within 1.0 s (read timeout" in str(read.value), read.value


def test_a_connect_timeout_is_told_from_a_read_timeout() -> None:
    # A connect timeout needs a network that drops packets, which this machine does not have: the
    # classifier is given the exception httpx raises for one.
    api = ShoplineApi("https://open001.myshopline.com/admin", SHOPLINE_TOKEN, rate=None)
    timeout = httpx.Timeout(5.0, connect=2.0)
    cause, _ = api._connection_cause(httpx.ConnectTimeout("timed out"), timeout)
    assert cause == "connecting to open001.myshopline.com:443 timed out after 2.0 s"
    cause, _ = api._connection_cause(httpx.ReadTimeout("timed out"), timeout)
    assert cause.startswith("open001.myshopline.com did not answer within 5.0 s (read timeout")


def test_a_long_wait_for_the_rate_limit_is_reported(
    sandbox: SandboxProcess, caplog: pytest.LogCaptureFixture
) -> None:
    base = sandbox.base_url("shopline", f"/paced-store/admin/openapi/{SHOPLINE_VERSION}")
    api = ShoplineApi(base, SHOPLINE_TOKEN, rate=RatePolicy(per_second=0.7, burst=1))
    with caplog.at_level(logging.INFO, logger="pulumi_webhooks"):
        for _ in range(2):  # the second waits ~1.4 s for its turn
            api.request("list webhooks", "GET", "webhooks.json")
    waits = [r.getMessage() for r in caplog.records if "for the rate limit" in r.getMessage()]
    assert len(waits) == 1 and re.fullmatch(
        r"SHOPLINE list webhooks: waited 1\.\d s for the rate limit", waits[0]
    )
