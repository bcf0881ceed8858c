"""``make demo``: start the sandbox, then run the all-platforms example as ``pulumi`` would.

The Pulumi CLI is a Go binary that these machines cannot install, so the demo drives the real provider
host through ``tests/engine.py`` (the engine stand-in the test suite uses): preview, up, a second up
that changes nothing, an out-of-band edit found by refresh and repaired by up, and destroy.
With the Pulumi CLI installed, ``pulumi up`` in the repository root runs the same program.
"""

from __future__ import annotations

import os
import re
import runpy
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from engine import Engine, ProviderHost, Result  # noqa: E402  (tests/ is put on the path just above)

PROGRAM = REPO / "examples" / "all-platforms" / "__main__.py"
READY = re.compile(r"pulumi-webhooks sandbox listening on (http://[\d.]+:\d+)")


def program() -> None:
    runpy.run_path(str(PROGRAM), run_name="__main__")


def show(title: str, result: Result) -> None:
    print(f"\n== {title}")
    for step in sorted(result.steps, key=lambda s: s.name):
        detail = step.error.splitlines()[-1] if step.error else ""
        failures = "; ".join(f"{prop}: {reason}" for prop, reason in step.failures)
        print(f"   {step.op:<8} {step.name:<28} {failures or detail}")
    for key, value in sorted(result.outputs.items()):
        print(f"   output {key} = {value}")
    if not result.ok:
        raise SystemExit(f"{title} failed")


def sandbox_env(url: str) -> dict[str, str]:
    return {
        "SHOPLINE_BASE_URL": f"{url}/shopline/{{handle}}",
        "SHOPLINE_ACCESS_TOKEN": "sandbox-shopline-token",
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
    env = {**os.environ, **sandbox_env(url)}
    try:
        with ProviderHost(env=env, inherit_env=False, project="pulumi-webhooks-demo") as host:
            engine = Engine(host)
            show("preview", engine.preview(program))
            show("up", engine.up(program))
            show("up again (nothing changed: no calls)", engine.up(program))
            edit_out_of_band(url)
            show("refresh (someone changed an address by hand)", engine.refresh())
            show("up (repairs it)", engine.up(program))
            show("destroy", engine.destroy())
            print(f"\nsubscriptions left on the sandbox: {count(url)}")
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=10)
    return 0


def edit_out_of_band(url: str) -> None:
    api = f"{url}/shopline/open001/admin/openapi/v20260301"
    headers = {"Authorization": "Bearer sandbox-shopline-token"}
    hooks: list[dict[str, Any]] = httpx.get(f"{api}/webhooks.json", headers=headers).json()["webhooks"]
    body = {"webhook": {"address": "https://someone-else.example.com/hook"}}
    httpx.put(f"{api}/{hooks[0]['id']}/webhooks.json", json=body, headers=headers).raise_for_status()


def count(url: str) -> int:
    state: dict[str, Any] = httpx.get(f"{url}/_sandbox/state").json()
    return len(re.findall(r"'address'", repr(state)))


if __name__ == "__main__":
    raise SystemExit(main())
