"""Narrow unit tests of _core pieces whose edges a server cannot easily produce."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from pulumi_webhooks import errors
from pulumi_webhooks._core import http, settings
from pulumi_webhooks._core.deadline import deadline_scope
from pulumi_webhooks._core.pacing import RatePolicy, TokenBucket
from pulumi_webhooks._core.redact import MASK, get_logger, redact, register_secret
from pulumi_webhooks._core.tokens import Token, TokenCache, credential_key

SETTING = settings.Setting("unit:token", "UNIT_TEST_TOKEN", secret=True, default=None)


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings registry and stack config are process-wide: keep this module's test-only ones out
    of other tests (the docs test lists every declared setting)."""
    monkeypatch.setattr(settings, "_known", dict(settings._known))
    monkeypatch.setattr(settings, "_stack_config", dict(settings._stack_config))


class FakeConfig:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, key: str) -> str | None:
        return self.values.get(key)


def test_settings_precedence_input_then_stack_config_then_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.declare(SETTING)
    monkeypatch.setenv("UNIT_TEST_TOKEN", "from-env-1")
    assert settings.lookup(SETTING) == "from-env-1"
    settings.load_stack_config(FakeConfig({"unit:token": "from-config-2"}))
    assert settings.lookup(SETTING) == "from-config-2"
    assert settings.lookup(SETTING, "from-input-3") == "from-input-3"
    assert redact("x from-config-2 y") == f"x {MASK} y"  # secret settings are registered when read


def test_require_names_every_source() -> None:
    missing = settings.Setting("unit:absent", "UNIT_ABSENT_VARIABLE")
    with pytest.raises(
        errors.ConfigurationError,
        match=r"`token` input, stack config `unit:absent` or environment variable `UNIT_ABSENT_VARIABLE`",
    ):
        settings.require(missing, None, what="token", field="token")


def test_operation_timeout_must_be_a_positive_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_WEBHOOKS_OPERATION_TIMEOUT", "soon")
    with pytest.raises(errors.ConfigurationError, match="operationTimeout"):
        settings.operation_timeout()
    monkeypatch.setenv("PULUMI_WEBHOOKS_OPERATION_TIMEOUT", "12.5")
    assert settings.operation_timeout() == 12.5


def test_package_loggers_mask_registered_secrets(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("hunter2-secret")
    with caplog.at_level(logging.DEBUG):
        get_logger("pulumi_webhooks.unit").info("token is %s", "hunter2-secret")
        get_logger("httpx").info("token is hunter2-secret")
    assert "hunter2-secret" not in caplog.text and caplog.text.count(MASK) == 2


def test_error_reprs_and_messages_never_carry_registered_secrets() -> None:
    register_secret("tok-abcdef-999")
    error = errors.AuthenticationError(
        platform="X", operation="create", status=401, detail="bad tok-abcdef-999"
    )
    assert "tok-abcdef-999" not in str(error) and "tok-abcdef-999" not in repr(error)
    assert type(error).__module__ == "pulumi_webhooks.errors"


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert http.parse_retry_after("3") == 3.0
    assert http.parse_retry_after(None) is None and http.parse_retry_after("soon") is None
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    parsed = http.parse_retry_after(later)
    assert parsed is not None and 25 < parsed <= 30


def test_error_messages_flatten_every_platform_shape() -> None:
    flatten = http._flatten_message
    assert flatten({"errors": "Too many request"}) == "Too many request"
    assert flatten({"errors": ["record not found!"]}) == "record not found!"
    assert (
        flatten({"errors": {"address": ["can't be blank", "is invalid"]}})
        == "address: can't be blank; address: is invalid"
    )
    assert flatten({"error": "page not found"}) == "page not found"
    assert (
        flatten({"data": None, "error": {"code": 404, "message": "Webhook not found"}}) == "Webhook not found"
    )


def test_token_bucket_allows_the_burst_then_paces() -> None:
    bucket = TokenBucket(RatePolicy(per_second=50, burst=5))
    started = time.monotonic()
    for _ in range(10):
        bucket.acquire()
    elapsed = time.monotonic() - started
    assert elapsed >= 5 / 50 * 0.9  # five beyond the burst at 50/s


def test_token_bucket_refuses_to_wait_past_the_deadline() -> None:
    bucket = TokenBucket(RatePolicy(per_second=0.1, burst=1))
    bucket.acquire()
    with pytest.raises(errors.OperationTimeoutError, match="operationTimeout"):
        bucket.acquire(deadline=time.monotonic() + 1)


def test_token_cache_fetches_once_for_concurrent_callers() -> None:
    cache = TokenCache()
    fetches: list[int] = []
    gate = threading.Barrier(4)

    def fetch(_previous: Token | None) -> Token:
        fetches.append(1)
        time.sleep(0.1)
        return Token("tok-single-flight", time.time() + 300)

    def worker() -> None:
        gate.wait()
        assert cache.get("k", fetch, margin=30).value == "tok-single-flight"

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fetches) == 1
    assert "tok-single-flight" not in repr(cache.peek("k"))
    cache.invalidate("k", "tok-single-flight")
    assert cache.peek("k") is None
    assert "secret" not in credential_key("url", "secret") and len(credential_key("a")) == 32


class FlakyApi(http.ApiClient):
    platform = "UNIT"
    max_attempts = 3


def test_deadline_stops_retries_with_a_clear_error() -> None:
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        return httpx.Response(500, json={"errors": "boom"})

    transport = httpx.MockTransport(handler)
    client = FlakyApi("http://127.0.0.1:9/unit")
    http._clients["http://127.0.0.1:9"] = httpx.Client(transport=transport)
    try:
        with deadline_scope(0.5), pytest.raises(errors.ServerError) as caught:
            client.request("list", "GET", "things")
    finally:
        http._clients.pop("http://127.0.0.1:9").close()
    assert "HTTP 500" in str(caught.value) and "boom" in str(caught.value)
    assert 1 <= len(calls) <= 3
