"""The provider's info and warning lines reach the engine's log (the `Log` RPC at the address the CLI
passes to the plugin), where `pulumi up` shows them: here, a retry after a 429."""

from __future__ import annotations

import pytest
from conftest import EngineFactory, SandboxProcess

import pulumi_webhooks.shopline as shopline
from pulumi_webhooks._core import engine_log

TOKEN = "shpat-engine-log-0001"


def test_a_retry_is_reported_in_the_engine_log(sandbox: SandboxProcess, make_engine: EngineFactory) -> None:
    engine = make_engine(
        env={"SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}"), "SHOPLINE_ACCESS_TOKEN": TOKEN},
    )
    sandbox.fault("shopline", "status", method="POST", status=429, retry_after=0, count=1)

    def program() -> None:
        shopline.Webhook(
            "orders",
            handle="open001",
            api_version="v20260301",
            topic="orders/create",
            address="https://hooks.example.com/orders",
        )

    assert engine.up(program).ok
    lines = engine.host.engine_lines()
    assert any("SHOPLINE" in line and "429" in line for line in lines), lines
    assert all(TOKEN not in line for line in lines)


@pytest.mark.parametrize(
    "argv",
    [
        ["127.0.0.1:4321"],
        ["--logtostderr", "-v=9", "127.0.0.1:4321"],
        ["--tracing", "127.0.0.1:9411", "127.0.0.1:4321"],  # the tracing endpoint comes first
        ["--logtostderr", "--tracing", "http://127.0.0.1:9/spans", "127.0.0.1:4321"],
    ],
)
def test_the_engine_address_is_the_last_argument_the_cli_passes(argv: list[str]) -> None:
    # The CLI starts a plugin as `[--logtostderr] [-v=N] [--tracing ENDPOINT] ENGINE_ADDRESS`: with
    # tracing on, the first argument that looks like an address is the tracing endpoint.
    assert engine_log.address_from_argv(argv) == "127.0.0.1:4321"
    assert engine_log.address_from_argv(["--tracing", "127.0.0.1:9411"]) is None
