"""The `pulumi-webhooks` console script, run as users run it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

SCRIPT = Path(sys.executable).with_name("pulumi-webhooks")


def test_help_lists_the_commands() -> None:
    done = subprocess.run([SCRIPT, "--help"], capture_output=True, text=True, check=True)
    assert "sandbox" in done.stdout


def test_unknown_command_is_a_clear_error() -> None:
    done = subprocess.run([SCRIPT, "sandbx"], check=False, capture_output=True, text=True)
    assert done.returncode == 2
    assert "unknown command 'sandbx'" in done.stderr


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
