"""``make demo``: start the sandbox, then run the all-platforms example as ``pulumi`` would.

The Pulumi CLI is a Go binary that these machines cannot install, so the demo drives the real provider
host through ``tests/engine.py`` (the engine stand-in the test suite uses): preview, up, a second up
that changes nothing, an out-of-band edit found by refresh and repaired by up, and destroy.
With the Pulumi CLI installed, ``pulumi up`` in the repository root runs the same program.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from engine import Engine, ProviderHost, Result  # noqa: E402  (tests/ is put on the path just above)
from pulumi.runtime.rpc import UNKNOWN  # noqa: E402

PROGRAM = REPO / "examples" / "all-platforms" / "__main__.py"
READY = re.compile(r"pulumi-webhooks sandbox listening on (http://[\d.]+:\d+)")


def program() -> None:
    runpy.run_path(str(PROGRAM), run_name="__main__")


def show(title: str, result: Result, url: str) -> None:
    """Print a command's steps like `pulumi` does, and what it cost on the platforms' side."""
    log: list[dict[str, Any]] = httpx.get(f"{url}/_sandbox/requests").json()["requests"]
    httpx.delete(f"{url}/_sandbox/requests")
    tokens = sum(1 for r in log if "token" in r["path"].lower())
    writes = sum(1 for r in log if r["method"] not in ("GET", "HEAD") and "token" not in r["path"].lower())
    print(f"\n== {title}   [{len(log)} platform requests: {writes} writes, {tokens} token requests]")
    for step in sorted(result.steps, key=lambda s: s.name):
        detail = step.error.splitlines()[-1] if step.error else ", ".join(step.changes)
        failures = "; ".join(f"{prop}: {reason}" for prop, reason in step.failures)
        print(f"   {step.op:<8} {step.name:<20} {failures or detail}")
    for key, value in sorted(result.outputs.items()):
        print(f"   output {key} = {'(known after up)' if value == UNKNOWN else value}")
    if not result.ok:
        raise SystemExit(f"{title} failed")


def sandbox_env(url: str, cache_dir: str) -> dict[str, str]:
    """Every platform pointed at the sandbox (which accepts any credential)."""
    return {
        "SHOPLINE_BASE_URL": f"{url}/shopline/{{handle}}",
        "SHOPLINE_ACCESS_TOKEN": "sandbox-shopline-token",
        "SHOPLAZZA_BASE_URL": f"{url}/shoplazza/{{shop}}",
        "SHOPLAZZA_ACCESS_TOKEN": "sandbox-shoplazza-token",
        "UP42_BASE_URL": f"{url}/up42/api",
        "UP42_AUTH_URL": f"{url}/up42/auth/realms/public/protocol/openid-connect/token",
        "UP42_USERNAME": "demo@example.com",
        "UP42_PASSWORD": "sandbox-password",
        "CJ_BASE_URL": f"{url}/cjdropshipping/api2.0/v1",
        "CJ_API_KEY": "CJDemoUser@api@sandbox-key",
        "PULUMI_WEBHOOKS_CACHE_DIR": cache_dir,  # CJ's token cache: keep the demo's out of your home
    }


def main() -> int:
    sandbox = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi_webhooks.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sandbox.stdout is not None
    match = READY.search(sandbox.stdout.readline())
    if match is None:
        sandbox.kill()
        print("the sandbox did not start", file=sys.stderr)
        return 1
    url = match[1]
    print(f"sandbox: {url} (admin: {url}/_sandbox/state)")
    cache = tempfile.TemporaryDirectory(prefix="pulumi-webhooks-demo-")
    env = {**os.environ, **sandbox_env(url, cache.name)}
    try:
        with ProviderHost(env=env, inherit_env=False, project="pulumi-webhooks-demo") as host:
            engine = Engine(host)
            show("pulumi preview", engine.preview(program), url)
            show("pulumi up", engine.up(program), url)
            show("pulumi up (nothing changed)", engine.up(program), url)
            edit_out_of_band(url)
            httpx.delete(f"{url}/_sandbox/requests")
            show("pulumi refresh (someone changed a SHOPLINE address by hand)", engine.refresh(), url)
            show("pulumi up (puts the declaration back)", engine.up(program), url)
            show("pulumi destroy", engine.destroy(), url)
            print(f"\nsubscriptions left on the sandbox: {count(url)}")
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=10)
        cache.cleanup()
    return 0


def edit_out_of_band(url: str) -> None:
    api = f"{url}/shopline/open001/admin/openapi/v20260301"
    headers = {"Authorization": "Bearer sandbox-shopline-token"}
    hooks: list[dict[str, Any]] = httpx.get(f"{api}/webhooks.json", headers=headers).json()["webhooks"]
    body = {"webhook": {"address": "https://someone-else.example.com/hook"}}
    httpx.put(f"{api}/{hooks[0]['id']}/webhooks.json", json=body, headers=headers).raise_for_status()


def count(url: str) -> int:
    """Subscriptions the sandbox still holds, over every platform (CJ: switched-on groups)."""
    state: dict[str, Any] = httpx.get(f"{url}/_sandbox/state").json()
    return len(re.findall(r"https://hooks\.example\.com/", json.dumps(state)))


if __name__ == "__main__":
    raise SystemExit(main())
