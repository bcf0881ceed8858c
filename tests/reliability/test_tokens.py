"""Token handling under concurrency (UP42 and CJ, the platforms whose tokens the provider fetches).

Four threads that need a token at once make one token request; a token the platform rejects mid-run
is renewed once (one request, however many threads were refused) and the refused requests are sent
again; a renewed token that is refused too is an error, not a loop. First through the clients
themselves, four threads lined up on a barrier; then through the provider host, whose four RPC
threads do the same.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from conftest import SandboxProcess

from pulumi_webhooks import errors
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks._core.tokens import credential_key
from pulumi_webhooks.cjdropshipping.api import CjApi
from pulumi_webhooks.cjdropshipping.auth import ApiKeyAuth
from pulumi_webhooks.up42.api import Up42Api
from pulumi_webhooks.up42.auth import Credentials, Up42Auth
from reliability.harness import (
    UP42_PASSWORD,
    UP42_TOKEN_PATH,
    Spec,
    Up42Tenant,
    clear_error_problem,
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
    sandbox.admin.post("/cjdropshipping/_sandbox/settings", json={"account_qps": 100}).raise_for_status()
    base_url = sandbox.base_url("cjdropshipping", "/api2.0/v1")
    api_key = f"CJ{uuid.uuid4().int % 10**7}@api@{uuid.uuid4().hex}"
    rate = RatePolicy(per_second=90, burst=10)
    pace_key = f"cjdropshipping {credential_key(base_url, api_key)}"
    yield lambda: CjApi(base_url, auth=ApiKeyAuth(base_url, api_key), pace_key=pace_key, rate=rate)


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
