"""Self-healing: a scheduled `pulumi refresh` + `pulumi up` restores what a platform removed on its own.

Shoplazza deletes a subscription whose deliveries kept failing (19 attempts over two days); CJdropshipping
switches off a message group whose delivery success rate drops. Here the platform side does the same
out of band, through the sandbox's API, and the scheduled job (refresh, then up, each in a new provider
process as the CLI runs them) brings it back. The example CI workflow that schedules the job is checked
for the settings it names and the commands it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML comes with pulumi; only this test reads YAML
from conftest import EngineFactory, SandboxProcess
from engine import Engine

import pulumi_webhooks.cjdropshipping as cj
import pulumi_webhooks.shoplazza as shoplazza
from pulumi_webhooks._core import settings

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "examples" / "ci" / "github-actions.yml"

SHOPLAZZA_TOKEN = "spz-heal-5d3b1f9e7a2c"
SHOP = "store-a"
ADDRESS = "https://hooks.example.com/shoplazza/orders"
CJ_KEY = "CJ7070@api@1a2b3c4d5e6f708192a3b4c5d6e7f809"
CJ_PLATFORM_KEY = "CJ7070@api@99887766554433221100ffeeddccbbaa"  # same account: the platform's side
PRODUCT, ORDER = "https://hooks.example.com/cj/product", "https://hooks.example.com/cj/order"


def scheduled_job(engine: Engine, program: Callable[[], None]) -> tuple[Any, Any]:
    """What the workflow's `heal` job runs: `pulumi up --refresh` (a refresh, then an up)."""
    refreshed = engine.refresh()
    assert refreshed.ok, refreshed.steps
    applied = engine.up(program)
    assert applied.ok, applied.steps
    return refreshed, applied


# -- Shoplazza: a deleted subscription is created again ------------------------------------------------
def orders(topics: list[str]) -> Callable[[], None]:
    def program() -> None:
        shoplazza.Subscriptions("orders", shop=SHOP, address=ADDRESS, topics=topics)

    return program


def shop_hooks(sandbox: SandboxProcess) -> dict[str, str]:
    """topic -> id of the shop's subscriptions, through Shoplazza's own list endpoint."""
    response = httpx.get(
        f"{sandbox.url}/shoplazza/{SHOP}/openapi/2022-01/webhooks", headers={"Access-Token": SHOPLAZZA_TOKEN}
    )
    response.raise_for_status()
    return {hook["topic"]: hook["id"] for hook in response.json()["webhooks"]}


@pytest.fixture
def shoplazza_engine(sandbox: SandboxProcess, make_engine: EngineFactory) -> Engine:
    return make_engine(
        env={"SHOPLAZZA_BASE_URL": sandbox.base_url("shoplazza", "/{shop}")},
        config={"shoplazza:accessToken": SHOPLAZZA_TOKEN},
        secret_keys=["shoplazza:accessToken"],
    )


def test_a_shoplazza_subscription_the_platform_deleted_is_restored(
    shoplazza_engine: Engine, sandbox: SandboxProcess
) -> None:
    program = orders(["orders/create", "orders/paid"])
    assert shoplazza_engine.up(program).ok
    before = shop_hooks(sandbox)

    # Deliveries to orders/paid kept failing: Shoplazza deletes that subscription.
    httpx.delete(
        f"{sandbox.url}/shoplazza/{SHOP}/openapi/2022-01/webhooks/{before['orders/paid']}",
        headers={"Access-Token": SHOPLAZZA_TOKEN},
    ).raise_for_status()

    # `pulumi up` alone compares the program with the stack's state and sees nothing to do: it is the
    # refresh that finds out what the platform holds.
    assert set(shoplazza_engine.up(program).ops.values()) == {"same"}
    assert "orders/paid" not in shop_hooks(sandbox)

    refreshed, applied = scheduled_job(shoplazza_engine, program)
    assert refreshed.ops == {"orders-orders-create": "read", "orders-orders-paid": "refresh-delete"}
    assert applied.ops == {"orders-orders-create": "same", "orders-orders-paid": "create"}
    after = shop_hooks(sandbox)
    assert sorted(after) == ["orders/create", "orders/paid"]
    assert after["orders/create"] == before["orders/create"]  # untouched

    # The next scheduled run finds nothing to restore and writes nothing.
    sandbox.clear_log()
    refreshed, applied = scheduled_job(shoplazza_engine, program)
    assert all(not step.changes for step in refreshed.steps)
    assert set(applied.ops.values()) == {"same"}
    assert sandbox.writes("shoplazza") == []


# -- CJdropshipping: a group switched off is switched on again -----------------------------------------
def cj_settings() -> None:
    cj.WebhookSettings("cj", product_url=PRODUCT, order_url=ORDER)


def cj_groups(sandbox: SandboxProcess) -> dict[str, Any]:
    callback: dict[str, Any] = sandbox.state()["cjdropshipping"]["accounts"]["CJ7070"]["callback"]
    return callback


def test_a_cj_group_the_platform_switched_off_is_switched_on_again(
    sandbox: SandboxProcess, make_engine: EngineFactory, tmp_path: Path
) -> None:
    sandbox.admin.post("/cjdropshipping/_sandbox/settings", json={"account_qps": 40}).raise_for_status()
    base = sandbox.base_url("cjdropshipping", "/api2.0/v1")
    engine = make_engine(
        env={"CJ_BASE_URL": base, "CJ_QPS": "40", "PULUMI_WEBHOOKS_CACHE_DIR": str(tmp_path / "cache")},
        config={"cjdropshipping:apiKey": CJ_KEY},
        secret_keys=["cjdropshipping:apiKey"],
    )
    assert engine.up(cj_settings).ok
    assert cj_groups(sandbox)["order"] == {"type": "ENABLE", "urls": [ORDER]}

    # The order group's success rate dropped: CJ closes it, the other groups stay as they are.
    token = httpx.post(f"{base}/authentication/getAccessToken", json={"apiKey": CJ_PLATFORM_KEY}).json()
    # (CJ wants one URL in every group, a CANCEL too: the group's current one.)
    body = {
        "product": {"type": "ENABLE", "callbackUrls": [PRODUCT]},
        "stock": {"type": "CANCEL", "callbackUrls": [PRODUCT]},
        "order": {"type": "CANCEL", "callbackUrls": [ORDER]},
        "logistics": {"type": "CANCEL", "callbackUrls": [PRODUCT]},
    }
    closed = httpx.post(
        f"{base}/webhook/set", json=body, headers={"CJ-Access-Token": token["data"]["accessToken"]}
    )
    assert closed.json()["result"] is True

    refreshed, applied = scheduled_job(engine, cj_settings)
    assert refreshed.step("cj").changes == ("order_url",)  # the refresh sees the group gone
    assert applied.ops == {"cj": "update"}
    assert cj_groups(sandbox)["order"] == {"type": "ENABLE", "urls": [ORDER]}
    assert cj_groups(sandbox)["product"] == {"type": "ENABLE", "urls": [PRODUCT]}
    [state] = engine.state.values()
    assert state.outputs["order_url"] == ORDER


# -- the example workflow ------------------------------------------------------------------------------
def workflow() -> dict[Any, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(loaded, dict)
    return loaded


def pulumi_step(job: dict[str, Any]) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [
        s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")
    ]
    [step] = steps
    return step


def test_the_workflow_previews_pull_requests_applies_main_and_heals_on_a_schedule() -> None:
    flow = workflow()
    triggers: dict[str, Any] = flow["on"] if "on" in flow else flow[True]  # YAML 1.1 reads `on` as true
    assert triggers["pull_request"]["branches"] == ["main"] and triggers["push"]["branches"] == ["main"]
    assert triggers["schedule"][0]["cron"]
    jobs = flow["jobs"]
    assert "pull_request" in jobs["preview"]["if"] and "push" in jobs["up"]["if"]
    assert "schedule" in jobs["heal"]["if"]
    preview, up, heal = (pulumi_step(jobs[name])["with"] for name in ("preview", "up", "heal"))
    assert preview["command"] == "preview" and preview["comment-on-pr"] is True
    assert up["command"] == "up" and not up.get("refresh")
    assert heal["command"] == "up" and heal["refresh"] is True
    assert {pulumi_step(job)["uses"] for job in jobs.values()} == {"pulumi/actions@v7"}
    assert jobs["up"]["concurrency"]["group"] == jobs["heal"]["concurrency"]["group"]


def test_the_workflow_names_only_settings_the_package_reads() -> None:
    import pulumi_webhooks.cjdropshipping.provider
    import pulumi_webhooks.shoplazza.provider
    import pulumi_webhooks.shopline.provider
    import pulumi_webhooks.up42.provider  # noqa: F401 (each declares its settings)

    known = {setting.env_var for setting in settings._known.values()}
    env = workflow()["env"]
    platform_vars = {name for name in env if name not in ("STACK", "PULUMI_ACCESS_TOKEN")}
    assert platform_vars and platform_vars <= known, platform_vars - known
    assert all(env[name] == f"${{{{ secrets.{name} }}}}" for name in platform_vars | {"PULUMI_ACCESS_TOKEN"})
