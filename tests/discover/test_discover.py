"""`pulumi-webhooks discover`: run as a subprocess against the sandbox subprocess, as a user runs it.

The round trips are the point of the command: subscriptions made outside Pulumi, `discover --python`,
the printed fragment run as the program through tests/engine.py, and every subscription taken over
without a single write and without a duplicate.
"""

from __future__ import annotations

import ast
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import EngineFactory, SandboxProcess
from engine import collect

from pulumi_webhooks._core.naming import slug

COMMAND = Path(sys.executable).with_name("pulumi-webhooks")  # the console script, as installed

SHOPLINE_TOKEN = "shpat-disc-6a1f0c9e3b7d"
SHOPLAZZA_TOKEN = "spz-disc-2c8e4a6f1b9d"
UP42_USER, UP42_PASSWORD = "pilot@example.com", "pw-disc-Up42-51d9"
UP42_SECRET = "whsec-disc-0f3a9c7e"
CJ_KEY = "CJ4242@api@0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a"
CJ_OTHER_KEY = "CJ4242@api@ffee0d1c2b3a49586776a5b4c3d2e1f0"  # same account: "someone else's script"
SECRETS = (SHOPLINE_TOKEN, SHOPLAZZA_TOKEN, UP42_PASSWORD, UP42_SECRET, CJ_KEY)

HANDLE, SHOP = "open001", "store-a"
WS = "0cb1eaa0-89a3-11ec-a8a3-0242ac120002"
VERSION = "v20260301"
UP42_TOKEN_PATH = "/up42/auth/realms/public/protocol/openid-connect/token"
PLATFORM_PREFIXES = ("SHOPLINE_", "SHOPLAZZA_", "UP42_", "CJ_", "PULUMI_WEBHOOKS_")


# -- helpers -------------------------------------------------------------------------------------------
def platform_env(sandbox: SandboxProcess, cache_dir: Path) -> dict[str, str]:
    """Every platform's endpoints and credentials, pointed at the sandbox (as a user exports them)."""
    return {
        "SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}"),
        "SHOPLINE_ACCESS_TOKEN": SHOPLINE_TOKEN,
        "SHOPLAZZA_BASE_URL": sandbox.base_url("shoplazza", "/{shop}"),
        "SHOPLAZZA_ACCESS_TOKEN": SHOPLAZZA_TOKEN,
        "UP42_BASE_URL": f"{sandbox.url}/up42/api",
        "UP42_AUTH_URL": f"{sandbox.url}{UP42_TOKEN_PATH}",
        "UP42_USERNAME": UP42_USER,
        "UP42_PASSWORD": UP42_PASSWORD,
        "CJ_BASE_URL": sandbox.base_url("cjdropshipping", "/api2.0/v1"),
        "CJ_API_KEY": CJ_KEY,
        "CJ_QPS": "40",
        "PULUMI_WEBHOOKS_CACHE_DIR": str(cache_dir),
    }


@pytest.fixture
def env(sandbox: SandboxProcess, tmp_path: Path) -> dict[str, str]:
    sandbox.admin.post("/cjdropshipping/_sandbox/settings", json={"account_qps": 40}).raise_for_status()
    return platform_env(sandbox, tmp_path / "cache")


def discover(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(PLATFORM_PREFIXES)}
    return subprocess.run(
        [str(COMMAND), "discover", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    for secret in SECRETS:
        assert secret not in result.stdout and secret not in result.stderr
    return result.stdout


def failed(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The one error line that ends stderr (no traceback, no secret); the lines before it are the
    command's progress lines."""
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for secret in SECRETS:
        assert secret not in result.stderr
    *before, line = result.stderr.splitlines()
    if code == 1:  # (a usage error, code 2, is argparse's usage and message)
        assert all(earlier.startswith("pulumi-webhooks discover: ") for earlier in before), result.stderr
    return line + "\n"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def shopline_api(sandbox: SandboxProcess) -> httpx.Client:
    return httpx.Client(
        base_url=f"{sandbox.url}/shopline/{HANDLE}/admin/openapi/{VERSION}",
        headers={"Authorization": f"Bearer {SHOPLINE_TOKEN}"},
    )


def shopline_create(
    sandbox: SandboxProcess, topic: str, address: str, version: str = VERSION
) -> dict[str, Any]:
    with shopline_api(sandbox) as api:
        body = {"webhook": {"topic": topic, "address": address, "api_version": version}}
        response = api.post("webhooks.json", json=body)
    response.raise_for_status()
    created: dict[str, Any] = response.json()["webhook"]
    return created


def shoplazza_create(sandbox: SandboxProcess, topic: str, address: str) -> dict[str, Any]:
    response = httpx.post(
        f"{sandbox.url}/shoplazza/{SHOP}/openapi/2022-01/webhooks",
        json={"topic": topic, "address": address},
        headers={"Access-Token": SHOPLAZZA_TOKEN},
    )
    response.raise_for_status()
    created: dict[str, Any] = response.json()["webhook"]
    return created


def up42_create(sandbox: SandboxProcess, **body: Any) -> dict[str, Any]:
    form = {
        "grant_type": "password",
        "client_id": "up42-api",
        "username": UP42_USER,
        "password": UP42_PASSWORD,
    }
    token = httpx.post(f"{sandbox.url}{UP42_TOKEN_PATH}", data=form).json()["access_token"]
    response = httpx.post(
        f"{sandbox.url}/up42/api/workspaces/{WS}/webhooks",
        content=json.dumps(
            {"active": True, **body}
        ),  # no "secret": none (UP42 refuses a null one); \u escapes
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response.raise_for_status()
    created: dict[str, Any] = response.json()["data"]
    return created


def cj_set(sandbox: SandboxProcess, **urls: str) -> None:
    base = sandbox.base_url("cjdropshipping", "/api2.0/v1")
    token = httpx.post(f"{base}/authentication/getAccessToken", json={"apiKey": CJ_OTHER_KEY}).json()["data"]
    body = {
        group: {"type": "ENABLE", "callbackUrls": [urls[group]]}
        if group in urls
        else {"type": "CANCEL", "callbackUrls": ["https://hooks.example.com/cj/off"]}  # one URL: required
        for group in ("product", "stock", "order", "logistics")
    }
    answer = httpx.post(f"{base}/webhook/set", json=body, headers={"CJ-Access-Token": token["accessToken"]})
    assert answer.json()["result"] is True, answer.text


def program_from(fragment: str) -> Callable[[], None]:
    """The printed fragment as a Pulumi program, run as `pulumi up` would run a pasted file."""
    code = compile(fragment, "discovered.py", "exec")

    def program() -> None:
        exec(code, {"__name__": "__main__"})  # noqa: S102 (the command's own output, the point of the test)

    return program


def writes(sandbox: SandboxProcess, platform: str) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.writes(platform) if "/_sandbox/" not in r["path"]]


# -- SHOPLINE: table, json, python, and the round trip -----------------------------------------------
def test_shopline_table_json_and_python(sandbox: SandboxProcess, env: dict[str, str]) -> None:
    first = shopline_create(sandbox, "orders/create", "https://hooks.example.com/a")
    second = shopline_create(sandbox, "orders/create", "https://hooks.example.com/b", "v20251201")
    paid = shopline_create(sandbox, "orders/paid", "https://hooks.example.com/a")

    table = ok(discover(env, "shopline", "--handle", HANDLE)).splitlines()
    assert table[0].split() == ["ID", "TOPIC", "ADDRESS", "API", "VERSION", "CREATED", "AT"]
    assert [line.split()[:4] for line in table[1:]] == [
        [str(first["id"]), "orders/create", "https://hooks.example.com/a", VERSION],
        [str(second["id"]), "orders/create", "https://hooks.example.com/b", "v20251201"],
        [str(paid["id"]), "orders/paid", "https://hooks.example.com/a", VERSION],
    ]

    records = json.loads(ok(discover(env, "shopline", "--handle", HANDLE, "--json")))
    assert records[0] == {
        "id": f"{HANDLE}/{first['id']}",
        "webhook_id": str(first["id"]),
        "handle": HANDLE,
        "topic": "orders/create",
        "address": "https://hooks.example.com/a",
        "api_version": VERSION,
        "created_at": first["created_at"],
        "updated_at": first["updated_at"],
    }
    assert [r["id"] for r in records] == [f"{HANDLE}/{h['id']}" for h in (first, second, paid)]

    fragment = ok(discover(env, "shopline", "--handle", HANDLE, "--python"))
    assert (
        'shopline.Webhook(\n    "orders-create",\n    handle="open001",\n    topic="orders/create",\n'
        '    address="https://hooks.example.com/a",\n    api_version="v20260301",\n    adopt=True,\n)'
    ) in fragment
    registered = sorted(collect(program_from(fragment)), key=lambda r: r.name)  # registered concurrently
    assert [(r.name, r.inputs["topic"], r.inputs["address"], r.inputs["adopt"]) for r in registered] == [
        ("orders-create", "orders/create", "https://hooks.example.com/a", True),
        (
            "orders-create-2",
            "orders/create",
            "https://hooks.example.com/b",
            True,
        ),  # stable: by topic, then id
        ("orders-paid", "orders/paid", "https://hooks.example.com/a", True),
    ]


def test_shopline_round_trip_adopts_without_a_write(
    sandbox: SandboxProcess, env: dict[str, str], make_engine: EngineFactory
) -> None:
    made = [
        shopline_create(sandbox, "orders/create", "https://hooks.example.com/orders"),
        shopline_create(sandbox, "orders/paid", "https://hooks.example.com/orders"),
        shopline_create(sandbox, "products/update", "https://hooks.example.com/products", "v20251201"),
    ]
    fragment = ok(discover(env, "shopline", "--handle", HANDLE, "--python"))
    engine = make_engine(
        env={"SHOPLINE_BASE_URL": env["SHOPLINE_BASE_URL"]},
        config={"shopline:accessToken": SHOPLINE_TOKEN},
        secret_keys=["shopline:accessToken"],
    )
    sandbox.clear_log()
    result = engine.up(program_from(fragment))
    assert result.ok, result.steps
    assert result.ops == {"orders-create": "create", "orders-paid": "create", "products-update": "create"}
    assert writes(sandbox, "shopline") == []  # taken over: no POST, no PUT, no DELETE
    with shopline_api(sandbox) as api:
        live = api.get("webhooks.json").json()["webhooks"]
    assert sorted(h["id"] for h in live) == sorted(h["id"] for h in made)  # no duplicate
    assert sorted(s.id for s in engine.state.values()) == sorted(f"{HANDLE}/{h['id']}" for h in made)
    again = engine.up(program_from(fragment))
    assert again.ok and set(again.ops.values()) == {"same"}


# -- Shoplazza ---------------------------------------------------------------------------------------------
def test_shoplazza_round_trip_adopts_without_a_write(
    sandbox: SandboxProcess, env: dict[str, str], make_engine: EngineFactory
) -> None:
    made = [
        shoplazza_create(sandbox, "orders/create", "https://hooks.example.com/orders"),
        shoplazza_create(sandbox, "products/update", "https://hooks.example.com/products"),
    ]
    records = json.loads(ok(discover(env, "shoplazza", "--shop", SHOP, "--json")))
    assert [(r["id"], r["topic"], r["address"]) for r in records] == [
        (f"{SHOP}/{h['id']}", h["topic"], h["address"]) for h in made
    ]
    table = ok(discover(env, "shoplazza", "--shop", SHOP))
    assert table.splitlines()[0].split() == ["ID", "TOPIC", "ADDRESS", "CREATED", "AT"]
    assert made[0]["id"] in table and "products/update" in table

    fragment = ok(discover(env, "shoplazza", "--shop", SHOP, "--python"))
    engine = make_engine(
        env={"SHOPLAZZA_BASE_URL": env["SHOPLAZZA_BASE_URL"]},
        config={"shoplazza:accessToken": SHOPLAZZA_TOKEN},
        secret_keys=["shoplazza:accessToken"],
    )
    sandbox.clear_log()
    result = engine.up(program_from(fragment))
    assert result.ok, result.steps
    assert result.ops == {"orders-create": "create", "products-update": "create"}
    assert writes(sandbox, "shoplazza") == []
    assert sorted(s.id for s in engine.state.values()) == sorted(f"{SHOP}/{h['id']}" for h in made)


def test_python_output_flags_what_preview_would_refuse(sandbox: SandboxProcess, env: dict[str, str]) -> None:
    long_address = "https://hooks.example.com/" + "x" * 2100  # Shoplazza stores it; our limit is 2048
    shoplazza_create(sandbox, "orders/create", long_address)
    fragment = ok(discover(env, "shoplazza", "--shop", SHOP, "--python"))
    assert (
        "# preview will refuse this until it is changed: address: must be at most 2048 characters" in fragment
    )


def test_a_hostile_value_cannot_break_out_of_the_fragment(
    sandbox: SandboxProcess, env: dict[str, str]
) -> None:
    hostile = 'https://evil.example.com/x"),__import__("os").system("exit"),print("#\\'
    shoplazza_create(sandbox, "orders/create", hostile)
    fragment = ok(discover(env, "shoplazza", "--shop", SHOP, "--python"))
    tree = ast.parse(fragment)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    assert len(calls) == 1  # the declaration, nothing smuggled in
    address = next(k.value for k in calls[0].keywords if k.arg == "address")
    assert ast.literal_eval(address) == hostile


# -- UP42: the signing secret is never printed ------------------------------------------------------------
def test_up42_outputs_never_show_the_secret_and_round_trip(
    sandbox: SandboxProcess, env: dict[str, str], make_engine: EngineFactory
) -> None:
    signed = up42_create(
        sandbox,
        name="Job status",
        url="https://hooks.example.com/up42/jobs",
        events=["job.status"],
        secret=UP42_SECRET,
    )
    paused = up42_create(
        sandbox,
        name="Orders (paused)",
        url="https://hooks.example.com/up42/orders",
        events=["order.status", "job.status"],
        active=False,
    )
    table = ok(discover(env, "up42", "--workspace", WS, "--verbose"))  # ok() checks stdout and stderr
    rows = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert "job.status, order.status" in rows[paused["id"]]
    records = json.loads(ok(discover(env, "up42", "--workspace", WS, "--json")))
    assert [(r["webhook_id"], r["secret_set"], r["active"]) for r in records] == [
        (signed["id"], True, True),
        (paused["id"], False, False),
    ]
    assert all("secret" not in r for r in records)

    fragment = ok(discover(env, "up42", "--workspace", WS, "--python"))
    assert 'secret=config.require_secret("jobStatusSecret"),' in fragment
    assert "pulumi config set --secret jobStatusSecret" in fragment
    engine = make_engine(
        env={k: v for k, v in env.items() if k.startswith("UP42_BASE") or k == "UP42_AUTH_URL"},
        config={"up42:username": UP42_USER, "up42:password": UP42_PASSWORD, "jobStatusSecret": UP42_SECRET},
        secret_keys=["up42:password", "jobStatusSecret"],
    )
    sandbox.clear_log()
    result = engine.up(program_from(fragment))
    assert result.ok, result.steps
    assert result.ops == {"job-status": "create", "orders-paused": "create"}
    assert [w for w in writes(sandbox, "up42") if "/webhooks" in w] == []  # only the token request
    assert len(sandbox.state()["up42"]["workspaces"][WS]) == 2


def test_up42_secrets_get_one_config_key_each_and_a_short_one_is_flagged(
    sandbox: SandboxProcess, env: dict[str, str]
) -> None:
    # "Orders 2" and "Orders2" are named orders-2 and orders2, which both made the key orders2Secret: one
    # webhook's secret would then be set on the other by `pulumi up`.
    for name, secret in (("Orders 2", "whsec-first-0123456789"), ("Orders2", "whsec-second-0123456789")):
        up42_create(
            sandbox,
            name=name,
            url=f"https://hooks.example.com/{slug(name)}",
            events=["job.status"],
            secret=secret,
        )
    up42_create(
        sandbox, name="Short", url="https://hooks.example.com/short", events=["job.status"], secret="short123"
    )

    fragment = ok(discover(env, "up42", "--workspace", WS, "--python"))

    keys = re.findall(r'config\.require_secret\("([^"]+)"\)', fragment)
    assert len(keys) == 3 and len(set(keys)) == 3, keys
    assert "short123" not in fragment
    assert "preview will refuse this until it is changed: secret: must be at least 16 characters" in fragment


def test_the_table_escapes_what_would_drive_the_terminal(
    sandbox: SandboxProcess, env: dict[str, str]
) -> None:
    # A store's values reach the terminal: escape sequences and carriage returns could rewrite or hide rows.
    up42_create(
        sandbox,
        name="x\x1b]0;pwned\x07\x1b[2J\rFAKE\u202e",
        url="https://hooks.example.com/t",
        events=["job.status"],
    )
    table = ok(discover(env, "up42", "--workspace", WS))
    assert "\x1b" not in table and "\r" not in table and "\u202e" not in table and "\x07" not in table
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\rFAKE\\u202e" in table


@pytest.mark.parametrize("output", ["table", "json", "python"])
def test_a_lone_surrogate_from_the_platform_is_escaped_not_a_traceback(
    sandbox: SandboxProcess, env: dict[str, str], output: str
) -> None:
    up42_create(sandbox, name="broken \ud800 name", url="https://hooks.example.com/s", events=["job.status"])
    text = ok(discover(env, "up42", "--workspace", WS, *([] if output == "table" else [f"--{output}"])))
    assert "\\ud800" in text, text
    if output == "python":
        ast.parse(text)


# -- CJdropshipping ------------------------------------------------------------------------------------
def test_cjdropshipping_groups_and_round_trip(
    sandbox: SandboxProcess, env: dict[str, str], make_engine: EngineFactory
) -> None:
    cj_set(sandbox, product="https://hooks.example.com/cj/p", order="https://hooks.example.com/cj/o")
    table = ok(discover(env, "cjdropshipping"))
    assert [line.split() for line in table.splitlines()] == [
        ["GROUP", "STATUS", "URL"],
        ["product", "ENABLE", "https://hooks.example.com/cj/p"],
        ["stock", "CANCEL", "-"],
        ["order", "ENABLE", "https://hooks.example.com/cj/o"],
        ["logistics", "CANCEL", "-"],
    ]
    records = json.loads(ok(discover(env, "cjdropshipping", "--json")))
    open_id = str(sandbox.state()["cjdropshipping"]["accounts"]["CJ4242"]["open_id"])
    assert open_id not in json.dumps(records)
    assert records[0] == {
        "group": "product",
        "input": "product_url",
        "status": "ENABLE",
        "url": records[0]["url"],
    }

    fragment = ok(discover(env, "cjdropshipping", "--python"))
    engine = make_engine(
        env={k: env[k] for k in ("CJ_BASE_URL", "CJ_QPS", "PULUMI_WEBHOOKS_CACHE_DIR")},
        config={"cjdropshipping:apiKey": CJ_KEY},
        secret_keys=["cjdropshipping:apiKey"],
    )
    sandbox.clear_log()
    result = engine.up(program_from(fragment))
    assert result.ok, result.steps
    assert result.ops == {"webhook-settings": "create"}
    assert not [w for w in writes(sandbox, "cjdropshipping") if w.endswith("/webhook/set")]


# -- nothing found, and failures ---------------------------------------------------------------------------
def test_nothing_found(env: dict[str, str]) -> None:
    assert (
        ok(discover(env, "shopline", "--handle", HANDLE))
        == "No webhook subscriptions on the SHOPLINE store 'open001'.\n"
    )
    assert json.loads(ok(discover(env, "shoplazza", "--shop", SHOP, "--json"))) == []
    fragment = ok(discover(env, "up42", "--workspace", WS, "--python"))
    assert "# Nothing to declare." in fragment
    assert collect(program_from(fragment)) == []


# platform -> (its arguments, the environment without its credentials)
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "shopline": ("--handle", HANDLE),
    "shoplazza": ("--shop", SHOP),
    "up42": ("--workspace", WS),
    "cjdropshipping": (),
}
CREDENTIALS = {
    "shopline": ("SHOPLINE_ACCESS_TOKEN",),
    "shoplazza": ("SHOPLAZZA_ACCESS_TOKEN",),
    "up42": ("UP42_USERNAME", "UP42_PASSWORD"),
    "cjdropshipping": ("CJ_API_KEY",),
}
# What discover reads instead: each message must name these and nothing it does not read.
NAMED = {
    "shopline": ("SHOPLINE_ACCESS_TOKEN", "--token-env"),
    "shoplazza": ("SHOPLAZZA_ACCESS_TOKEN", "--token-env"),
    "up42": ("UP42_USERNAME", "UP42_PASSWORD", "UP42_ACCESS_TOKEN", "--token-env"),
    "cjdropshipping": ("CJ_API_KEY", "--api-key-env", "CJ_ACCESS_TOKEN", "--token-env"),
}


def names_only_what_discover_reads(line: str, platform: str) -> None:
    assert all(name in line for name in NAMED[platform]), line
    assert "stack config `" not in line and "input" not in line, line  # the provider's sources, not ours


@pytest.mark.parametrize("platform", sorted(ARGUMENTS))
def test_a_rejected_credential_is_one_line_naming_what_discover_reads(
    sandbox: SandboxProcess, env: dict[str, str], platform: str
) -> None:
    sandbox.settings(token="the-only-good-token")
    if platform == "up42":  # UP42's sign-in does not know the sandbox token: give a token it rejects
        env = {k: v for k, v in env.items() if k not in CREDENTIALS["up42"]}
        env["UP42_ACCESS_TOKEN"] = "up42-token-nobody-issued"
    line = failed(discover(env, platform, *ARGUMENTS[platform]))
    rejected = "(HTTP 200, code 1600001" if platform == "cjdropshipping" else "(HTTP 401"  # CJ: in a 200
    assert line.startswith("pulumi-webhooks discover: ") and f"failed {rejected}" in line, line
    assert line.count("\n") == 1
    names_only_what_discover_reads(line, platform)


@pytest.mark.parametrize("platform", sorted(ARGUMENTS))
def test_missing_credentials_name_the_variables_and_flags(
    sandbox: SandboxProcess, env: dict[str, str], platform: str
) -> None:
    unset = {k: v for k, v in env.items() if k not in CREDENTIALS[platform]}
    line = failed(discover(unset, platform, *ARGUMENTS[platform]))
    names_only_what_discover_reads(line, platform)
    assert [r for r in sandbox.requests() if "/_sandbox/" not in r["path"]] == []  # said before any call


def test_half_of_the_up42_sign_in_names_the_other_half(env: dict[str, str]) -> None:
    line = failed(discover({**env, "UP42_PASSWORD": ""}, "up42", "--workspace", WS))
    assert "UP42_USERNAME is set but UP42_PASSWORD is not" in line
    names_only_what_discover_reads(line, "up42")


def test_a_bad_setting_names_the_variable_discover_reads(env: dict[str, str]) -> None:
    line = failed(
        discover(
            {**env, "SHOPLINE_BASE_URL": "http://example.com/{handle}"}, "shopline", *ARGUMENTS["shopline"]
        )
    )
    assert "environment variable `SHOPLINE_BASE_URL` must be https://" in line
    assert "stack config" not in line


# -- progress, and failing fast with the cause ---------------------------------------------------------
def test_each_step_is_a_progress_line_on_stderr(sandbox: SandboxProcess, env: dict[str, str]) -> None:
    shopline_create(sandbox, "orders/create", "https://hooks.example.com/a")
    done = discover(env, "shopline", "--handle", HANDLE, "--json")
    assert len(json.loads(ok(done))) == 1  # stdout stays clean for scripts
    host = sandbox.url.removeprefix("http://")
    assert done.stderr == (
        f"pulumi-webhooks discover: connecting to {host}…\n"
        f"pulumi-webhooks discover: listing SHOPLINE webhooks of {HANDLE}…\n"
    )
    quiet = discover(env, "shopline", "--handle", HANDLE, "--json", "--quiet")
    assert ok(quiet) == done.stdout and quiet.stderr == ""


def test_retries_are_said_while_they_happen(sandbox: SandboxProcess, env: dict[str, str]) -> None:
    sandbox.fault("shopline", "status", status=503, retry_after=0, count=1)
    done = discover(env, "shopline", "--handle", HANDLE)
    assert "No webhook subscriptions" in ok(done)
    _, *after = done.stderr.split(f"listing SHOPLINE webhooks of {HANDLE}…\n")
    assert after and "503" in after[0] and "SHOPLINE" in after[0], done.stderr


# platform -> the variable pointing it at the closed port
ENDPOINTS = {
    "shopline": ("SHOPLINE_BASE_URL", "http://127.0.0.1:{port}/shopline/{{handle}}", "list webhooks"),
    "shoplazza": ("SHOPLAZZA_BASE_URL", "http://127.0.0.1:{port}/shoplazza/{{shop}}", "list webhooks"),
    "up42": ("UP42_BASE_URL", "http://127.0.0.1:{port}/up42/api", "list webhooks"),
    "up42-sign-in": ("UP42_AUTH_URL", "http://127.0.0.1:{port}/token", "token request"),
    "cjdropshipping": ("CJ_BASE_URL", "http://127.0.0.1:{port}/api2.0/v1", "read settings"),
}


@pytest.mark.parametrize("case", sorted(ENDPOINTS))
def test_a_closed_port_fails_at_once_naming_the_cause(
    sandbox: SandboxProcess, env: dict[str, str], case: str
) -> None:
    variable, template, operation = ENDPOINTS[case]
    platform = case.removesuffix("-sign-in")
    port = closed_port()
    line = failed(discover({**env, variable: template.format(port=port)}, platform, *ARGUMENTS[platform]))
    assert f"{operation} failed: connection refused by 127.0.0.1:{port} (nothing listens there)" in line
    assert variable in line  # where to change it
    assert "gave up after" not in line  # one attempt: not 8 retries of a port that is closed
    assert [r for r in sandbox.requests() if "/_sandbox/" not in r["path"]] == []


def test_a_host_name_that_does_not_resolve_is_named(env: dict[str, str]) -> None:
    unknown = {
        **env,
        "SHOPLINE_BASE_URL": "https://{handle}.pulumi-webhooks.invalid",
    }  # RFC 6761: never resolves
    line = failed(discover(unknown, "shopline", "--handle", HANDLE))
    assert "could not resolve host open001.pulumi-webhooks.invalid (DNS: " in line
    assert "SHOPLINE_BASE_URL" in line and "gave up after" not in line


def test_token_env_reads_another_variable(sandbox: SandboxProcess, env: dict[str, str]) -> None:
    shopline_create(sandbox, "orders/create", "https://hooks.example.com/a")
    moved = {**env, "SHOPLINE_ACCESS_TOKEN": "", "MY_SHOPLINE_TOKEN": SHOPLINE_TOKEN}
    assert "orders/create" in ok(
        discover(moved, "shopline", "--handle", HANDLE, "--token-env", "MY_SHOPLINE_TOKEN")
    )
    line = failed(discover(moved, "shopline", "--handle", HANDLE, "--token-env", "NOT_SET_ANYWHERE"))
    assert "environment variable NOT_SET_ANYWHERE (named by --token-env) is not set" in line


def test_bad_arguments_are_usage_errors_before_any_request(
    sandbox: SandboxProcess, env: dict[str, str]
) -> None:
    assert "--handle must be the store handle" in failed(
        discover(env, "shopline", "--handle", "Open.Store"), 2
    )
    assert "--workspace must be the workspace id" in failed(discover(env, "up42", "--workspace", "ws-1"), 2)
    assert "required: --shop" in failed(discover(env, "shoplazza"), 2)
    assert "invalid choice" in failed(discover(env, "shopify"), 2)
    assert [r for r in sandbox.requests() if "/_sandbox/" not in r["path"]] == []


def test_runs_under_the_operation_deadline(sandbox: SandboxProcess, env: dict[str, str]) -> None:
    # SHOPLINE answers 503 and asks for 30 s of patience; the deadline is 1 s: instead of waiting and
    # trying again (as it would with the default 300 s), the command gives up at once, in one line.
    sandbox.fault("shopline", "status", status=503, retry_after=30, count=2)
    line = failed(discover({**env, "PULUMI_WEBHOOKS_OPERATION_TIMEOUT": "1"}, "shopline", "--handle", HANDLE))
    assert line.startswith("pulumi-webhooks discover: SHOPLINE list webhooks failed (HTTP 503")
    assert len(sandbox.requests("shopline")) == 1
