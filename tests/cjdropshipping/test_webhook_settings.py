"""cjdropshipping.WebhookSettings end to end: a real provider host driven over gRPC against the sandbox."""

from __future__ import annotations

import base64
import itertools
import json
import os
import runpy
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pulumi
import pytest
from conftest import EngineFactory, SandboxProcess
from engine import Engine, Result, collect
from reliability.hostile_server import Connection, HostileServer, each_request, head

import pulumi_webhooks.cjdropshipping as cj
from pulumi_webhooks import errors
from pulumi_webhooks._core.deadline import deadline_scope
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks._core.tokens import Token, credential_key
from pulumi_webhooks.cjdropshipping.api import CjApi, parse_callback
from pulumi_webhooks.cjdropshipping.auth import AccessTokenAuth, ApiKeyAuth, TokenFile

API_KEY = "CJ88001@api@5e1f0c3a9b7d42c6a8e0f1d2c3b4a596"  # recognisable, for the secrecy checks
OTHER_KEY = "CJ88001@api@77aa0c3a9b7d42c6a8e0f1d2c3b4a5ff"  # same CJ user: "someone else's script"
ACCOUNT = "CJ88001"
ID = "cjdropshipping-webhook-settings"
TYPE = "pulumi-python:dynamic/cjdropshipping:WebhookSettings"
GROUPS = ("product", "stock", "order", "logistics")
OPTIONAL_GROUPS = ("makeup", "privateOrder")
FAST_QPS = 40

PRODUCT = "https://hooks.example.com/cj/product"
ORDER = "https://hooks.example.com/cj/order"
STOCK = "https://hooks.example.com/cj/stock"
MAKEUP = "https://hooks.example.com/cj/makeup"
PRIVATE = "https://hooks.example.com/cj/private-orders"
OFF = "https://hooks.example.com/cj/off"


def settings(**inputs: Any) -> Callable[[], None]:
    """A program declaring the account's webhook settings with these inputs."""

    def program() -> None:
        cj.WebhookSettings("cj", **inputs)

    return program


class Cj:
    """The sandbox's CJ side: the account as CJ stores it, the platform's admin API, and a client with
    another API key of the same account for out-of-band changes."""

    def __init__(self, sandbox: SandboxProcess) -> None:
        self.sandbox = sandbox
        self.base_url = sandbox.base_url("cjdropshipping", "/api2.0/v1")
        self.admin = httpx.Client(base_url=f"{sandbox.url}/cjdropshipping/_sandbox", timeout=10)
        self._token: str | None = None

    def options(self, **values: Any) -> None:
        self.admin.post("/settings", json=values).raise_for_status()

    def stats(self) -> dict[str, int]:
        stats: dict[str, int] = self.admin.get("/stats").json()
        return stats

    def callback(self) -> dict[str, Any]:
        """The account's groups as the emulator stores them (group -> {type, urls})."""
        accounts = self.sandbox.state()["cjdropshipping"]["accounts"]
        found: dict[str, Any] = accounts.get(ACCOUNT, {}).get("callback", {})
        return found

    def enabled(self) -> dict[str, str]:
        return {g: v["urls"][0] for g, v in self.callback().items() if v["type"] == "ENABLE"}

    def token(self) -> str:
        if self._token is None:
            answer = httpx.post(f"{self.base_url}/authentication/getAccessToken", json={"apiKey": OTHER_KEY})
            self._token = str(answer.json()["data"]["accessToken"])
        return self._token

    def set_out_of_band(self, **urls: str | None) -> None:
        """Set the account's groups with another key of the same user: the four required groups always
        (CANCEL without a URL given), an optional one (makeup, privateOrder) only when named."""
        named = (*GROUPS, *(g for g in OPTIONAL_GROUPS if g in urls))
        body = {
            g: {"type": "ENABLE", "callbackUrls": [u]}
            if (u := urls.get(g))
            else {"type": "CANCEL", "callbackUrls": [OFF]}  # one URL even to cancel (webhook.html)
            for g in named
        }
        for _ in range(20):  # the account's QPS is shared with the provider host
            answer = httpx.post(
                f"{self.base_url}/webhook/set", json=body, headers={"CJ-Access-Token": self.token()}
            )
            if answer.json()["code"] != 1600200:
                break
            time.sleep(0.2)
        assert answer.json()["result"] is True, answer.text

    def open_id(self) -> str:
        answer = httpx.get(f"{self.base_url}/setting/get", headers={"CJ-Access-Token": self.token()})
        return str(answer.json()["data"]["openId"])

    def api_requests(self, path: str = "") -> list[dict[str, Any]]:
        """The platform calls in the request log (admin calls left out)."""
        return [
            r
            for r in self.sandbox.requests("cjdropshipping")
            if "/_sandbox/" not in r["path"] and r["path"].endswith(path)
        ]


@pytest.fixture
def cjs(sandbox: SandboxProcess) -> Iterator[Cj]:
    handle = Cj(sandbox)
    handle.options(account_qps=FAST_QPS)  # most tests are not about pacing
    yield handle
    handle.admin.close()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def cj_env(cjs: Cj, cache_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "CJ_BASE_URL": cjs.base_url,
        "CJ_QPS": str(FAST_QPS),
        "PULUMI_WEBHOOKS_CACHE_DIR": str(cache_dir),
        **extra,
    }


@pytest.fixture
def engine(cjs: Cj, cache_dir: Path, make_engine: EngineFactory) -> Engine:
    """An engine whose API key comes from the stack config, as most users set it."""
    return make_engine(
        env=cj_env(cjs, cache_dir),
        config={"cjdropshipping:apiKey": API_KEY},
        secret_keys=["cjdropshipping:apiKey"],
    )


# -- create, update, delete ----------------------------------------------------------------------------


def test_create_sends_all_four_groups_then_no_op_makes_no_request(engine: Engine, cjs: Cj) -> None:
    result = engine.up(settings(product_url=PRODUCT, order_url=ORDER))
    assert result.ok, result.steps
    assert result.ops == {"cj": "create"}
    assert cjs.callback() == {
        "product": {"type": "ENABLE", "urls": [PRODUCT]},
        "stock": {"type": "CANCEL", "urls": []},
        "order": {"type": "ENABLE", "urls": [ORDER]},
        "logistics": {"type": "CANCEL", "urls": []},
    }
    [state] = engine.state.values()
    assert state.id == ID
    assert state.outputs["product_url"] == PRODUCT and state.outputs["order_url"] == ORDER
    assert "stock_url" not in state.outputs and "logistics_url" not in state.outputs
    assert [r["path"].rsplit("/", 2)[-2:] for r in cjs.api_requests()] == [
        ["authentication", "getAccessToken"],
        ["setting", "get"],  # what the account holds before the write
        ["webhook", "set"],
    ]
    assert state.outputs["open_id"] == cjs.open_id()
    assert "open_id" in state.secret_outputs

    cjs.sandbox.clear_log()
    again = engine.up(settings(product_url=PRODUCT, order_url=ORDER))
    assert again.ok and again.ops == {"cj": "same"}
    assert cjs.api_requests() == []  # diff needs no call, and the token is not even looked at


def test_preview_makes_no_request_and_changes_nothing(engine: Engine, cjs: Cj) -> None:
    result = engine.preview(settings(product_url=PRODUCT))
    assert result.ok and result.ops == {"cj": "create"}
    assert cjs.api_requests() == []
    assert engine.state == {}


def test_changing_one_url_updates_in_place(engine: Engine, cjs: Cj) -> None:
    assert engine.up(settings(product_url=PRODUCT, order_url=ORDER)).ok
    moved = "https://hooks.example.com/cj/v2/order"
    assert engine.preview(settings(product_url=PRODUCT, order_url=moved)).ops == {"cj": "update"}
    cjs.sandbox.clear_log()
    result = engine.up(settings(product_url=PRODUCT, order_url=moved))
    assert result.ok and result.ops == {"cj": "update"}
    assert cjs.enabled() == {"product": PRODUCT, "order": moved}
    assert [r["path"].rsplit("/", 1)[-1] for r in cjs.api_requests()] == ["set"]  # one write, no read
    [state] = engine.state.values()
    assert state.id == ID and state.outputs["order_url"] == moved and state.outputs["open_id"]


def test_removing_a_url_cancels_its_group(engine: Engine, cjs: Cj) -> None:
    assert engine.up(settings(product_url=PRODUCT, order_url=ORDER, stock_url=STOCK)).ok
    result = engine.up(settings(product_url=PRODUCT, order_url=ORDER))
    assert result.ok and result.ops == {"cj": "update"}
    assert cjs.callback()["stock"] == {"type": "CANCEL", "urls": []}
    assert cjs.enabled() == {"product": PRODUCT, "order": ORDER}
    [state] = engine.state.values()
    assert "stock_url" not in state.outputs


def test_destroy_cancels_every_group(engine: Engine, cjs: Cj) -> None:
    assert engine.up(settings(product_url=PRODUCT)).ok
    cjs.set_out_of_band(product=PRODUCT, logistics="https://elsewhere.example.com/cj")
    assert engine.destroy().ok
    assert engine.state == {}
    assert {g: v["type"] for g, v in cjs.callback().items()} == dict.fromkeys(GROUPS, "CANCEL")


def test_no_url_at_all_is_allowed_and_cancels_everything(engine: Engine, cjs: Cj) -> None:
    cjs.set_out_of_band(order=ORDER)
    result = engine.up(settings(adopt=True))
    assert result.ok, result.steps
    assert cjs.enabled() == {}


# -- refresh -------------------------------------------------------------------------------------------


def test_refresh_sees_out_of_band_change_and_up_repairs_it(engine: Engine, cjs: Cj) -> None:
    program = settings(product_url=PRODUCT, order_url=ORDER)
    assert engine.up(program).ok
    cjs.set_out_of_band(product="https://evil.example.com/x", stock=STOCK)  # order cancelled, stock on
    refreshed = engine.refresh()
    assert refreshed.ok, refreshed.steps
    [state] = engine.state.values()
    assert state.outputs["product_url"] == state.inputs["product_url"] == "https://evil.example.com/x"
    assert state.outputs["stock_url"] == state.inputs["stock_url"] == STOCK
    assert "order_url" not in state.outputs and "order_url" not in state.inputs
    assert state.id == ID and state.outputs["open_id"]

    assert engine.preview(program).ops == {"cj": "update"}
    assert engine.up(program).ok
    assert cjs.enabled() == {"product": PRODUCT, "order": ORDER}
    assert engine.up(program).ops == {"cj": "same"}


def test_refresh_reads_the_callback_urls_spelling_and_tolerates_missing_groups(
    engine: Engine, cjs: Cj
) -> None:
    assert engine.up(settings(product_url=PRODUCT, order_url=ORDER)).ok
    cjs.set_out_of_band(product="https://moved.example.com/p", order=ORDER)
    # CJ's sample shows only some groups: drop order and stock from what setting/get reports.
    snapshot = cjs.sandbox.state()["cjdropshipping"]
    for group in ("order", "stock"):
        del snapshot["accounts"][ACCOUNT]["callback"][group]
    cjs.sandbox.admin.post("/_sandbox/state", json={"cjdropshipping": snapshot}).raise_for_status()
    cjs.options(callback_spelling="callbackUrls")

    assert engine.refresh().ok
    [state] = engine.state.values()
    assert state.outputs["product_url"] == "https://moved.example.com/p"  # read in the other spelling
    assert state.outputs["order_url"] == ORDER  # not reported: the stored value stays
    assert "stock_url" not in state.outputs


def test_refresh_without_callback_block_keeps_state(engine: Engine, cjs: Cj) -> None:
    assert engine.up(settings(product_url=PRODUCT)).ok
    [before] = engine.state.values()
    cjs.set_out_of_band(product="https://moved.example.com/p")
    cjs.options(callback_spelling="absent")
    assert engine.refresh().ok
    [after] = engine.state.values()
    assert after.outputs == before.outputs  # nothing to compare with: the stored URLs stay
    assert engine.up(settings(product_url=PRODUCT)).ops == {"cj": "same"}


# -- adopting ------------------------------------------------------------------------------------------


def test_identical_settings_are_taken_over_without_a_write(engine: Engine, cjs: Cj) -> None:
    cjs.set_out_of_band(product=PRODUCT, order=ORDER)
    cjs.sandbox.clear_log()
    result = engine.up(settings(product_url=PRODUCT, order_url=ORDER))
    assert result.ok and result.ops == {"cj": "create"}
    assert cjs.api_requests("/webhook/set") == []


def test_different_enabled_groups_need_adopt(engine: Engine, cjs: Cj) -> None:
    cjs.set_out_of_band(product="https://legacy.example.com/p", order=ORDER, stock=STOCK)
    refused = engine.up(settings(product_url=PRODUCT, order_url=ORDER))
    assert not refused.ok
    error = refused.step("cj").error or ""
    assert "product and stock" in error and "adopt=True" in error, error
    assert "legacy.example.com" not in error and cjs.open_id() not in error
    assert cjs.enabled() == {"product": "https://legacy.example.com/p", "order": ORDER, "stock": STOCK}

    adopted = engine.up(settings(product_url=PRODUCT, order_url=ORDER, adopt=True))
    assert adopted.ok, adopted.steps
    assert cjs.enabled() == {"product": PRODUCT, "order": ORDER}


def test_enabling_more_groups_than_the_account_has_needs_no_adopt(engine: Engine, cjs: Cj) -> None:
    cjs.set_out_of_band(order=ORDER)
    result = engine.up(settings(product_url=PRODUCT, order_url=ORDER))
    assert result.ok, result.steps
    assert cjs.enabled() == {"product": PRODUCT, "order": ORDER}


# -- check ---------------------------------------------------------------------------------------------

BAD_INPUTS = [
    ("product_url", "https://localhost/cj", "public host"),
    ("order_url", "https://127.0.0.1/cj", "public host"),
    ("stock_url", "https://192.168.1.20/cj", "public host"),
    ("logistics_url", "http://hooks.example.com/cj", "https://"),
    ("product_url", "http://localhost:8080/cj", "https://"),
    ("order_url", ["https://a.example.com/x", "https://b.example.com/x"], "one callback URL"),
    ("stock_url", "https://hooks.example.com/" + "a" * 180, "at most 200 characters"),
    ("api_key", "CJ1@api@" + "f" * 200, "at most 200 characters"),
]


@pytest.mark.parametrize(("field", "value", "reason"), BAD_INPUTS)
def test_bad_input_fails_at_preview_naming_the_field(
    engine: Engine, cjs: Cj, field: str, value: Any, reason: str
) -> None:
    result = engine.preview(settings(**{"product_url": PRODUCT, field: value}))
    assert not result.ok
    failures = result.step("cj").failures
    assert any(prop == field and reason in text for prop, text in failures), failures
    assert cjs.api_requests() == []


def test_missing_credentials_fail_at_preview_naming_config_and_variables(
    cjs: Cj, cache_dir: Path, make_engine: EngineFactory
) -> None:
    engine = make_engine(env=cj_env(cjs, cache_dir))
    result = engine.preview(settings(product_url=PRODUCT))
    assert not result.ok
    [(field, reason)] = result.step("cj").failures
    assert field == "api_key"
    for name in ("cjdropshipping:apiKey", "CJ_API_KEY", "cjdropshipping:accessToken", "CJ_ACCESS_TOKEN"):
        assert name in reason, reason


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CJ_QPS": "fast"}, "cjdropshipping:qps"),
        ({"CJ_QPS": "0"}, "CJ_QPS"),
        ({"CJ_BASE_URL": "http://developers.cjdropshipping.com/api2.0/v1"}, "cjdropshipping:baseUrl"),
    ],
)
def test_bad_settings_fail_at_preview(
    cjs: Cj, cache_dir: Path, make_engine: EngineFactory, env: dict[str, str], named: str
) -> None:
    engine = make_engine(env=cj_env(cjs, cache_dir, **env), config={"cjdropshipping:apiKey": API_KEY})
    result = engine.preview(settings(product_url=PRODUCT))
    assert not result.ok
    assert any(named in reason for _, reason in result.step("cj").failures), result.steps


# -- tokens --------------------------------------------------------------------------------------------


def test_token_is_reused_across_runs_and_cached_privately(
    cjs: Cj, cache_dir: Path, make_engine: EngineFactory, engine: Engine
) -> None:
    assert engine.up(settings(product_url=PRODUCT)).ok
    # A second `pulumi up` is a second process: it must find the token on disk.
    second = make_engine(env=cj_env(cjs, cache_dir), config={"cjdropshipping:apiKey": API_KEY})
    second.state = dict(engine.state)
    assert second.up(settings(product_url=PRODUCT, order_url=ORDER)).ok
    assert second.refresh().ok
    assert len(cjs.api_requests("/authentication/getAccessToken")) == 1
    assert cjs.stats()["get_access_token"] == 1
    assert "refresh_access_token" not in cjs.stats()

    folder = cache_dir / "cjdropshipping"
    [cached] = folder.glob("*.json")
    assert cached.name == f"{credential_key(cjs.base_url, API_KEY)}.json"
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    content = cached.read_text()
    assert API_KEY not in content and ACCOUNT not in cached.name
    data = json.loads(content)
    assert data["open_id"] == cjs.open_id()
    assert data["access_token"] and data["refresh_token"]
    assert data["refresh_expires_at"] - data["access_expires_at"] > 150 * 86400  # 180 days vs 15
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_two_processes_starting_together_make_one_token_request(
    cjs: Cj, cache_dir: Path, make_engine: EngineFactory
) -> None:
    engines = [
        make_engine(env=cj_env(cjs, cache_dir), config={"cjdropshipping:apiKey": API_KEY}) for _ in range(2)
    ]
    program = settings(product_url=PRODUCT)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda e: e.up(program), engines))
    assert all(r.ok for r in results), [r.steps for r in results]
    assert cjs.stats()["get_access_token"] == 1  # the second waited for the first one's token


def test_token_is_refreshed_before_it_expires(
    cjs: Cj, cache_dir: Path, make_engine: EngineFactory, engine: Engine
) -> None:
    cjs.options(access_token_ttl=3)
    assert engine.up(settings(product_url=PRODUCT)).ok
    time.sleep(1.7)  # past half of the token's life: renewed ahead of expiry
    second = make_engine(env=cj_env(cjs, cache_dir), config={"cjdropshipping:apiKey": API_KEY})
    second.state = dict(engine.state)
    assert second.refresh().ok
    stats = cjs.stats()
    assert stats["get_access_token"] == 1 and stats["refresh_access_token"] == 1
    assert "rejected_tokens" not in stats  # renewed before CJ had to refuse it


def test_rejected_token_is_renewed_with_the_refresh_token(
    cjs: Cj, cache_dir: Path, make_engine: EngineFactory, engine: Engine
) -> None:
    assert engine.up(settings(product_url=PRODUCT)).ok
    cjs.admin.post("/expire-tokens").raise_for_status()  # revoked on CJ's side, still fresh on disk
    second = make_engine(env=cj_env(cjs, cache_dir), config={"cjdropshipping:apiKey": API_KEY})
    second.state = dict(engine.state)
    result = second.up(settings(product_url=PRODUCT, order_url=ORDER))
    assert result.ok, result.steps
    stats = cjs.stats()
    assert stats["rejected_tokens"] == 1
    assert stats["refresh_access_token"] == 1 and stats["get_access_token"] == 1
    assert cjs.enabled() == {"product": PRODUCT, "order": ORDER}


def test_access_token_given_as_is(cjs: Cj, cache_dir: Path, make_engine: EngineFactory) -> None:
    token = cjs.token()
    engine = make_engine(env=cj_env(cjs, cache_dir, CJ_ACCESS_TOKEN=token))
    result = engine.up(settings(product_url=PRODUCT))
    assert result.ok, result.steps
    [state] = engine.state.values()
    assert state.outputs["open_id"] == cjs.open_id()  # from setting/get: no token answer to read it from
    assert cjs.stats()["get_access_token"] == 1  # the test's own
    assert not cache_dir.exists()  # nothing to cache

    by_input = make_engine(env=cj_env(cjs, cache_dir))
    assert by_input.up(settings(product_url=PRODUCT, access_token=token)).ok
    [state] = by_input.state.values()
    assert "access_token" in state.secret_outputs
    assert by_input.destroy().ok  # delete reads the token back from (secret) state
    assert cjs.enabled() == {}


def test_rejected_access_token_is_a_clear_error(cjs: Cj, cache_dir: Path, make_engine: EngineFactory) -> None:
    engine = make_engine(env=cj_env(cjs, cache_dir, CJ_ACCESS_TOKEN="0123456789abcdef-wrong"))
    result = engine.up(settings(product_url=PRODUCT))
    assert not result.ok
    error = result.step("cj").error or ""
    assert "CJdropshipping read settings failed" in error and "code 1600001" in error
    assert "request id" in error and "CJ_ACCESS_TOKEN" in error
    assert "0123456789abcdef-wrong" not in error
    assert error.count("\n") < 12, error


# -- errors, retries, pacing ---------------------------------------------------------------------------


def test_cj_validation_errors_name_code_message_and_request_id(engine: Engine, cjs: Cj) -> None:
    result = engine.up(settings(product_url="https://receiver.unreachable.example/cj"))
    assert not result.ok
    error = result.step("cj").error or ""
    assert "CJdropshipping set webhooks failed" in error
    assert "code 1607003" in error and "Http Status must be 200" in error
    assert "request id" in error and "deploy the receiver first" in error
    assert cjs.enabled() == {}
    assert len(cjs.api_requests("/webhook/set")) == 1  # a validation error is not retried


BUSY = {"code": 1600000, "result": False, "message": "System busy, please contact CJ IT", "data": None}


def test_busy_is_retried_at_most_three_times(engine: Engine, cjs: Cj) -> None:
    cjs.sandbox.fault("cjdropshipping", "status", path="webhook/set", status=200, body=BUSY, count=3)
    assert engine.up(settings(product_url=PRODUCT)).ok
    assert len(cjs.api_requests("/webhook/set")) == 4

    cjs.sandbox.clear_log()
    cjs.sandbox.fault("cjdropshipping", "status", path="webhook/set", status=200, body=BUSY, count=5)
    assert_gave_up_busy_after_four(engine.up(settings(product_url=ORDER)), cjs)


def assert_gave_up_busy_after_four(result: Result, cjs: Cj) -> None:
    """The step failed on CJ's busy code after the request layer's 4 tries of `webhook/set`, no more."""
    assert not result.ok
    error = result.step("cj").error or ""
    assert "code 1600000" in error and "gave up after 4 attempts" in error, error
    assert len(cjs.api_requests("/webhook/set")) == 4


def test_a_create_answered_busy_is_retried_by_one_layer_only(engine: Engine, cjs: Cj) -> None:
    # Busy may have committed (CJ answered 200), so the create looks the settings up once the request
    # layer gave up; it does not start another round of tries on top of the 4 it made.
    cjs.sandbox.fault("cjdropshipping", "status", path="webhook/set", status=200, body=BUSY, count=20)
    assert_gave_up_busy_after_four(engine.up(settings(product_url=PRODUCT)), cjs)


def test_rate_limit_code_and_lost_answers_are_retried(engine: Engine, cjs: Cj) -> None:
    limited = {"code": 1600200, "result": False, "message": "Too much request", "data": None}
    cjs.sandbox.fault("cjdropshipping", "status", path="setting/get", status=200, body=limited, count=2)
    cjs.sandbox.fault("cjdropshipping", "commit_then_drop", path="webhook/set", count=1)
    result = engine.up(settings(product_url=PRODUCT))
    assert result.ok, result.steps
    assert cjs.enabled() == {"product": PRODUCT}
    assert len(cjs.api_requests("/setting/get")) == 3
    assert len(cjs.api_requests("/webhook/set")) == 2  # the full settings again: safe to repeat


def test_used_up_points_are_not_retried(engine: Engine, cjs: Cj) -> None:
    used_up = {"code": 1600201, "result": False, "message": "Quota has been used up", "requestId": "r-1"}
    cjs.sandbox.fault("cjdropshipping", "status", path="setting/get", status=200, body=used_up, count=3)
    result = engine.up(settings(product_url=PRODUCT))
    assert not result.ok
    error = result.step("cj").error or ""
    assert "code 1600201" in error and "request id r-1" in error and "00:00 UTC" in error, error
    assert len(cjs.api_requests("/setting/get")) == 1


@pytest.fixture
def client(cjs: Cj, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> CjApi:
    """A client of one provider operation, with an API key of this test alone (the token cache is
    process-wide and keyed by it)."""
    monkeypatch.setenv("PULUMI_WEBHOOKS_CACHE_DIR", str(cache_dir))
    key = f"{ACCOUNT}@api@{uuid.uuid4().hex}"
    return CjApi(
        cjs.base_url,
        auth=ApiKeyAuth(cjs.base_url, key),
        pace_key=f"cjdropshipping test {uuid.uuid4().hex}",
        rate=RatePolicy(per_second=FAST_QPS, burst=1),
    )


ALL_GROUPS_SET = {"product": PRODUCT, "stock": None, "order": None, "logistics": None}


@pytest.mark.parametrize(
    ("answer", "error_class", "committed", "sent"),
    [
        (BUSY, errors.ServerError, True, 4),  # retried, at most 3 times (the call is idempotent)
        ({"code": 1699999, "result": False, "message": "Unknown failure"}, errors.ApiError, True, 1),
        ({"result": False, "message": "Something failed"}, errors.ApiError, True, 1),
        # CJ's code says it refused the request: nothing was written.
        ({"code": 1600300, "result": False, "message": "Param error"}, errors.ApiValidationError, False, 1),
        ({"code": 1600201, "result": False, "message": "Quota used up"}, errors.RateLimitedError, False, 1),
        ({"code": 1600101, "result": False, "message": "Interface not found"}, errors.ApiError, False, 1),
    ],
    ids=["busy", "unknown-code", "no-code", "param-error", "points-used-up", "interface-not-found"],
)
def test_an_error_inside_a_200_answer_may_have_committed_unless_cj_refused(
    cjs: Cj,
    client: CjApi,
    answer: dict[str, Any],
    error_class: type[errors.ApiError],
    committed: bool,
    sent: int,
) -> None:
    # CJ answers HTTP 200 with its code inside: a "busy" or unknown failure may still have saved the
    # settings, so the provider looks before it writes again (as after a 5xx or a lost answer).
    cjs.sandbox.fault(
        "cjdropshipping",
        "status",
        path="webhook/set",
        status=200,
        body={**answer, "requestId": "r-9"},
        count=9,
    )
    with deadline_scope(10), pytest.raises(errors.ApiError) as failure:
        client.set_callbacks(ALL_GROUPS_SET)
    assert type(failure.value) is error_class
    assert failure.value.may_have_committed is committed
    assert "CJdropshipping set webhooks failed (HTTP 200" in str(failure.value)
    assert "request id r-9" in str(failure.value)
    assert len(cjs.api_requests("/webhook/set")) == sent


GOOD_SETTINGS = b'{"code": 200, "result": true, "message": "Success", "requestId": "r-ok", "data": {"openId": "oid-7f3a9c"}}'


def answering(*bodies: tuple[str, bytes]) -> Callable[[Connection], None]:
    """Answer a client's requests in turn with these (status, body) pairs, the last one from then on."""
    queue = list(bodies)

    def answer(connection: Connection) -> bool:
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        return connection.send(head(status, Content_Length=str(len(body))) + body)

    return each_request(answer)


def client_of(server: HostileServer) -> CjApi:
    """A client of a test server, with a token given (no token request) and a bucket of its own."""
    return CjApi(
        server.url,
        auth=AccessTokenAuth("cj-access-token-unit"),
        pace_key=f"cjdropshipping test {uuid.uuid4().hex}",
        rate=RatePolicy(per_second=100, burst=10),
    )


@pytest.mark.parametrize("code", [b"1e999", b"-1e999", b"200.5"])
def test_a_code_that_is_not_an_integer_is_an_unexpected_answer(code: bytes) -> None:
    # 1e999 is valid JSON and reads as infinity: int() of it raised OverflowError, a raw Python
    # exception out of the client. Now it is an unreadable answer like any other: retried (setting/get
    # is a read), and reported with platform, operation, status and request id when it persists. A test
    # server: the sandbox answers through json.dumps, which cannot write 1e999.
    bad = b'{"code": ' + code + b', "result": true, "message": "Success", "requestId": "r-bad", "data": {}}'
    with HostileServer(answering(("200 OK", bad), ("200 OK", GOOD_SETTINGS))) as server:
        api = client_of(server)
        with deadline_scope(10):
            assert api.get_settings().open_id == "oid-7f3a9c"
        assert len(server.requests) == 2

    with HostileServer(answering(("200 OK", bad))) as server:
        api = client_of(server)
        with deadline_scope(1.5), pytest.raises(errors.ServerError) as failure:
            api.get_settings()
    message = str(failure.value)
    assert message.startswith("CJdropshipping read settings failed (HTTP 200, request id r-bad"), message
    assert "unexpected answer (`code` is not an integer)" in message, message
    assert failure.value.may_have_committed


def test_an_error_answer_with_an_unreadable_code_still_names_its_status() -> None:
    bad = b'{"code": 1e999, "result": false, "message": "Internal error", "requestId": "r-500"}'
    with HostileServer(answering(("400 Bad Request", bad))) as server:
        api = client_of(server)
        with deadline_scope(5), pytest.raises(errors.ApiValidationError) as failure:
            api.get_settings()
    message = str(failure.value)
    assert message == "CJdropshipping read settings failed (HTTP 400, request id r-500): Internal error", (
        message
    )


def test_paced_at_one_request_per_second_by_default(
    cjs: Cj, cache_dir: Path, make_engine: EngineFactory
) -> None:
    cjs.options(account_qps=1)  # the lowest account level
    env = cj_env(cjs, cache_dir)
    del env["CJ_QPS"]
    engine = make_engine(env=env, config={"cjdropshipping:apiKey": API_KEY})
    assert engine.up(settings(product_url=PRODUCT)).ok
    assert "rate_limited" not in cjs.stats()  # never over the account's QPS
    calls = [r["time"] for r in cjs.api_requests() if "/authentication/" not in r["path"]]
    assert len(calls) == 2  # setting/get, then webhook/set
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(calls)), calls
    # The next command is a new process that does not know the last one's pace: a 1600200 answer to
    # its first call (when it comes within the second) is retried.
    assert engine.refresh().ok


# -- secrets and registration --------------------------------------------------------------------------


def test_api_key_and_open_id_never_in_plain_text(
    engine: Engine, cjs: Cj, cache_dir: Path, make_engine: EngineFactory
) -> None:
    assert engine.up(settings(product_url=PRODUCT)).ok
    assert engine.refresh().ok
    open_id = cjs.open_id()
    with_input = make_engine(env=cj_env(cjs, cache_dir))
    failing = with_input.up(
        settings(product_url=PRODUCT, order_url="https://x.unreachable.example/cj", api_key=API_KEY)
    )
    assert not failing.ok
    ok = with_input.up(settings(product_url=PRODUCT, api_key=API_KEY))
    assert ok.ok, ok.steps
    for eng in (engine, with_input):
        [state] = eng.state.values()
        assert {"open_id", "api_key"} & set(state.outputs) <= state.secret_outputs
        plain = repr(eng.secret_plaintext_outputs()) + repr(
            {k: v for k, v in state.inputs.items() if k not in state.secret_outputs}
        )
        logs = eng.host.logs()
        for secret in (API_KEY, open_id):
            assert secret not in plain and secret not in logs
    error = failing.step("cj").error or ""
    assert API_KEY not in error and open_id not in error and "1607003" in error
    assert all(API_KEY not in p.name and open_id not in p.name for p in cache_dir.rglob("*"))
    assert API_KEY not in repr(cjs.sandbox.requests()) and API_KEY not in repr(cjs.sandbox.state())


def test_registration_marks_secrets_and_provider_is_small() -> None:
    def program() -> None:
        cj.WebhookSettings("a", product_url=PRODUCT, api_key=API_KEY)
        cj.WebhookSettings("b", cj.WebhookSettingsArgs(product_url=PRODUCT, api_key=API_KEY))
        cj.WebhookSettings("c", opts=pulumi.ResourceOptions(protect=True))

    regs = {reg.name: reg for reg in collect(program)}  # registrations arrive in any order
    a, b, c = regs["a"], regs["b"], regs["c"]
    assert a.type == b.type == c.type == TYPE
    assert "api_key" in a.secret_inputs
    assert {"api_key", "access_token", "open_id"} <= set(a.additional_secret_outputs)
    assert a.inputs == b.inputs
    assert c.protect and "open_id" in c.additional_secret_outputs
    provider = a.inputs["__provider"]
    assert len(provider) < 1024
    assert API_KEY.encode() not in base64.b64decode(provider)
    assert b"pulumi_webhooks.cjdropshipping.provider" in base64.b64decode(provider)


def test_outputs_are_typed_attributes() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        hooks = cj.WebhookSettings("a", order_url=ORDER)
        assert isinstance(hooks.open_id, pulumi.Output)
        hooks.order_url.apply(lambda v: seen.setdefault("order_url", v))

    collect(program)
    assert seen == {"order_url": ORDER}


def test_the_example_program_runs(engine: Engine, cjs: Cj) -> None:
    def program() -> None:
        runpy.run_module("examples.cjdropshipping", run_name="__main__")

    result = engine.up(program)
    assert result.ok, result.steps
    assert result.ops == {"cj-webhooks": "create"}
    assert cjs.enabled() == {
        "order": "https://hooks.example.com/cj/orders",
        "logistics": "https://hooks.example.com/cj/logistics",
    }
    assert set(result.outputs) == {"order_url", "signing_key"}
    assert engine.destroy().ok and cjs.enabled() == {}


# -- in process: what the sandbox cannot produce -------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (None, None),
        ("nope", None),
        ({}, {}),
        (
            {"product": {"type": "ENABLE", "urls": [PRODUCT]}, "order": {"type": "CANCEL", "urls": []}},
            {"product": PRODUCT, "order": None},
        ),
        ({"stock": {"type": "ENABLE", "callbackUrls": [STOCK]}}, {"stock": STOCK}),
        ({"stock": {"type": "ENABLE", "urls": []}}, {"stock": None}),  # on, but nowhere to deliver
        (  # the oldest documented shape
            {"productType": "ALL", "productCallbackUrls": [PRODUCT], "stockType": "CANCEL"},
            {"product": PRODUCT, "stock": None},
        ),
    ],
)
def test_callback_block_spellings(block: Any, expected: dict[str, str | None] | None) -> None:
    assert parse_callback(block) == expected


# -- the disk cache ------------------------------------------------------------------------------------


def test_cache_file_that_others_can_read_or_that_is_garbage_is_ignored(tmp_path: Path) -> None:
    cached = TokenFile(tmp_path / "cjdropshipping" / "k.json")
    token = Token("tok-123456", time.time() + 3600, {"refresh_token": "ref-123456", "open_id": "42424242"})
    cached.save(token)
    loaded = cached.load()
    assert loaded is not None and loaded.value == "tok-123456" and loaded.extra["open_id"] == "42424242"
    os.chmod(cached.path, 0o644)
    assert cached.load() is None
    cached.save(token)  # rewritten private
    assert stat.S_IMODE(cached.path.stat().st_mode) == 0o600 and cached.load() is not None
    cached.path.write_text("{not json")
    assert cached.load() is None
    unwritable = TokenFile(tmp_path / "file-not-dir" / "cjdropshipping" / "k.json")
    (tmp_path / "file-not-dir").write_text("")
    unwritable.save(token)  # logged, never raised: the cache only saves a token request
    assert unwritable.load() is None


# -- optional groups, CANCEL with a URL, unknown interface (issue 13) ----------------------------------
# Source: the webhook/set reference (developers.cjdropshipping.com/en/api/api2/api/webhook.html, seed
# 000_01eea84b9c132086.txt; platforms.md §1.3 and "Round 2"): `makeup` and `privateOrder` are optional groups
# (message types MAKEUP, PRIVATE_ORDER), and `callbackUrls` is required with one element for either type.


def test_optional_groups_a_stack_never_sets_are_never_touched(engine: Engine, cjs: Cj) -> None:
    cjs.set_out_of_band(makeup=MAKEUP)  # someone else's makeup group
    program = settings(product_url=PRODUCT)
    assert engine.up(program).ok
    [state] = engine.state.values()
    assert "makeup_url" not in state.outputs and "private_order_url" not in state.outputs
    assert engine.refresh().ok
    [state] = engine.state.values()
    assert "makeup_url" not in state.outputs and "makeup_url" not in state.inputs  # not ours to report
    assert engine.preview(program).ops == {"cj": "same"}  # a missing input equals an unset one
    assert engine.up(settings(product_url=PRODUCT, order_url=ORDER)).ok  # an update
    assert engine.destroy().ok
    assert cjs.callback()["makeup"] == {"type": "ENABLE", "urls": [MAKEUP]}  # still as it was
    assert "privateOrder" not in cjs.callback()  # never sent at all


def test_optional_groups_enable_update_and_cancel_like_the_others(engine: Engine, cjs: Cj) -> None:
    both = settings(product_url=PRODUCT, makeup_url=MAKEUP, private_order_url=PRIVATE)
    assert engine.up(both).ok
    assert cjs.enabled() == {"product": PRODUCT, "makeup": MAKEUP, "privateOrder": PRIVATE}
    [state] = engine.state.values()
    assert (state.outputs["makeup_url"], state.outputs["private_order_url"]) == (MAKEUP, PRIVATE)
    assert engine.up(both).ops == {"cj": "same"}

    result = engine.up(settings(product_url=PRODUCT, private_order_url=PRIVATE))  # makeup removed
    assert result.ok and result.ops == {"cj": "update"}
    assert cjs.callback()["makeup"] == {"type": "CANCEL", "urls": []}
    assert cjs.enabled() == {"product": PRODUCT, "privateOrder": PRIVATE}
    assert engine.up(settings(product_url=PRODUCT, private_order_url=PRIVATE)).ops == {"cj": "same"}

    assert engine.destroy().ok
    assert {g: v["type"] for g, v in cjs.callback().items()} == dict.fromkeys(
        (*GROUPS, *OPTIONAL_GROUPS), "CANCEL"
    )


def test_cancel_carries_a_url_even_when_no_group_is_declared(engine: Engine, cjs: Cj) -> None:
    # The emulator refuses CANCEL with an empty list, as the reference implies: every call below must
    # carry a URL for each cancelled group (the state's, the account's, or another of the call).
    assert engine.up(settings(product_url=PRODUCT, stock_url=STOCK)).ok
    assert engine.up(settings()).ok  # both removed: cancelled with their stored URLs
    assert cjs.enabled() == {}
    assert engine.destroy().ok  # nothing enabled and nothing stored: no URL known, no call needed
    cjs.set_out_of_band(order=ORDER)
    assert engine.up(settings(adopt=True)).ok  # only the account knows a URL (order's)
    assert cjs.enabled() == {}
    assert engine.destroy().ok


def test_set_body_cancels_with_the_current_url_and_leaves_unmanaged_groups_out() -> None:
    from pulumi_webhooks.cjdropshipping.api import set_body

    body = set_body(
        {"product": PRODUCT, "stock": None, "order": None, "logistics": None, "makeup": None},
        {"stock": STOCK, "makeup": MAKEUP},
    )
    assert body == {
        "product": {"type": "ENABLE", "callbackUrls": [PRODUCT]},
        "stock": {"type": "CANCEL", "callbackUrls": [STOCK]},
        "order": {"type": "CANCEL", "callbackUrls": [PRODUCT]},  # never had one: another URL of the call
        "logistics": {"type": "CANCEL", "callbackUrls": [PRODUCT]},
        "makeup": {"type": "CANCEL", "callbackUrls": [MAKEUP]},
    }
    assert set_body(dict.fromkeys(GROUPS)) is None  # no URL known anywhere: nothing to send


def test_unknown_interface_answered_inside_200_is_a_clear_error(
    cjs: Cj, cache_dir: Path, make_engine: EngineFactory
) -> None:
    """platforms.md §1.5: errors come back as HTTP 200 with result false; 1600101 "Interface not found"."""
    wrong = cjs.base_url.replace("/api2.0/v1", "/api2.0/v9")
    engine = make_engine(
        env={**cj_env(cjs, cache_dir), "CJ_BASE_URL": wrong}, config={"cjdropshipping:apiKey": API_KEY}
    )
    result = engine.up(settings(product_url=PRODUCT))
    assert not result.ok
    error = result.step("cj").error or ""
    assert "1600101" in error and "Interface not found" in error and "/api2.0/v1" in error, error
    assert API_KEY not in error
    assert all(r["status"] == 200 for r in cjs.api_requests())
