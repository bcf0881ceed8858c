"""A program that declares resources does not load the HTTP client stack: only the provider host needs
httpx, pydantic and tenacity (program start-up stays close to `import pulumi`; benchmarks/ times it).
In the host, a platform's first request leaves before pydantic and the wire shapes load: they load on
another thread while the request is on the wire (benchmarks/ times the first request)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from conftest import SandboxProcess
from engine import REPO_ROOT

HEAVY = ("httpx", "pydantic", "tenacity")

CHILD = """
import json, sys
import pulumi_webhooks.{platform} as platform
platform.{resource}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


@pytest.mark.parametrize(
    ("platform", "resource"),
    [
        ("shopline", "Webhook"),
        ("shoplazza", "Webhook"),
        ("up42", "Webhook"),
        ("cjdropshipping", "WebhookSettings"),
    ],
)
def test_the_resource_class_loads_without_the_http_client(platform: str, resource: str) -> None:
    child = CHILD.format(platform=platform, resource=resource, heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", child], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_the_command_dispatcher_loads_no_command_and_no_http_client() -> None:
    """`pulumi-webhooks --version` and `--help` answer without importing any command's module."""
    child = (
        "import contextlib, io, json, sys\n"
        "from pulumi_webhooks import cli\n"
        "for argv in (['--version'], ['--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        cli.main(argv)\n"
        "modules = [m for m, _ in cli.COMMANDS.values()]\n"
        f"print(json.dumps(sorted(m for m in [*modules, *{HEAVY!r}] if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", child], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize(
    "module", ["shopline.api", "shoplazza.api", "up42.api", "up42.auth", "cjdropshipping.auth"]
)
def test_the_api_clients_load_without_pydantic(module: str) -> None:
    child = f"import sys, pulumi_webhooks.{module}; print('pydantic' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", child], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


FIRST_REQUEST = """
import json, sys
from pulumi_webhooks._core import http
from pulumi_webhooks.shopline.provider import ShoplineWebhookProvider

loaded_at_send = []
shared = http.shared_client

def watched(base_url):
    client = shared(base_url)
    client.event_hooks = {{"request": [lambda request: loaded_at_send.append("pydantic" in sys.modules)]}}
    return client

http.shared_client = watched
result = ShoplineWebhookProvider().read("shop1/{webhook_id}", {{"handle": "shop1"}})
print(json.dumps({{
    "loaded_at_send": loaded_at_send,
    "wire_loaded": "pulumi_webhooks.shopline.models" in sys.modules,
    "found": result.id == "shop1/{webhook_id}" and result.outs["address"],
}}))
"""


def test_the_first_request_leaves_before_pydantic_loads_and_its_answer_is_parsed(
    sandbox: SandboxProcess,
) -> None:
    created = httpx.post(
        sandbox.base_url("shopline", "/shop1/admin/openapi/v20260301/webhooks.json"),
        json={
            "webhook": {
                "topic": "orders/create",
                "address": "https://hooks.example.com/a",
                "api_version": "v20260301",
            }
        },
        headers={"Authorization": "Bearer shpat-first"},
    ).json()["webhook"]
    child = FIRST_REQUEST.format(webhook_id=created["id"])
    env = {
        **os.environ,
        "SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}"),
        "SHOPLINE_ACCESS_TOKEN": "shpat-first",
    }
    out = subprocess.run(
        [sys.executable, "-c", child], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == {
        "loaded_at_send": [False],
        "wire_loaded": True,
        "found": "https://hooks.example.com/a",
    }


START_UP_OBJECTS = """
import gc, json
import pulumi_webhooks.shopline as shopline
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi_webhooks.shopline.provider import ShoplineWebhookProvider

shopline.Webhook  # a program's side: it declares resources, it never configures a provider
program = gc.get_freeze_count()
ShoplineWebhookProvider().configure(ConfigureRequest(Config({}, "p")))
host = gc.get_freeze_count()
ShoplineWebhookProvider().configure(ConfigureRequest(Config({}, "p")))
print(json.dumps({"program": program, "host": host > 1000, "again": gc.get_freeze_count() == host}))
"""


def test_the_provider_host_leaves_its_start_up_objects_out_of_the_collector_once() -> None:
    """The first configure (only a provider host calls it) freezes what the host holds by then, so that
    the full collection loading pydantic sets off does not walk the SDK's and gRPC's objects; a program
    that imports the package freezes nothing, and later configures freeze nothing more."""
    out = subprocess.run(
        [sys.executable, "-c", START_UP_OBJECTS], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == {"program": 0, "host": True, "again": True}
