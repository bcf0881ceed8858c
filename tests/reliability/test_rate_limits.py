"""Rate limits under concurrency: the sandbox enforces each platform's documented limit, and the
provider, run as the provider host runs it (4 RPCs at once), stays under it.

SHOPLINE: 4 requests/s per store, leaky bucket of 40 (the client paces with that bucket exactly, so a
run past the 40 meets the limit's edge); Shoplazza: 2/s per shop (bucket 60); CJ: the
account's QPS (1/s at the lowest level), answered as code 1600200 inside HTTP 200; UP42 publishes no
number, so the sandbox's is configurable. The sandbox's own tests check each bucket; here the provider
meets them.
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import SandboxProcess
from engine import Engine

from pulumi_webhooks import errors
from pulumi_webhooks._core.deadline import deadline_scope
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks.shoplazza.topics import TOPICS as SHOPLAZZA_TOPICS
from reliability.harness import (
    CjAccount,
    ShoplazzaTenant,
    ShoplineTenant,
    Spec,
    Up42Tenant,
    start_host,
)

# Enough to go past SHOPLINE's bucket (51 requests with the look-up listing: 11 paced at 4/s after the
# 40) and Shoplazza's client-side burst of 10 on each shop; more would only add seconds of pacing (the
# documented N = 160 run is a benchmark row, `make bench`).
SHOPLINE_COUNT = 50
SHOPLAZZA_SHOPS = ("rate-a", "rate-b")
SHOPLAZZA_PER_SHOP = 14


def test_50_shopline_and_28_shoplazza_subscriptions_with_4_rpcs_at_once(sandbox: SandboxProcess) -> None:
    store = ShoplineTenant("rate", sandbox)
    shops = [ShoplazzaTenant(slug, sandbox) for slug in SHOPLAZZA_SHOPS]
    store_spec: Spec = {
        f"sl-{i:03}": {"topic": "orders/create", "address": store.url(f"h{i:03}")}
        for i in range(SHOPLINE_COUNT)
    }
    topics = sorted(SHOPLAZZA_TOPICS)[:SHOPLAZZA_PER_SHOP]
    shop_specs: list[Spec] = [
        {f"{shop.shop}-{i:02}": {"topic": t, "address": shop.url(t)} for i, t in enumerate(topics)}
        for shop in shops
    ]
    # One declaration at a time, the three stores interleaved, as a program declaring resources of
    # several platforms side by side (the SDK registers a handful at once, in program order).
    queues = [
        [tenant.program({name: inputs}) for name, inputs in spec.items()]
        for tenant, spec in ((store, store_spec), *zip(shops, shop_specs, strict=True))
    ]
    declarations = [run for batch in itertools.zip_longest(*queues) for run in batch if run is not None]

    def program() -> None:
        for declare in declarations:
            declare()

    host = start_host(
        {**store.env(), **shops[0].env()},
        {**store.config(), **shops[0].config()},
        (*store.secret_keys(), *shops[0].secret_keys()),
    )
    engine = Engine(host)
    try:
        started = time.monotonic()
        result = engine.up(program, parallel=4)
        seconds = time.monotonic() - started
        assert result.ok, [s for s in result.steps if not s.ok][:3]
        assert len(result.steps) == SHOPLINE_COUNT + len(shops) * SHOPLAZZA_PER_SHOP

        stats = sandbox.stats()["platforms"]
        summary = []
        for platform in ("shopline", "shoplazza"):
            requests, throttled = stats[platform]["requests"], stats[platform]["rate_limited"]
            summary.append(f"{platform}: {requests} requests, {throttled} answered 429")
            assert throttled == 0, summary[-1]
        assert stats["shopline"]["requests"] == SHOPLINE_COUNT + 1  # past the bucket of 40: paced
        total = SHOPLINE_COUNT + len(shops) * SHOPLAZZA_PER_SHOP
        print(f"\n{total} subscriptions, 4 RPCs at once: {seconds:.0f} s; " + "; ".join(summary))

        assert store.problems(engine, store_spec) == []
        for shop, spec in zip(shops, shop_specs, strict=True):
            assert shop.problems(engine, spec) == []
    finally:
        host.close()


def test_up42_limit_is_configurable_in_the_sandbox(sandbox: SandboxProcess) -> None:
    limits = "/up42/_admin/settings"
    assert sandbox.admin.get(limits).json()["rate_limit"] == {"per_second": 10.0, "burst": 40.0}
    sandbox.admin.post(limits, json={"rate_limit": {"per_second": 1, "burst": 3}}).raise_for_status()
    token = httpx.post(
        f"{sandbox.url}/up42/auth/realms/public/protocol/openid-connect/token",
        data={"grant_type": "password", "client_id": "up42-api", "username": "u", "password": "p"},
    ).json()["access_token"]
    workspace = Up42Tenant("limit", sandbox).workspace
    with httpx.Client(
        base_url=f"{sandbox.url}/up42/api/workspaces/{workspace}/",
        headers={"Authorization": f"Bearer {token}"},
    ) as api:
        statuses = [api.get("webhooks").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert sandbox.admin.post(limits, json={"rate_limit": {"per_second": 0, "burst": 1}}).status_code == 400
    sandbox.reset()
    assert sandbox.admin.get(limits).json()["rate_limit"] == {"per_second": 10.0, "burst": 40.0}


def test_up42_below_the_clients_pace_converges_on_retry_after(sandbox: SandboxProcess) -> None:
    # The provider paces UP42 at 10/s; a platform that allows less answers 429 with Retry-After, which
    # the client honours until every webhook is in.
    Up42Tenant.prepare(sandbox)
    sandbox.admin.post(
        "/up42/_admin/settings", json={"rate_limit": {"per_second": 5, "burst": 5}}
    ).raise_for_status()
    workspace = Up42Tenant("slow-workspace", sandbox)
    spec: Spec = {f"w{i:02}": {"url": workspace.url(f"w{i:02}"), "events": ["job.status"]} for i in range(12)}
    engine = workspace.engine()
    try:
        result = engine.up(workspace.program(spec), parallel=4)
        assert result.ok, [s for s in result.steps if not s.ok][:3]
        throttled = sandbox.stats()["platforms"]["up42"]["rate_limited"]
        assert throttled > 0, "the lower limit should have been met"
        assert workspace.problems(engine, spec) == []
    finally:
        engine.host.close()


def test_a_request_behind_a_slow_one_on_cjs_single_slot_ends_at_its_deadline(
    sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CJ's account bucket has one slot, held from send until answer. A request queued behind a slow one
    # waited for that answer with no timeout, and failed only once it got the slot, past its deadline.
    monkeypatch.setenv("PULUMI_WEBHOOKS_CACHE_DIR", str(tmp_path))
    client = CjAccount(sandbox, RatePolicy(per_second=50, burst=1)).client

    def slow() -> None:
        with deadline_scope(30):
            client().get_settings()

    client().get_settings()  # the token, cached for both
    sandbox.fault("cjdropshipping", "delay", path="setting/get", delay=4)
    in_flight = threading.Thread(target=slow)
    in_flight.start()
    try:
        time.sleep(0.5)  # the slow one has the slot and is waiting for its answer
        started = time.monotonic()
        with deadline_scope(1.0), pytest.raises(errors.OperationTimeoutError) as failure:
            client().get_settings()
        waited = time.monotonic() - started
    finally:
        in_flight.join(10)
    assert 0.9 <= waited < 2.0, waited  # was the slow answer's 4 s and more
    message = str(failure.value)
    assert message.startswith("CJdropshipping read settings: the operation deadline passed while waiting"), (
        message
    )
    assert "rate limit" in message and "pulumi-webhooks:operationTimeout" in message, message
    assert sum(1 for r in sandbox.requests("cjdropshipping") if r["path"].endswith("/setting/get")) == 2
