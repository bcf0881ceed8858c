"""A program that declares resources does not load the HTTP client stack: only the provider host needs
httpx, pydantic and tenacity (program start-up stays close to `import pulumi`; benchmarks/ times it)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
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
