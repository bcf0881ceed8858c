"""The `pulumi-webhooks` console script, run as users run it."""

from __future__ import annotations

import importlib.metadata
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import pulumi_webhooks
from pulumi_webhooks._core.http import USER_AGENT
from pulumi_webhooks.cli import COMMANDS

SCRIPT = Path(sys.executable).with_name("pulumi-webhooks")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], check=False, capture_output=True, text=True, timeout=60)


def test_help_lists_every_command_with_its_summary() -> None:
    done = run("--help")
    assert done.returncode == 0
    for name, (_, summary) in COMMANDS.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(summary)}$", done.stdout, re.M), done.stdout


def test_version_names_the_installed_distribution() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout == f"pulumi-webhooks {importlib.metadata.version('pulumi-webhooks')}\n"


def test_the_platforms_are_told_the_installed_version() -> None:
    # Platforms' support teams tell clients apart by User-Agent: it must not name an old release.
    installed = importlib.metadata.version("pulumi-webhooks")
    assert pulumi_webhooks.__version__ == installed
    assert USER_AGENT.startswith(f"pulumi-webhooks/{installed} "), USER_AGENT


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_parses_its_own_arguments(name: str) -> None:
    done = run(name, "--help")  # the command's own help, not the dispatcher's
    assert done.returncode == 0
    assert done.stdout.startswith(f"usage: pulumi-webhooks {name} ")


def test_unknown_or_missing_command_is_a_usage_error() -> None:
    done = run("sandbx")
    assert done.returncode == 2
    assert "invalid choice: 'sandbx'" in done.stderr and "usage: pulumi-webhooks" in done.stderr
    done = run()
    assert done.returncode == 2 and "COMMAND" in done.stderr


def test_options_after_the_command_reach_the_command() -> None:
    done = run("discover", "shopline", "--handle", "Bad.Handle")  # discover's own check of its own flag
    assert done.returncode == 2
    assert "pulumi-webhooks discover shopline: error: --handle must be the store handle" in done.stderr


def test_sandbox_command_serves_until_terminated() -> None:
    proc = subprocess.Popen(
        [SCRIPT, "sandbox", "--port", "0"], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert proc.stdout is not None
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", proc.stdout.readline())
        assert match, "no ready line"
        assert httpx.get(f"{match[1]}/_sandbox/health").json()["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
