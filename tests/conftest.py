"""Shared fixtures: one sandbox subprocess per test session, and provider hosts wired to it.

Every test talks to real processes: the sandbox (`python -m pulumi_webhooks.sandbox`) over HTTP on
loopback, and the dynamic provider host (`python -m pulumi.dynamic`) over gRPC through `engine.py`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from engine import Engine, ProviderHost, running_processes

REPO = Path(__file__).resolve().parents[1]
READY = re.compile(r"pulumi-webhooks sandbox listening on (http://127\.0\.0\.1:\d+)\n")


class SandboxProcess:
    """A running sandbox subprocess and its admin API."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = httpx.Client(base_url=url, timeout=30)

    def base_url(self, platform: str, template: str = "") -> str:
        return f"{self.url}/{platform}{template}"

    def reset(self) -> None:
        self.admin.post("/_sandbox/reset", json={}).raise_for_status()

    def fault(self, platform: str, kind: str, **spec: Any) -> None:
        self.admin.post(
            "/_sandbox/faults", json={"platform": platform, "kind": kind, **spec}
        ).raise_for_status()

    def settings(self, **values: Any) -> None:
        self.admin.post("/_sandbox/settings", json=values).raise_for_status()

    def requests(self, platform: str | None = None) -> list[dict[str, Any]]:
        params = {"platform": platform} if platform else None
        body = self.admin.get("/_sandbox/requests", params=params).json()
        entries: list[dict[str, Any]] = body["requests"] if isinstance(body, dict) else body
        return entries

    def writes(self, platform: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.requests(platform) if r["method"] not in ("GET", "HEAD")]

    def clear_log(self) -> None:
        self.admin.delete("/_sandbox/requests").raise_for_status()

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.admin.get("/_sandbox/state").json()
        return state

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.admin.get("/_sandbox/stats").json()
        return stats


def start_sandbox_process(*args: str, stderr: IO[str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """`python -m pulumi_webhooks.sandbox --port 0 ARGS` and the URL it prints once it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi_webhooks.sandbox", "--port", "0", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=stderr if stderr is not None else subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = READY.fullmatch(line)
    if match is None:
        proc.kill()
        pytest.fail(f"the sandbox did not start: {line!r}")
    return proc, match[1]


def stop_sandbox_process(proc: subprocess.Popen[str]) -> int:
    """SIGTERM, as a user's Ctrl-C or a CI runner would; the exit code."""
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=10)


# The longest modules start first, so that with `pytest -n` (`make unit`) no worker is left running one
# of them alone at the end.
SLOW_FIRST = (
    "reliability/test_fault_matrix.py",
    "shoplazza/test_webhook.py",
    "up42/test_webhook.py",
    "cjdropshipping/test_webhook_settings.py",
    "reliability/test_secrets_audit.py",
    "discover/test_discover.py",
    "shopline/test_webhook.py",
    "test_examples.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.path.as_posix()
        return next((n for n, name in enumerate(SLOW_FIRST) if path.endswith(name)), len(SLOW_FIRST))

    items.sort(key=rank)  # stable: the order within and between the other modules is kept


@pytest.fixture(scope="session")
def sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    log = tmp_path_factory.mktemp("sandbox") / "stderr.txt"
    with log.open("w") as stderr:
        proc, url = start_sandbox_process(stderr=stderr)
        handle = SandboxProcess(url)
        try:
            yield handle
        finally:
            handle.admin.close()
            stop_sandbox_process(proc)


@pytest.fixture
def sandbox(sandbox_process: SandboxProcess) -> SandboxProcess:
    """The session's sandbox, emptied (state, faults, log, settings) for this test."""
    sandbox_process.reset()
    return sandbox_process


@pytest.fixture(autouse=True)
def _fresh_secret_register(monkeypatch: pytest.MonkeyPatch) -> None:
    """The redactor's register of secrets is process-wide; a value one test registered (hypothesis
    tries "orders/create" as a token) must not mask another test's messages."""
    from pulumi_webhooks._core import redact

    monkeypatch.setattr(redact, "_secrets", set(redact._secrets))


@pytest.fixture(autouse=True)
def _close_leftover_processes() -> Iterator[None]:
    """Provider hosts and plugins a test started end with it, whoever started them (a tenant's engine, a
    helper): left running, each holds ~70 MB and its threads until the worker exits. Those of wider
    fixtures started before this one and are left to their own teardown."""
    before = running_processes()
    yield
    for process in running_processes() - before:
        process.close()


EngineFactory = Callable[..., Engine]


@pytest.fixture(scope="session", autouse=True)
def _private_token_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """CJ's disk token cache of this test process (one per xdist worker), never the user's: tests that
    run side by side must not read each other's tokens."""
    saved = os.environ.get(CACHE_DIR_ENV)
    os.environ[CACHE_DIR_ENV] = str(tmp_path_factory.mktemp("token-cache"))
    yield
    if saved is None:
        os.environ.pop(CACHE_DIR_ENV, None)
    else:
        os.environ[CACHE_DIR_ENV] = saved


@pytest.fixture
def make_engine(tmp_path: Path) -> Iterator[EngineFactory]:
    """Start provider hosts (closed at the end of the test) and return engines driving them.

    ``make_engine(env={...}, config={...}, secret_keys=[...])``: ``env`` is the provider host's whole
    platform environment (the test's own PULUMI_WEBHOOKS/SHOPLINE_/... variables are not inherited);
    CJ's token cache is the test's own directory unless ``env`` names one."""
    hosts: list[ProviderHost] = []

    def factory(
        *,
        env: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
        secret_keys: tuple[str, ...] | list[str] = (),
    ) -> Engine:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(_PLATFORM_PREFIXES)}
        host = ProviderHost(
            config=dict(config or {}),
            secret_keys=list(secret_keys),
            env={**clean, CACHE_DIR_ENV: str(tmp_path / "token-cache"), **(env or {})},
            inherit_env=False,
        ).start()
        hosts.append(host)
        return Engine(host)

    try:
        yield factory
    finally:
        for host in hosts:
            host.close()


_PLATFORM_PREFIXES = ("SHOPLINE_", "SHOPLAZZA_", "UP42_", "CJ_", "PULUMI_WEBHOOKS_")
CACHE_DIR_ENV = "PULUMI_WEBHOOKS_CACHE_DIR"  # cjdropshipping/auth.py
