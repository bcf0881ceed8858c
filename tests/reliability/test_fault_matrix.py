"""The fault matrix: every platform, operation and fault, through the real provider host and the sandbox.

For each of the four platforms, each operation (create, read/refresh, update, delete) meets each fault
the sandbox can inject, once, on the operation's main request: 429 with Retry-After, 500, 503, an
answer slower than the client's request timeout, a dropped connection, a write that commits and then
loses its answer, a malformed body, a truncated body, and 401. The operation must succeed after
retries (or, where nothing can fix it, fail with one clear line), and after the next clean `up` the
platform must hold exactly what the program declares (no duplicate, nothing missing) and state must
match the platform.

Every case has a store (shop, workspace, CJ account) of its own, so cases never see each other's
subscriptions. The four platforms run side by side (their faults never match another platform's
requests); within a platform everything is sequential, so each fault meets the request it was meant for.
Fast: requestTimeout 1 s against a 2 s slow answer, Retry-After 1 s.

Run with ``pytest -s`` to see the matrix.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import SandboxProcess
from engine import Engine

from reliability.harness import (
    LABELS,
    SECRETS,
    TENANTS,
    UP42_TOKEN_PREFIX,
    CjTenant,
    ListTenant,
    Tenant,
    Up42Tenant,
    cj_cache_secrets,
    clear_error_problem,
    last_line,
    leaks,
    pending_faults,
    step_outcome,
    wait_for_faults,
)

REQUEST_TIMEOUT = 1.0
SLOW = 2.0  # seconds the slow answer takes: longer than the request timeout
TIMEOUTS = {
    "PULUMI_WEBHOOKS_REQUEST_TIMEOUT": f"{REQUEST_TIMEOUT:g}",
    "PULUMI_WEBHOOKS_OPERATION_TIMEOUT": "60",
}

FAULTS: dict[str, dict[str, Any]] = {
    "429 Retry-After": {"kind": "status", "status": 429, "retry_after": 1},
    "500": {"kind": "status", "status": 500},
    "503": {"kind": "status", "status": 503},
    "slow answer": {"kind": "delay", "delay": SLOW},
    "dropped": {"kind": "drop"},
    "commit, lost": {"kind": "commit_then_drop"},
    "malformed JSON": {"kind": "malformed"},
    "truncated JSON": {"kind": "truncated"},
    "401": {"kind": "status", "status": 401},
}
OPERATIONS = ("create", "read", "update", "delete")
PLATFORMS = ("shopline", "shoplazza", "up42", "cjdropshipping")


def expected_to_fail(platform: str, fault: str) -> bool:
    """A rejected token can be renewed only where the provider holds what renews it (UP42's password,
    CJ's API key); SHOPLINE and Shoplazza tokens are given as they are. Every other fault is transient."""
    return fault == "401" and platform in ("shopline", "shoplazza")


@dataclass
class Cell:
    platform: str
    operation: str
    fault: str
    error: str | None = None  # None: the operation succeeded
    met_fault: bool = False  # the fault was used up by a request of this operation
    problems: list[str] = field(default_factory=list)  # after the following clean `up`

    @property
    def outcome(self) -> str:
        if self.error is None:
            return "ok after retry"
        return f"failed: {last_line(self.error)[:60]}"


@dataclass
class Matrix:
    cells: list[Cell] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # every failed step's error, verbatim
    logs: list[str] = field(default_factory=list)  # every provider host's stdout and stderr
    plaintext: list[str] = field(default_factory=list)  # state outputs and inputs not marked secret
    cache_dir: Path = Path()
    seconds: float = 0.0


class Runner:
    """Runs one platform's cells, sequentially."""

    def __init__(self, sandbox: SandboxProcess, platform: str, matrix: Matrix) -> None:
        self.sandbox, self.platform, self.matrix = sandbox, platform, matrix
        self.applied = 0  # faults injected so far on this platform

    def inject(self, tenant: Tenant, operation: str, fault: str) -> None:
        method, path = tenant.requests[operation]
        self.sandbox.fault(self.platform, method=method, path=path, count=1, **FAULTS[fault])
        self.applied += 1

    def settle(self, tenant: Tenant, *operations: str) -> dict[str, bool]:
        """Wait for every faulted request to be answered; then, for each operation, whether its fault
        was used up (met a request)."""
        wait_for_faults(self.sandbox, self.platform, self.applied)
        pending = {(f["method"], f["path"]) for f in pending_faults(self.sandbox, self.platform)}
        return {op: tenant.requests[op] not in pending for op in operations}

    def cell(self, operation: str, fault: str, result: Any, name: str | None = None) -> Cell:
        cell = Cell(self.platform, operation, fault, step_outcome(result, name))
        self.matrix.cells.append(cell)
        return cell

    def keep(self, engine: Engine, results: list[Any]) -> None:
        """Keep what the secrets audit scans."""
        for result in results:
            self.matrix.errors.extend(s.error for s in result.steps if s.error)
            self.matrix.errors.extend(r for s in result.steps for _, r in s.failures)
        self.matrix.plaintext.append(repr(engine.secret_plaintext_outputs()))
        self.matrix.plaintext.append(
            repr(
                {
                    u: {k: v for k, v in s.inputs.items() if k not in s.secret_outputs}
                    for u, s in engine.state.items()
                }
            )
        )

    def clean_up(self, engine: Engine, tenant: Tenant, spec: dict[str, dict[str, Any]]) -> list[str]:
        result = engine.up(tenant.program(spec))
        self.keep(engine, [result])
        problems = [] if result.ok else [f"the clean up failed: {step_outcome(result)}"]
        return problems + tenant.problems(engine, spec)

    def run(self) -> None:
        if self.platform == "cjdropshipping":
            for fault in FAULTS:
                tenant = TENANTS[self.platform](
                    self.slug(fault), self.sandbox, cache_dir=self.matrix.cache_dir
                )
                assert isinstance(tenant, CjTenant)
                self.run_account(tenant, fault)
            return
        store = TENANTS[self.platform]("matrix", self.sandbox)
        assert isinstance(store, ListTenant)
        engine = store.engine(env=TIMEOUTS)
        try:
            setup = engine.up(store.program(store.stage(0)))
            assert setup.ok, f"{self.platform}: setting up failed: {setup.steps}"
            for k, fault in enumerate(FAULTS, start=1):
                self.run_store(engine, store, k, fault)
        finally:
            engine.host.close()
            self.matrix.logs.append(engine.host.logs())

    @staticmethod
    def slug(fault: str) -> str:
        return "f-" + "".join(c if c.isalnum() else "-" for c in fault.lower()).strip("-")

    def run_store(self, engine: Engine, store: ListTenant, k: int, fault: str) -> None:
        """One fault on a store holding stage ``k-1``: a refresh meets it on its listing; then one `up`
        to stage ``k`` updates ``u``, deletes ``c{k-1}`` and creates ``c{k}``, each meeting it on its
        own request; then a clean `up` (every command a new provider process, as the CLI runs them,
        except the faulted `up`, which reuses the refresh's: it needs no listing of its own)."""
        before, after = store.stage(k - 1), store.stage(k)
        engine.fresh_process_per_run = True
        self.inject(store, "read", fault)
        refreshed = engine.refresh()
        read = self.cell("read", fault, refreshed)
        read.met_fault = self.settle(store, "read")["read"]
        read.problems += store.problems(engine, before)

        for operation in ("create", "update", "delete"):
            self.inject(store, operation, fault)
        engine.fresh_process_per_run = False
        changed = engine.up(store.program(after))
        writes = [
            self.cell("create", fault, changed, f"c{k}"),
            self.cell("update", fault, changed, "u"),
            self.cell("delete", fault, changed, f"c{k - 1}"),
        ]
        met = self.settle(store, "create", "update", "delete")
        engine.fresh_process_per_run = True
        problems = self.clean_up(engine, store, after)
        for cell in (read, *writes):
            cell.problems += problems
        for cell in writes:
            cell.met_fault = met[cell.operation]
        self.keep(engine, [refreshed, changed])

    def run_account(self, tenant: CjTenant, fault: str) -> None:
        """CJ has one settings object per account, and every write is the same call: each operation
        gets its own `up` (one provider process: CJ keeps no listing between commands)."""
        first, second = tenant.specs()
        engine = tenant.engine(fresh_process_per_run=False, env=TIMEOUTS)
        steps: list[tuple[str, Callable[[], Any], dict[str, dict[str, Any]]]] = [
            ("create", lambda: engine.up(tenant.program(first)), first),
            ("read", engine.refresh, first),
            ("update", lambda: engine.up(tenant.program(second)), second),
            ("delete", lambda: engine.up(tenant.program({})), {}),
        ]
        try:
            for operation, run, spec in steps:
                self.inject(tenant, operation, fault)
                result = run()
                self.keep(engine, [result])
                cell = self.cell(operation, fault, result, "cj")
                cell.met_fault = self.settle(tenant, operation)[operation]
                cell.problems += self.clean_up(engine, tenant, spec)
        finally:
            engine.host.close()
            self.matrix.logs.append(engine.host.logs())


@pytest.fixture(scope="module")
def matrix(sandbox_process: SandboxProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    sandbox = sandbox_process
    sandbox.reset()
    Up42Tenant.prepare(sandbox)
    CjTenant.prepare(sandbox)
    result = Matrix(cache_dir=tmp_path_factory.mktemp("cj-cache"))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(PLATFORMS)) as pool:
        runs = [pool.submit(Runner(sandbox, p, result).run) for p in PLATFORMS]
        for run in runs:
            run.result()
    result.seconds = time.monotonic() - started
    yield result
    sandbox.reset()


def render(matrix: Matrix) -> str:
    order = {(p, o, f): i for i, (p, o, f) in enumerate(itertools.product(PLATFORMS, OPERATIONS, FAULTS))}
    cells = sorted(matrix.cells, key=lambda c: order[(c.platform, c.operation, c.fault)])
    failed = sum(c.error is not None for c in cells)
    lines = [
        f"fault matrix: {len(PLATFORMS)} platforms x {len(OPERATIONS)} operations x {len(FAULTS)} faults = "
        f"{len(cells)} cells in {matrix.seconds:.0f} s; {len(cells) - failed} ok after retry, {failed} failed "
        "with a clear error; every cell checked after the following clean `up`",
        f"{'platform':<15} {'operation':<9} {'fault':<16} outcome",
    ]
    for c in cells:
        converged = "" if not c.problems else f"  NOT CONVERGED: {'; '.join(c.problems)}"
        missed = "" if c.met_fault else "  (fault not met)"
        lines.append(f"{c.platform:<15} {c.operation:<9} {c.fault:<16} {c.outcome}{missed}{converged}")
    return "\n".join(lines)


def test_every_cell_recovers_or_fails_clearly_and_converges(matrix: Matrix) -> None:
    print("\n" + render(matrix))
    assert len(matrix.cells) == len(PLATFORMS) * len(OPERATIONS) * len(FAULTS)
    wrong: list[str] = []
    for c in matrix.cells:
        where = f"{c.platform} {c.operation} {c.fault}"
        if not c.met_fault:
            wrong.append(f"{where}: the fault never met a request")
        if c.problems:
            wrong.append(f"{where}: not converged: {c.problems}")
        if expected_to_fail(c.platform, c.fault) != (c.error is not None):
            wrong.append(
                f"{where}: expected {'a failure' if expected_to_fail(c.platform, c.fault) else 'success'}, got {c.outcome}"
            )
        if c.error is not None and (problem := clear_error_problem(c.error, LABELS[c.platform])):
            wrong.append(f"{where}: {problem}")
    assert not wrong, "\n".join(wrong)


def test_no_secret_in_any_cell_state_error_or_log(matrix: Matrix) -> None:
    assert any("LOG DEBUG" in log for log in matrix.logs), "host logging is off: the audit would see nothing"
    secrets = [*SECRETS, UP42_TOKEN_PREFIX, *cj_cache_secrets(matrix.cache_dir)]
    found = leaks(secrets, errors=matrix.errors, logs=matrix.logs, state=matrix.plaintext)
    assert not found, found
