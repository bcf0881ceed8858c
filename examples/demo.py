"""``make demo [EXAMPLE=name]``: run one example program against the sandbox, as ``pulumi`` would.

``python examples/demo.py [EXAMPLE] [--sandbox URL]``: EXAMPLE is a folder of ``examples/``
(``all-platforms``, the default, ``shopline``, ``shoplazza``, ``up42``, ``cjdropshipping``). Without
``--sandbox`` a sandbox is started for the run and stopped after it.

The Pulumi CLI is a Go binary that these machines cannot install, so the demo drives the real provider
host through ``tests/engine.py`` (the engine stand-in the test suite uses): preview, up, a second up
that changes nothing, refresh (for a SHOPLINE subscription, after an out-of-band edit, which the next up
repairs), and destroy. With the Pulumi CLI installed, ``pulumi up`` in the repository root runs the
all-platforms program (``Pulumi.yaml``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import runpy
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from engine import Engine, ProviderHost, Result  # noqa: E402  (tests/ is put on the path just above)
from pulumi.runtime.rpc import UNKNOWN  # noqa: E402

EXAMPLES = REPO / "examples"
DEFAULT_EXAMPLE = "all-platforms"
READY = re.compile(r"pulumi-webhooks sandbox listening on (http://[\d.]+:\d+)")
SHOPLINE_STORE = "open001"  # the store the examples default to


def example_names() -> list[str]:
    """Every runnable example: a folder of examples/ holding a ``__main__.py``."""
    return sorted(p.parent.name for p in EXAMPLES.glob("*/__main__.py"))


def program_of(name: str) -> Callable[[], None]:
    path = EXAMPLES / name / "__main__.py"

    def program() -> None:
        runpy.run_path(str(path), run_name="__main__")

    return program


def show(title: str, result: Result, url: str) -> None:
    """Print a command's steps like `pulumi` does, and what it cost on the platforms' side."""
    log: list[dict[str, Any]] = httpx.get(f"{url}/_sandbox/requests").json()["requests"]
    httpx.delete(f"{url}/_sandbox/requests")
    tokens = sum(1 for r in log if "token" in r["path"].lower())
    writes = sum(1 for r in log if r["method"] not in ("GET", "HEAD") and "token" not in r["path"].lower())
    print(f"\n== {title}   [{len(log)} platform requests: {writes} writes, {tokens} token requests]")
    for step in sorted(result.steps, key=lambda s: s.name):
        # The dynamic provider host reports a failure as a Python traceback: its last line is the message.
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


@contextlib.contextmanager
def started_sandbox() -> Iterator[str]:
    """A sandbox subprocess for this run; its URL."""
    sandbox = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi_webhooks.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sandbox.stdout is not None
        match = READY.search(sandbox.stdout.readline())
        if match is None:
            raise SystemExit("the sandbox did not start")
        yield match[1]
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=10)


def run(name: str, url: str) -> None:
    """The example's life cycle against the sandbox at ``url``."""
    print(f"example: examples/{name}   sandbox: {url} (admin: {url}/_sandbox/state)")
    program = program_of(name)
    with tempfile.TemporaryDirectory(prefix="pulumi-webhooks-demo-") as cache:
        env = {**os.environ, **sandbox_env(url, cache)}
        with ProviderHost(env=env, inherit_env=False, project="pulumi-webhooks-demo") as host:
            engine = Engine(host)
            show("pulumi preview", engine.preview(program), url)
            show("pulumi up", engine.up(program), url)
            show("pulumi up (nothing changed)", engine.up(program), url)
            if edit_out_of_band(url):
                httpx.delete(f"{url}/_sandbox/requests")
                show("pulumi refresh (someone changed a SHOPLINE address by hand)", engine.refresh(), url)
                show("pulumi up (puts the declaration back)", engine.up(program), url)
            else:
                show("pulumi refresh", engine.refresh(), url)
            show("pulumi destroy", engine.destroy(), url)
    print(f"\nsubscriptions left on the sandbox: {count(url)}")


def edit_out_of_band(url: str) -> bool:
    """Change the address of the example's first SHOPLINE subscription behind Pulumi's back (False when
    the example declares none)."""
    api = f"{url}/shopline/{SHOPLINE_STORE}/admin/openapi/v20260301"
    headers = {"Authorization": "Bearer sandbox-shopline-token"}
    hooks: list[dict[str, Any]] = httpx.get(f"{api}/webhooks.json", headers=headers).json()["webhooks"]
    if not hooks:
        return False
    body = {"webhook": {"address": "https://someone-else.example.com/hook"}}
    httpx.put(f"{api}/{hooks[0]['id']}/webhooks.json", json=body, headers=headers).raise_for_status()
    return True


def count(url: str) -> int:
    """Subscriptions the sandbox still holds, over every platform (CJ: switched-on groups)."""
    state: dict[str, Any] = httpx.get(f"{url}/_sandbox/state").json()
    return len(re.findall(r"https://hooks\.example\.com/", json.dumps(state)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make demo [EXAMPLE=name]  (python examples/demo.py)",
        description="Run an example program against the sandbox: preview, up, up, refresh, destroy.",
    )
    parser.add_argument(
        "example", nargs="?", default=DEFAULT_EXAMPLE, choices=example_names(), help="a folder of examples/"
    )
    parser.add_argument("--sandbox", metavar="URL", help="a running sandbox (default: start one for the run)")
    args = parser.parse_args(argv)
    if args.sandbox:
        run(args.example, args.sandbox.rstrip("/"))
    else:
        with started_sandbox() as url:
            run(args.example, url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
