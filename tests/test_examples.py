"""Every example program runs as its docstring says: `make demo EXAMPLE=name`, which is
`python examples/demo.py name` (preview, up, up, refresh, destroy through the real provider host),
here against the session's sandbox (`--sandbox URL`) rather than one sandbox per example."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest
from conftest import REPO, SandboxProcess

DEMO = REPO / "examples" / "demo.py"
EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/__main__.py"))


def test_every_example_is_found() -> None:
    assert {"all-platforms", "cjdropshipping", "shoplazza", "shopline", "up42"} <= set(EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_docstring_gives_the_command_that_runs_it(name: str) -> None:
    source = (REPO / "examples" / name / "__main__.py").read_text()
    doc = " ".join((ast.get_docstring(ast.parse(source)) or "").split())
    command = "make demo" if name == "all-platforms" else f"make demo EXAMPLE={name}"
    assert f"``{command}``" in doc


@pytest.mark.parametrize("name", EXAMPLES)
def test_make_demo_runs_the_example_named(name: str) -> None:
    planned = subprocess.run(
        ["make", "-n", "demo", f"EXAMPLE={name}"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert f"examples/demo.py {name}\n" in planned.stdout


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_example_runs_against_the_sandbox(sandbox: SandboxProcess, name: str) -> None:
    done = subprocess.run(
        [sys.executable, str(DEMO), name, "--sandbox", sandbox.url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    # title -> (platform requests, writes, token requests)
    costs = {
        title: tuple(map(int, numbers))
        for title, *numbers in re.findall(
            r"^== (pulumi [^\[]+?)\s+\[(\d+) platform requests: (\d+) writes, (\d+) token requests\]$",
            out,
            re.M,
        )
    }
    assert costs["pulumi up"][1] > 0
    # Nothing written, no token asked for (UP42's check may read its public event catalog: one GET).
    assert costs["pulumi up (nothing changed)"][1:] == (0, 0)
    steps = re.findall(r"^   (\w+)\s+(\S+)", out, re.M)
    created = {step for op, step in steps if op == "create"}
    deleted = {step for op, step in steps if op == "delete"}
    assert created and created == deleted
    assert out.rstrip().endswith("subscriptions left on the sandbox: 0")
