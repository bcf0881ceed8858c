"""`shopline:qps`: the store's rate the provider paces under (4/s standard, `unlimited` on Enterprise)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import EngineFactory, SandboxProcess

import pulumi_webhooks.shopline as shopline
from pulumi_webhooks.shopline.provider import ShoplineWebhookProvider

VERSION = "v20260301"
COUNT = 40  # with the look-up listing, 41 requests: more than the paced burst of 38


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
    # At 0.01 requests/s the 39th request would wait minutes, past the 30 s deadline: it fails at once
    # (no request sent) instead of sleeping, so the count shows where pacing stopped, whatever the timing.
    sandbox.settings(rate_limits=False)
    result = make_engine(env=env(sandbox, "0.01")).up(many(COUNT))
    failed = [s for s in result.steps if not s.ok]
    assert len(sandbox.requests("shopline")) == 38  # the burst: one listing and 37 creates
    assert len(failed) == COUNT - 37
    assert all("rate limit" in (s.error or "") for s in failed), failed[0].error


@pytest.mark.parametrize(
    ("qps", "paced"), [("unlimited", None), ("UNLIMITED", None), ("4", 3.9), ("10", 9.75)]
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
