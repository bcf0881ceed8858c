"""Provider configuration, explicit providers, errors and concurrency of the native plugin, over gRPC
against the sandbox subprocess."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML comes with pulumi
from conftest import SandboxProcess
from engine import ProviderError
from plugin_host import EXECUTABLE, PluginHost, Props, urn
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import ConfigureRequest, CreateRequest

from plugin.cases import SHOPLINE_TOKEN, Case, PluginFactory, configured, declared
from pulumi_webhooks.plugin import WebhooksProvider

REPO = Path(__file__).resolve().parents[2]
SHOPLINE = "webhooks:shopline:Webhook"
OTHER_TOKEN = "shpat-plugin-store-b-91f0c2"


def shopline_config(sandbox: SandboxProcess, **extra: str) -> dict[str, str]:
    return {
        "shoplineAccessToken": SHOPLINE_TOKEN,
        "shoplineBaseUrl": sandbox.base_url("shopline", "/{handle}"),
        "shoplineQps": "unlimited",
        **extra,
    }


def orders(handle: str, address: str = "https://hooks.example.com/orders") -> dict[str, Any]:
    return {"handle": handle, "topic": "orders/create", "address": address, "apiVersion": "v20260301"}


def store_paths(sandbox: SandboxProcess, handle: str) -> set[str]:
    """The admin API versions a store's requests used (`/shopline/{handle}/admin/openapi/{version}/...`)."""
    return {
        r["path"].split("/")[5]
        for r in sandbox.requests("shopline")
        if r["path"].startswith(f"/shopline/{handle}/")
    }


def create(host: PluginHost, name: str, declaration: dict[str, Any]) -> tuple[str, Props]:
    target = urn(SHOPLINE, name)
    checked = host.check(target, {}, declaration)
    assert checked.failures == ()
    return host.create(target, checked.inputs)


# -- provider configuration ---------------------------------------------------------------------------
def test_check_config_names_unknown_keys_and_keeps_credentials_secret(
    sandbox: SandboxProcess, start_plugin: PluginFactory
) -> None:
    host = start_plugin()
    checked = host.check_config(
        Props.of({**shopline_config(sandbox), "shoplineAccesToken": "x", "version": "0.1.0"})
    )
    assert checked.failures == (
        (
            "shoplineAccesToken",
            "unknown setting 'shoplineAccesToken' for webhooks providers; did you mean 'shoplineAccessToken' or "
            "'shoplazzaAccessToken' or 'up42AccessToken'?",
        ),
    )
    assert "shoplineAccessToken" in checked.inputs.secrets
    assert "shoplineBaseUrl" not in checked.inputs.secrets


def test_two_explicit_providers_manage_two_stores(
    sandbox: SandboxProcess, start_plugin: PluginFactory
) -> None:
    """Each explicit provider is its own plugin process (as the CLI runs them), with its own token and
    admin API version: each store's requests carry its provider's settings, and a provider without a
    token fails on its own, naming its config key, while the other one works."""
    store_a = start_plugin(config=shopline_config(sandbox), secret_keys=("shoplineAccessToken",))
    store_b = start_plugin(
        config=shopline_config(sandbox, shoplineAccessToken=OTHER_TOKEN, shoplineAdminApiVersion="v20251201"),
        secret_keys=("shoplineAccessToken",),
    )
    no_token = start_plugin(config={"shoplineBaseUrl": sandbox.base_url("shopline", "/{handle}")})

    id_a, _ = create(store_a, "a", orders("open001"))
    id_b, _ = create(store_b, "b", orders("open002"))

    assert id_a.startswith("open001/") and id_b.startswith("open002/")
    assert store_paths(sandbox, "open001") == {"v20260301"}
    assert store_paths(sandbox, "open002") == {"v20251201"}
    failures = no_token.check(urn(SHOPLINE, "c"), {}, orders("open003")).failures
    assert failures == (
        (
            "accessToken",
            "no SHOPLINE access token: set the `accessToken` input, provider config "
            "`webhooks:shoplineAccessToken` or environment variable `SHOPLINE_ACCESS_TOKEN`",
        ),
    )


@pytest.mark.parametrize(
    ("token", "inputs", "names"),
    [
        (
            "webhooks:up42:Webhook",
            {
                "workspaceId": "0cb1eaa0-89a3-11ec-a8a3-0242ac120002",
                "url": "https://hooks.example.com/u",
                "events": ["job.status"],
                "name": "u",
            },
            ("`webhooks:up42Username`", "`webhooks:up42Password`", "`webhooks:up42AccessToken`"),
        ),
        (
            "webhooks:cjdropshipping:WebhookSettings",
            {"productUrl": "https://hooks.example.com/p"},
            ("`webhooks:cjdropshippingApiKey`", "`webhooks:cjdropshippingAccessToken`"),
        ),
    ],
)
def test_missing_credentials_name_the_provider_config_keys(
    start_plugin: PluginFactory, token: str, inputs: dict[str, Any], names: tuple[str, ...]
) -> None:
    # The plugin reads `webhooks:<platform><Setting>`: the message must not send users to `up42:username`.
    host = start_plugin(config={})
    [(_, reason)] = host.check(urn(token, "x"), {}, inputs).failures
    assert all(name in reason for name in names), reason
    assert "stack config" not in reason, reason


def test_settings_fall_back_to_the_environment(sandbox: SandboxProcess, start_plugin: PluginFactory) -> None:
    host = start_plugin(
        config={},
        env={
            "SHOPLINE_ACCESS_TOKEN": SHOPLINE_TOKEN,
            "SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}"),
            "SHOPLINE_QPS": "unlimited",
        },
    )
    resource_id, outputs = create(host, "env", orders("open001"))
    assert resource_id == f"open001/{outputs['webhookId']}"


def test_two_providers_in_one_process_keep_their_own_configuration(sandbox: SandboxProcess) -> None:
    """The configuration is per provider object (a context set around each operation), not
    process-wide: two providers in one process, creating at the same time, each use their own."""

    def configure_request(**config: str) -> ConfigureRequest:
        args = {k: PropertyValue(v, is_secret=k == "shoplineAccessToken") for k, v in config.items()}
        return ConfigureRequest({f"webhooks:{k}": v for k, v in config.items()}, args, True, False)

    def create_request(name: str, handle: str) -> CreateRequest:
        props = {k: PropertyValue(v) for k, v in orders(handle).items()}
        return CreateRequest(urn(SHOPLINE, name), props, 0.0, False)

    async def run() -> tuple[str, str]:
        a, b = WebhooksProvider(), WebhooksProvider()
        await a.configure(configure_request(**shopline_config(sandbox)))
        await b.configure(configure_request(**shopline_config(sandbox, shoplineAdminApiVersion="v20251201")))
        made = await asyncio.gather(
            a.create(create_request("a", "open001")), b.create(create_request("b", "open002"))
        )
        return str(made[0].resource_id), str(made[1].resource_id)

    id_a, id_b = asyncio.run(run())
    assert id_a.startswith("open001/") and id_b.startswith("open002/")
    assert store_paths(sandbox, "open001") == {"v20260301"}
    assert store_paths(sandbox, "open002") == {"v20251201"}


# -- errors -------------------------------------------------------------------------------------------
def test_an_error_reaches_the_engine_as_one_line_without_traceback_or_secret(
    sandbox: SandboxProcess, start_plugin: PluginFactory, all_cases: dict[str, Case]
) -> None:
    case = all_cases["shopline"]
    host = configured(start_plugin, sandbox, case)
    target = case.urn()
    inputs = host.check(target, {}, declared(case)).inputs
    # The platform refuses the create and echoes the token in its answer.
    sandbox.fault(
        "shopline",
        "status",
        method="POST",
        status=403,
        body={"errors": f"token {SHOPLINE_TOKEN} is not allowed"},
    )

    with pytest.raises(ProviderError) as failure:
        host.create(target, inputs)

    message = failure.value.message
    assert "\n" not in message
    assert "Traceback" not in message and 'File "' not in message and ".py" not in message
    assert SHOPLINE_TOKEN not in message
    assert "SHOPLINE" in message and "403" in message
    # What to check is named as the plugin reads it: its provider config, not a stack config key.
    assert "`webhooks:shoplineAccessToken`" in message and "`accessToken` input" in message, message
    assert "stack config" not in message, message
    assert SHOPLINE_TOKEN not in host.logs() + json.dumps(host.engine_log.lines())


def test_a_malformed_id_is_one_line_naming_the_id(
    sandbox: SandboxProcess, start_plugin: PluginFactory, all_cases: dict[str, Case]
) -> None:
    case = all_cases["up42"]
    host = configured(start_plugin, sandbox, case)
    with pytest.raises(ProviderError) as failure:
        host.read(case.urn(), "not-an-id")
    assert failure.value.message == "id: must look like {workspace_id}/{webhook_id}, got 'not-an-id'"


# -- concurrency --------------------------------------------------------------------------------------
def _most_in_flight(requests: list[dict[str, Any]]) -> int:
    """The largest number of these requests the sandbox was answering at the same moment."""
    edges = sorted(
        [(r["time"] - r["duration_ms"] / 1000, 1) for r in requests] + [(r["time"], -1) for r in requests]
    )
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def test_more_than_four_operations_run_at_once(sandbox: SandboxProcess, start_plugin: PluginFactory) -> None:
    """The dynamic host runs 4 operations at a time; the plugin runs as many as the engine sends (each
    store here is its own, so no pacing or listing serializes them)."""
    host = start_plugin(config=shopline_config(sandbox), secret_keys=("shoplineAccessToken",))
    handles = [f"store{i:02d}" for i in range(8)]
    sandbox.settings(latency=0.5)
    with ThreadPoolExecutor(max_workers=len(handles)) as pool:
        made = list(pool.map(lambda h: create(host, h, orders(h)), handles))
    assert sorted(resource_id.split("/")[0] for resource_id, _ in made) == handles
    posts = [r for r in sandbox.requests("shopline") if r["method"] == "POST"]
    assert len(posts) == len(handles)
    assert _most_in_flight(posts) > 4


# -- packaging ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-u", str(REPO / "pulumi_webhooks" / "plugin")],
        [sys.executable, "-u", "-m", "pulumi_webhooks.plugin"],
    ],
    ids=["PulumiPlugin.yaml main", "python -m"],
)
def test_the_plugin_also_starts_as_the_python_language_host_runs_it(
    start_plugin: PluginFactory, command: list[str]
) -> None:
    manifest = (REPO / "PulumiPlugin.yaml").read_text()
    assert "main: pulumi_webhooks/plugin" in manifest and "name: python" in manifest
    host = start_plugin(command=command)
    assert set(json.loads(host.get_schema())["resources"]) >= {SHOPLINE}


def test_plugin_executable_without_an_engine_address_prints_its_usage() -> None:
    done = subprocess.run([str(EXECUTABLE)], check=False, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "usage: pulumi-resource-webhooks ENGINE_ADDRESS" in done.stderr


def test_the_yaml_example_declares_what_the_plugin_accepts(
    sandbox: SandboxProcess, start_plugin: PluginFactory
) -> None:
    """examples/yaml/Pulumi.yaml (run by the Pulumi CLI, which is not installed here): its explicit
    provider passes CheckConfig and every resource passes the plugin's Check, with the sandbox as the
    store and `${...}` config references filled in."""
    program = yaml.safe_load((REPO / "examples" / "yaml" / "Pulumi.yaml").read_text())
    assert program["runtime"] == "yaml" and program["packages"] == {"webhooks": "../.."}

    def filled(properties: dict[str, Any]) -> dict[str, Any]:
        return {k: OTHER_TOKEN if v == "${storeBToken}" else v for k, v in properties.items()}

    host = start_plugin(config=shopline_config(sandbox), secret_keys=("shoplineAccessToken",))
    declared_types = set()
    for name, resource in program["resources"].items():
        declared_types.add(resource["type"])
        if resource["type"] == "pulumi:providers:webhooks":
            assert host.check_config(filled(resource["properties"])).failures == ()
            continue
        assert host.check(urn(resource["type"], name), {}, filled(resource["properties"])).failures == ()
    assert declared_types == {"pulumi:providers:webhooks", SHOPLINE}
