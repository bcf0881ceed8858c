"""`shopline:qps`: the store's rate the provider paces under (4/s standard, `unlimited` on Enterprise)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import EngineFactory, SandboxProcess

import pulumi_webhooks.shopline as shopline
from pulumi_webhooks._core.pacing import TokenBucket
from pulumi_webhooks.shopline.api import BUCKET, DOCUMENTED_QPS, rate_policy
from pulumi_webhooks.shopline.provider import ShoplineWebhookProvider

VERSION = "v20260301"
COUNT = 41  # with the look-up listing, 42 requests: more than the bucket of 40


def many(count: int) -> Callable[[], None]:
    def program() -> None:
        for i in range(count):
            shopline.Webhook(
                f"hook-{i}",
                handle="busy",
                topic="orders/create",
                address=f"https://hooks.example.com/{i}",
                api_version=VERSION,
            )

    return program


def env(sandbox: SandboxProcess, qps: str, timeout: str = "30") -> dict[str, str]:
    return {
        "SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}"),
        "SHOPLINE_ACCESS_TOKEN": "shpat-rate",
        "SHOPLINE_QPS": qps,
        "PULUMI_WEBHOOKS_OPERATION_TIMEOUT": timeout,
    }


def test_the_burst_then_the_store_rate_bounds_requests(
    sandbox: SandboxProcess, make_engine: EngineFactory
) -> None:
    # At 0.01 requests/s the 41st request would wait minutes, past the 30 s deadline: it fails at once
    # (no request sent) instead of sleeping, so the count shows where pacing stopped, whatever the timing.
    sandbox.settings(rate_limits=False)
    result = make_engine(env=env(sandbox, "0.01")).up(many(COUNT))
    failed = [s for s in result.steps if not s.ok]
    assert len(sandbox.requests("shopline")) == BUCKET  # the whole bucket: one listing and 39 creates
    assert len(failed) == COUNT - (BUCKET - 1)
    assert all("rate limit" in (s.error or "") for s in failed), failed[0].error


@pytest.mark.parametrize(
    ("qps", "paced"), [("unlimited", None), ("UNLIMITED", None), ("4", 4.0), ("10", 10.0)]
)
def test_unlimited_does_not_pace(monkeypatch: pytest.MonkeyPatch, qps: str, paced: float | None) -> None:
    # No bucket at all for an Enterprise store, so no wait can come from pacing (429s are still retried).
    monkeypatch.setenv("SHOPLINE_BASE_URL", "http://127.0.0.1:9/shopline/{handle}")
    monkeypatch.setenv("SHOPLINE_ACCESS_TOKEN", "shpat-rate")
    monkeypatch.setenv("SHOPLINE_QPS", qps)
    api = ShoplineWebhookProvider().connect({"handle": "busy"})
    bucket = api._bucket
    assert (bucket.policy.per_second if bucket else None) == pytest.approx(paced)


def test_a_bad_rate_fails_at_preview_naming_the_setting(
    sandbox: SandboxProcess, make_engine: EngineFactory
) -> None:
    for bad in ("fast", "0", "-4", "nan", "inf"):
        result = make_engine(env=env(sandbox, bad)).preview(many(1))
        [step] = result.steps
        assert [
            (prop, "shopline:qps" in reason and "SHOPLINE_QPS" in reason) for prop, reason in step.failures
        ] == [("", True)], (bad, step.failures)
    assert sandbox.requests("shopline") == []


def test_the_whole_bucket_is_used_and_late_arrivals_never_overflow_it(sandbox: SandboxProcess) -> None:
    # The client paces with the documented bucket exactly (40, then 4/s). The platform charges a request
    # when it arrives, which can be well after we sent it: here the first 40 arrive 0.6 s late (the
    # sandbox holds them before its own bucket sees them) while the next ones go straight in. A bucket
    # that drained our requests from when they were sent would let the 41st and 42nd through during
    # those 0.6 s and overflow the platform's bucket when the 40 land; ours counts a request until its
    # answer is back, so none is answered 429.
    policy = rate_policy()
    assert policy is not None and (policy.burst, policy.per_second) == (BUCKET, DOCUMENTED_QPS)
    pace = TokenBucket(policy)
    listing = r"/admin/openapi/v\d+/webhooks\.json$"
    sandbox.fault("shopline", "delay", method="GET", path=listing, delay=0.6, count=BUCKET)
    url = sandbox.base_url("shopline", f"/late/admin/openapi/{VERSION}/webhooks.json")
    start = threading.Barrier(BUCKET + 4)

    def list_once(client: httpx.Client) -> int:
        start.wait()
        pace.acquire()
        try:
            return client.get(url, headers={"Authorization": "Bearer shpat-late"}).status_code
        finally:
            pace.release()

    with (
        httpx.Client(timeout=30, limits=httpx.Limits(max_connections=BUCKET + 4)) as client,
        ThreadPoolExecutor(max_workers=BUCKET + 4) as pool,
    ):
        statuses = list(pool.map(lambda _: list_once(client), range(BUCKET + 4)))
    stats = sandbox.stats()["platforms"]["shopline"]
    assert stats["faults"] == BUCKET  # the 40 late ones did meet the delay
    throttled = [(r["time"], r["fault"]) for r in sandbox.requests("shopline") if r["status"] == 429]
    assert statuses == [200] * (BUCKET + 4), f"answered 429 at {throttled}"
    assert stats["rate_limited"] == 0
