"""The native plugin against the sandbox: one case per platform (its config, a declaration, changes,
a fault), and helpers to start configured plugin processes."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from conftest import SandboxProcess
from plugin_host import PluginHost, Props, urn

SHOPLINE_TOKEN = "shpat-plugin-6d2e9a1c4b7f"  # recognisable values, for the secrecy checks
SHOPLAZZA_TOKEN = "spz-plugin-8c3f1a7e5d20"
UP42_USER = "pilot@example.com"
UP42_PASSWORD = "pw-Up42-plugin-3e8a1f"
CJ_API_KEY = "CJ88001@api@9a1c0c3a9b7d42c6a8e0f1d2c3b4a5d7"
UP42_TOKEN_PATH = "/up42/auth/realms/public/protocol/openid-connect/token"
WS = "0cb1eaa0-89a3-11ec-a8a3-0242ac120002"
CJ_QPS = 40

_PLATFORM_PREFIXES = ("SHOPLINE_", "SHOPLAZZA_", "UP42_", "CJ_", "PULUMI_WEBHOOKS_")


@dataclass(frozen=True)
class Case:
    """One platform as the plugin serves it: its config, a declaration, an in-place change, a
    replacing change (None when nothing replaces), a fault on its create, and how to count what the
    platform holds."""

    platform: str
    token: str
    config: Mapping[str, str]
    secret_config: tuple[str, ...]
    secrets: tuple[str, ...]  # the values that must never appear in clear
    inputs: Mapping[str, Any]
    update: Mapping[str, Any]
    replace: Mapping[str, Any] | None
    create_fault: Mapping[str, Any]
    held: Callable[[SandboxProcess], int]
    update_diff: Mapping[str, str]  # property -> the detailed diff kind the in-place change gives
    replace_diff: Mapping[str, str]  # the same for the replacing change
    replace_deletes_first: bool  # whether that replacement must delete the old one first
    env: Mapping[str, str] = field(default_factory=dict)

    def urn(self, name: str = "hook") -> str:
        return urn(self.token, name)


def _shopline_held(sandbox: SandboxProcess) -> int:
    return len(sandbox.state()["shopline"]["stores"].get("open001", {}))


def _shoplazza_held(sandbox: SandboxProcess) -> int:
    return len(sandbox.state()["shoplazza"]["shops"].get("store-a", []))


def _up42_held(sandbox: SandboxProcess) -> int:
    return len(sandbox.state()["up42"]["workspaces"].get(WS, []))


def _cj_held(sandbox: SandboxProcess) -> int:
    accounts: dict[str, Any] = sandbox.state()["cjdropshipping"]["accounts"]
    callback: dict[str, Any] = accounts.get("CJ88001", {}).get("callback", {})
    return sum(1 for group in callback.values() if group.get("type") == "ENABLE")


def cases(sandbox: SandboxProcess, cache_dir: Path) -> dict[str, Case]:
    return {
        "shopline": Case(
            platform="shopline",
            token="webhooks:shopline:Webhook",
            config={
                "shoplineAccessToken": SHOPLINE_TOKEN,
                "shoplineBaseUrl": sandbox.base_url("shopline", "/{handle}"),
                "shoplineQps": "unlimited",
            },
            secret_config=("shoplineAccessToken",),
            secrets=(SHOPLINE_TOKEN,),
            inputs={
                "handle": "open001",
                "topic": "orders/create",
                "address": "https://hooks.example.com/shopline/orders",
                "apiVersion": "v20260301",
            },
            update={"address": "https://hooks.example.com/shopline/orders-v2"},
            replace={"apiVersion": "v20251201"},
            create_fault={"kind": "commit_then_drop", "method": "POST", "path": r"/webhooks\.json$"},
            held=_shopline_held,
            update_diff={"address": "UPDATE"},
            replace_diff={"apiVersion": "UPDATE_REPLACE"},
            replace_deletes_first=True,  # same topic and address: the store holds one of each
        ),
        "shoplazza": Case(
            platform="shoplazza",
            token="webhooks:shoplazza:Webhook",
            config={
                "shoplazzaAccessToken": SHOPLAZZA_TOKEN,
                "shoplazzaBaseUrl": sandbox.base_url("shoplazza", "/{shop}"),
            },
            secret_config=("shoplazzaAccessToken",),
            secrets=(SHOPLAZZA_TOKEN,),
            inputs={
                "shop": "store-a",
                "topic": "orders/create",
                "address": "https://hooks.example.com/spz/orders",
            },
            update={"topic": "orders/paid"},
            replace={"shop": "store-b"},
            create_fault={"kind": "commit_then_drop", "method": "POST", "path": r"/webhooks$"},
            held=_shoplazza_held,
            update_diff={"topic": "UPDATE"},
            replace_diff={"shop": "UPDATE_REPLACE"},
            replace_deletes_first=False,  # another shop: no collision
        ),
        "up42": Case(
            platform="up42",
            token="webhooks:up42:Webhook",
            config={
                "up42Username": UP42_USER,
                "up42Password": UP42_PASSWORD,
                "up42BaseUrl": f"{sandbox.url}/up42/api",
                "up42AuthUrl": f"{sandbox.url}{UP42_TOKEN_PATH}",
            },
            secret_config=("up42Password",),
            secrets=(UP42_PASSWORD, "whsec-plugin-5a9e"),
            inputs={
                "workspaceId": WS,
                "url": "https://hooks.example.com/up42/jobs",
                "events": ["order.status", "job.status"],
                "name": "jobs",
                "secret": "whsec-plugin-5a9e",
            },
            update={"events": ["job.status"], "active": False},
            replace={"workspaceId": "5e0d3c52-2f7b-4d1e-9a8c-1b2c3d4e5f60"},
            create_fault={"kind": "commit_then_drop", "method": "POST", "path": r"/webhooks$"},
            held=_up42_held,
            update_diff={"events": "UPDATE", "active": "UPDATE"},
            replace_diff={"workspaceId": "UPDATE_REPLACE"},
            replace_deletes_first=False,
        ),
        "cjdropshipping": Case(
            platform="cjdropshipping",
            token="webhooks:cjdropshipping:WebhookSettings",
            config={
                "cjdropshippingApiKey": CJ_API_KEY,
                "cjdropshippingBaseUrl": sandbox.base_url("cjdropshipping", "/api2.0/v1"),
                "cjdropshippingQps": str(CJ_QPS),
            },
            secret_config=("cjdropshippingApiKey",),
            secrets=(CJ_API_KEY,),
            inputs={
                "productUrl": "https://hooks.example.com/cj/product",
                "orderUrl": "https://hooks.example.com/cj/order",
            },
            update={"orderUrl": None, "stockUrl": "https://hooks.example.com/cj/stock"},
            replace=None,
            create_fault={"kind": "commit_then_drop", "path": "webhook/set"},
            held=_cj_held,
            update_diff={"orderUrl": "DELETE", "stockUrl": "ADD"},
            replace_diff={},
            replace_deletes_first=False,
            env={"PULUMI_WEBHOOKS_CACHE_DIR": str(cache_dir)},
        ),
    }


PLATFORMS = ("shopline", "shoplazza", "up42", "cjdropshipping")


def prepare(sandbox: SandboxProcess, case: Case) -> None:
    """The platform's sandbox side: UP42 with one account, CJ fast enough for tests."""
    if case.platform == "up42":
        sandbox.admin.post(
            "/up42/_admin/settings", json={"account": {"username": UP42_USER, "password": UP42_PASSWORD}}
        ).raise_for_status()
    if case.platform == "cjdropshipping":
        httpx.post(
            f"{sandbox.url}/cjdropshipping/_sandbox/settings", json={"account_qps": CJ_QPS}
        ).raise_for_status()


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any platform setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PLATFORM_PREFIXES)}
    return {**env, **(extra or {})}


PluginFactory = Callable[..., PluginHost]


def configured(start_plugin: PluginFactory, sandbox: SandboxProcess, case: Case) -> PluginHost:
    prepare(sandbox, case)
    return start_plugin(config=case.config, secret_keys=case.secret_config, env=case.env)


def declared(case: Case, **changes: Any) -> Props:
    values = {**case.inputs, **changes}
    return Props.of({k: v for k, v in values.items() if v is not None})
