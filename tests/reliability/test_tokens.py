"""Token handling under concurrency (UP42 and CJ, the platforms whose tokens the provider fetches).

Four threads that need a token at once make one token request; a token the platform rejects mid-run
is renewed once (one request, however many threads were refused) and the refused requests are sent
again; a renewed token that is refused too is an error, not a loop. First through the clients
themselves, four threads lined up on a barrier; then through the provider host, whose four RPC
threads do the same.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from conftest import SandboxProcess

from pulumi_webhooks import errors
from pulumi_webhooks._core.deadline import deadline_scope
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks._core.tokens import credential_key
from pulumi_webhooks.cjdropshipping.api import CjApi
from pulumi_webhooks.up42.api import Up42Api
from pulumi_webhooks.up42.auth import Credentials, Up42Auth
from reliability.harness import (
    UP42_PASSWORD,
    UP42_TOKEN_PATH,
    CjAccount,
    CjTenant,
    Spec,
    Up42Tenant,
    clear_error_problem,
    last_line,
    step_outcome,
)

THREADS = 4
T = TypeVar("T")


def at_once(call: Callable[[], T], threads: int = THREADS) -> list[T]:
    """Run ``call`` on ``threads`` threads released together by a barrier."""
    barrier = threading.Barrier(threads)

    def run() -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda _: run(), range(threads)))


def up42_token_requests(sandbox: SandboxProcess) -> int:
    return sum(1 for r in sandbox.requests("up42") if r["path"] == UP42_TOKEN_PATH)


def cj_stats(sandbox: SandboxProcess) -> dict[str, int]:
    stats: dict[str, int] = sandbox.admin.get("/cjdropshipping/_sandbox/stats").json()
    return stats


@pytest.fixture
def up42_api(sandbox: SandboxProcess) -> Callable[[], Up42Api]:
    """A factory of UP42 clients as one provider operation makes them, for a user of this test alone
    (the process-wide token cache is keyed by the credentials)."""
    creds = Credentials(username=f"{uuid.uuid4().hex[:8]}@example.com", password=UP42_PASSWORD)
    token_url = f"{sandbox.url}{UP42_TOKEN_PATH}"
    return lambda: Up42Api(f"{sandbox.url}/up42/api", Up42Auth(creds, token_url))


@pytest.fixture
def cj_api(
    sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], CjApi]]:
    monkeypatch.setenv("PULUMI_WEBHOOKS_CACHE_DIR", str(tmp_path))
    yield CjAccount(sandbox, RatePolicy(per_second=90, burst=10)).client


WORKSPACE = str(uuid.uuid5(uuid.NAMESPACE_URL, "reliability/tokens"))


def test_up42_four_threads_needing_a_token_make_one_request(
    sandbox: SandboxProcess, up42_api: Callable[[], Up42Api]
) -> None:
    listings = at_once(lambda: up42_api().list_webhooks(WORKSPACE))
    assert listings == [[]] * THREADS
    assert up42_token_requests(sandbox) == 1


def test_up42_token_rejected_mid_run_is_renewed_once_for_all_threads(
    sandbox: SandboxProcess, up42_api: Callable[[], Up42Api]
) -> None:
    assert up42_api().list_webhooks(WORKSPACE) == []
    sandbox.admin.post("/up42/_admin/revoke-tokens").raise_for_status()  # dies while still "fresh"
    sandbox.clear_log()
    assert at_once(lambda: up42_api().list_webhooks(WORKSPACE)) == [[]] * THREADS
    log = [(r["path"].rsplit("/", 1)[-1], r["status"]) for r in sandbox.requests("up42")]
    assert log.count(("token", 200)) == 1, log  # one renewal for all four
    assert log.count(("webhooks", 401)) >= 1 and log.count(("webhooks", 200)) == THREADS, log


def test_up42_renewed_token_refused_again_is_an_error_not_a_loop(
    sandbox: SandboxProcess, up42_api: Callable[[], Up42Api]
) -> None:
    sandbox.fault("up42", "status", method="GET", path=r"/webhooks$", status=401, count=5)
    with pytest.raises(errors.AuthenticationError) as failure:
        up42_api().list_webhooks(WORKSPACE)
    assert "HTTP 401" in str(failure.value) and "up42:username" in str(failure.value)
    log = [(r["path"].rsplit("/", 1)[-1], r["status"]) for r in sandbox.requests("up42")]
    assert log == [("token", 200), ("webhooks", 401), ("token", 200), ("webhooks", 401)]


def test_cj_four_threads_needing_a_token_make_one_request(
    sandbox: SandboxProcess, cj_api: Callable[[], CjApi]
) -> None:
    answers = at_once(lambda: cj_api().get_settings().open_id)
    assert len(set(answers)) == 1 and answers[0]
    assert cj_stats(sandbox)["get_access_token"] == 1


def test_cj_token_rejected_mid_run_is_renewed_once_for_all_threads(
    sandbox: SandboxProcess, cj_api: Callable[[], CjApi]
) -> None:
    cj_api().get_settings()
    sandbox.admin.post("/cjdropshipping/_sandbox/expire-tokens").raise_for_status()
    answers = at_once(lambda: cj_api().get_settings().open_id)
    assert len(set(answers)) == 1
    stats = cj_stats(sandbox)
    assert stats["get_access_token"] == 1 and stats["refresh_access_token"] == 1, stats
    assert stats["rejected_tokens"] >= 1 and stats["setting_get"] == 1 + THREADS + stats["rejected_tokens"]


def test_cj_renewed_token_refused_again_is_an_error_not_a_loop(
    sandbox: SandboxProcess, cj_api: Callable[[], CjApi]
) -> None:
    refused = {"code": 1600001, "result": False, "message": "Invalid API key or access token", "data": None}
    sandbox.fault("cjdropshipping", "status", path="setting/get", status=200, body=refused, count=5)
    with pytest.raises(errors.AuthenticationError) as failure:
        cj_api().get_settings()
    assert "code 1600001" in str(failure.value) and "cjdropshipping:apiKey" in str(failure.value)
    stats = cj_stats(sandbox)
    assert stats["get_access_token"] == 1 and stats["refresh_access_token"] == 1, stats
    assert stats.get("setting_get", 0) == 0  # both refused answers were the faults


# -- through the provider host ---------------------------------------------------------------------
def workspaces(sandbox: SandboxProcess, count: int) -> list[Up42Tenant]:
    # One webhook per workspace: each resource lists its own workspace, so the four RPC threads need
    # the token at the same moment (one workspace would queue them behind its one listing).
    return [Up42Tenant(f"token-{i}", sandbox) for i in range(count)]


def program(tenants: list[Up42Tenant], name: str) -> tuple[Callable[[], None], list[Spec]]:
    specs = [
        {f"w{i}": {"url": t.url("hook"), "events": ["job.status"], "name": name}}
        for i, t in enumerate(tenants)
    ]
    runs = [t.program(s) for t, s in zip(tenants, specs, strict=True)]

    def run() -> None:
        for declare in runs:
            declare()

    return run, specs


def test_provider_host_four_rpcs_one_token_and_one_renewal(sandbox: SandboxProcess) -> None:
    Up42Tenant.prepare(sandbox)
    tenants = workspaces(sandbox, THREADS)
    engine = tenants[0].engine(fresh_process_per_run=False)  # the second `up` reuses the token
    try:
        first, specs = program(tenants, "first")
        created = engine.up(first, parallel=THREADS)
        assert created.ok, created.steps
        assert up42_token_requests(sandbox) == 1

        sandbox.admin.post("/up42/_admin/revoke-tokens").raise_for_status()
        sandbox.clear_log()
        second, specs = program(tenants, "second")
        updated = engine.up(second, parallel=THREADS)
        assert updated.ok, [step_outcome(updated)]
        assert up42_token_requests(sandbox) == 1
        statuses = [r["status"] for r in sandbox.requests("up42") if r["method"] == "PUT"]
        assert statuses.count(200) == THREADS and 401 in statuses, statuses
        for tenant, spec in zip(tenants, specs, strict=True):
            assert tenant.problems(engine, spec) == []
    finally:
        engine.host.close()


def test_provider_host_wrong_password_is_one_clear_error_per_resource(sandbox: SandboxProcess) -> None:
    Up42Tenant.prepare(sandbox)
    tenants = workspaces(sandbox, 2)
    engine = tenants[0].engine(config={"up42:password": "not-the-password"})
    try:
        run, _ = program(tenants, "x")
        result = engine.up(run, parallel=THREADS)
        errors_seen: list[Any] = [step_outcome(result, f"w{i}") for i in range(2)]
        for error in errors_seen:
            assert error is not None and clear_error_problem(error, "UP42") is None, error
            assert "invalid_grant" in error and "not-the-password" not in error
    finally:
        engine.host.close()


# -- no retries inside retries (issue 12.6) and CJ's token rules (issue 13.5) ------------------------
# CJ's two pages (reference/platforms.md §1.2): the older limits page allows getAccessToken "once every
# 5 minutes" (1600200 otherwise, the sandbox's default `token_interval`); the current auth page says
# QPS 1 and that repeat calls within 24 hours return the same tokens (`token_cache_window`).
CJ_TOKEN_PATH = r"/authentication/getAccessToken$"


def lose_one_answer(sandbox: SandboxProcess, platform: str, path: str) -> None:
    """The next token request is processed, and its answer never arrives."""
    sandbox.fault(platform, "commit_then_drop", method="POST", path=path, count=1)


def outcome(call: Callable[[], T]) -> T | errors.ApiError:
    try:
        return call()
    except errors.ApiError as exc:
        return exc


def test_cj_a_lost_token_answer_under_the_5_minute_rule_costs_one_request_more(
    sandbox: SandboxProcess, cj_api: Callable[[], CjApi]
) -> None:
    lose_one_answer(sandbox, "cjdropshipping", CJ_TOKEN_PATH)
    results = at_once(lambda: outcome(lambda: cj_api().get_settings()))
    assert all(isinstance(r, errors.RateLimitedError) for r in results), results
    messages = [str(r) for r in results]
    # One thread asked twice (the lost answer, then 1600200); the three waiting for its token were told
    # without a request.
    assert cj_stats(sandbox)["get_access_token"] == 2, cj_stats(sandbox)
    assert sum("not requested" in m for m in messages) == THREADS - 1, messages
    assert all("code 1600200" in m and "5 minutes" in m and "\n" not in m for m in messages), messages
    assert cj_stats(sandbox).get("setting_get", 0) == 0
    # The same process later: still no request until the 5 minutes are over.
    assert isinstance(outcome(lambda: cj_api().get_settings()), errors.RateLimitedError)
    assert cj_stats(sandbox)["get_access_token"] == 2


def test_cj_a_lost_token_answer_under_the_24_hour_rule_gets_the_same_token_again(
    sandbox: SandboxProcess, cj_api: Callable[[], CjApi]
) -> None:
    sandbox.admin.post("/cjdropshipping/_sandbox/settings", json={"token_interval": 1}).raise_for_status()
    lose_one_answer(sandbox, "cjdropshipping", CJ_TOKEN_PATH)
    answers = at_once(lambda: cj_api().get_settings().open_id)
    assert len(set(answers)) == 1 and answers[0]
    stats = cj_stats(sandbox)
    # The repeat came 2 s later (paced under QPS 1, so not refused) and got the token the lost answer held.
    assert stats["get_access_token"] == 2 and stats["same_tokens_again"] == 1, stats
    assert "token_rate_limited" not in stats, stats


def test_cj_a_rejected_token_is_refreshed_not_granted_anew(
    sandbox: SandboxProcess, cj_api: Callable[[], CjApi]
) -> None:
    # With the refresh token at hand, a token CJ refuses is replaced through refreshAccessToken: a new
    # grant would be refused for 5 minutes (or return the same token).
    cj_api().get_settings()
    sandbox.admin.post("/cjdropshipping/_sandbox/expire-tokens").raise_for_status()
    cj_api().get_settings()
    stats = cj_stats(sandbox)
    assert (stats["get_access_token"], stats["refresh_access_token"]) == (1, 1), stats
    assert "token_rate_limited" not in stats


def test_provider_host_cj_refusal_is_remembered_by_the_next_run(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    CjTenant.prepare(sandbox)
    account = CjTenant("token-throttle", sandbox, cache_dir=tmp_path)
    lose_one_answer(sandbox, "cjdropshipping", CJ_TOKEN_PATH)
    engine = account.engine()
    try:
        first, _ = account.specs()
        errors_seen = []
        for _ in range(2):  # two runs: two provider processes, one token cache directory
            error = step_outcome(engine.up(account.program(first)), "cj")
            assert error is not None and clear_error_problem(error, "CJdropshipping") is None, error
            errors_seen.append(last_line(error))
        assert "code 1600200" in errors_seen[0] and "5 minutes" in errors_seen[0], errors_seen
        assert "not requested" in errors_seen[1] and "try again in" in errors_seen[1], errors_seen
        assert cj_stats(sandbox)["get_access_token"] == 2  # the lost one and its one repeat, in both runs
        assert account.api_key not in json.dumps(errors_seen)
    finally:
        engine.host.close()


# -- CJ's token cache lock held by another process --------------------------------------------------
# The lock is held while a process reads or fetches the key's token; waiting for it was bounded by 30 s
# alone, so an operation outlived its deadline by up to 30 s and then blamed the platform.
@contextlib.contextmanager
def lock_held_elsewhere(lock: Path, *, for_seconds: float = 60.0) -> Iterator[subprocess.Popen[bytes]]:
    """Another process (another `pulumi` command, say) holding the token cache lock ``lock``."""
    script = (
        "import fcntl, os, sys, time\n"
        "os.makedirs(os.path.dirname(sys.argv[1]), mode=0o700, exist_ok=True)\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(lock), str(for_seconds)], stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def cj_lock_path(cache_dir: Path, base_url: str, api_key: str) -> Path:
    return cache_dir / "cjdropshipping" / f"{credential_key(base_url, api_key)}.lock"


@pytest.mark.skipif(sys.platform == "win32", reason="the cross-process lock is POSIX only")
def test_cj_token_cache_lock_held_elsewhere_is_waited_for_until_the_deadline_only(
    sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_WEBHOOKS_CACHE_DIR", str(tmp_path))
    account = CjAccount(
        sandbox, RatePolicy(per_second=90, burst=1)
    )  # one slot, held while the token is fetched
    client = account.client

    lock = cj_lock_path(tmp_path, account.base_url, account.api_key)
    with lock_held_elsewhere(lock):
        started = time.monotonic()
        with deadline_scope(2), pytest.raises(errors.OperationTimeoutError) as failure:
            client().get_settings()
        waited = time.monotonic() - started
    assert 1.9 <= waited < 3.0, waited  # was 30 s, whatever the deadline
    message = str(failure.value)
    assert message.startswith("CJdropshipping access token: the operation deadline passed"), message
    assert f"lock of the token cache file {lock}" in message and "another process" in message, message
    assert "pulumi-webhooks:operationTimeout" in message and "the platform kept failing" not in message
    assert account.api_key not in message
    stats = cj_stats(sandbox)
    assert stats.get("get_access_token", 0) == 0 and stats.get("setting_get", 0) == 0, stats

    # A lock the other process lets go of in time is taken, and the call goes through.
    with lock_held_elsewhere(lock, for_seconds=0.5), deadline_scope(5):
        assert client().get_settings().open_id
    assert cj_stats(sandbox)["get_access_token"] == 1


@pytest.mark.skipif(sys.platform == "win32", reason="the cross-process lock is POSIX only")
def test_provider_host_cj_lock_held_elsewhere_ends_the_operation_at_its_deadline(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    CjTenant.prepare(sandbox)
    account = CjTenant("token-lock", sandbox, cache_dir=tmp_path)
    base_url = account.env()["CJ_BASE_URL"]
    engine = account.engine(env={"PULUMI_WEBHOOKS_OPERATION_TIMEOUT": "3"})
    try:
        first, _ = account.specs()
        with lock_held_elsewhere(cj_lock_path(tmp_path, base_url, account.api_key)):
            started = time.monotonic()
            result = engine.up(account.program(first))
            seconds = time.monotonic() - started
        error = step_outcome(result, "cj")
        assert error is not None and clear_error_problem(error, "CJdropshipping") is None, error
        line = last_line(error)
        assert "waiting for the lock of the token cache file" in line and "another process" in line, line
        assert "the platform kept failing" not in line, line
        assert seconds < 3 + 5, seconds  # the deadline and the engine's own work, not 30 s more
        assert cj_stats(sandbox).get("get_access_token", 0) == 0
        assert account.enabled() == {}
    finally:
        engine.host.close()


def test_up42_a_lost_token_answer_costs_one_request_more(
    sandbox: SandboxProcess, up42_api: Callable[[], Up42Api]
) -> None:
    lose_one_answer(sandbox, "up42", r"openid-connect/token$")
    assert at_once(lambda: up42_api().list_webhooks(WORKSPACE)) == [[]] * THREADS
    assert up42_token_requests(sandbox) == 2


def test_up42_a_failing_token_endpoint_gets_at_most_3_requests_per_run(
    sandbox: SandboxProcess, up42_api: Callable[[], Up42Api]
) -> None:
    sandbox.fault("up42", "status", method="POST", path=r"openid-connect/token$", status=503, count=100)
    results = at_once(lambda: outcome(lambda: up42_api().list_webhooks(WORKSPACE)))
    results.append(outcome(lambda: up42_api().list_webhooks(WORKSPACE)))  # a later resource of the run
    assert all(isinstance(r, errors.ServerError) for r in results), results
    assert all("HTTP 503" in str(r) and "UP42 token request" in str(r) for r in results), results
    # Before: one token request per try of each API request (8 each), one layer inside the other.
    assert up42_token_requests(sandbox) == 3
    assert not [r for r in sandbox.requests("up42") if r["path"].endswith("/webhooks")]
