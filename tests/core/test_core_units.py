"""Narrow unit tests of _core pieces whose edges a server cannot easily produce."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pulumi_webhooks import errors
from pulumi_webhooks._core import http, settings
from pulumi_webhooks._core.deadline import deadline_scope
from pulumi_webhooks._core.lazy import LazyModule, import_in_background
from pulumi_webhooks._core.pacing import RatePolicy, TokenBucket
from pulumi_webhooks._core.redact import ELLIPSIS, MASK, clip, excerpt, get_logger, redact, register_secret
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


def hold_a_slot(bucket: TokenBucket, seconds: float) -> threading.Thread:
    """Another thread's request, in flight for ``seconds`` (a slow answer, a token fetched under it)."""
    taken = threading.Event()

    def request() -> None:
        bucket.acquire()
        taken.set()
        time.sleep(seconds)
        bucket.release()

    thread = threading.Thread(target=request, daemon=True)
    thread.start()
    assert taken.wait(5)
    return thread


def test_token_bucket_behind_a_slow_request_in_flight_gives_up_at_the_deadline() -> None:
    # CJ's account bucket: one slot. The estimate before waiting cannot know how long the request in
    # flight takes; the wait for its answer had no timeout (gave up after 5.9 s with a 2 s deadline).
    bucket = TokenBucket(RatePolicy(per_second=0.9, burst=1))
    holder = hold_a_slot(bucket, 4.0)
    started = time.monotonic()
    with pytest.raises(errors.OperationTimeoutError, match=r"deadline passed while waiting .* rate limit"):
        bucket.acquire(deadline=started + 2.0)  # the estimate (1.1 s) fits: the request in flight does not
    assert 1.95 <= time.monotonic() - started < 2.5
    holder.join()


def test_token_bucket_queued_behind_a_waiter_gives_up_at_the_deadline() -> None:
    # The second in line waited for the queue to move with no timeout at all.
    bucket = TokenBucket(RatePolicy(per_second=50, burst=1))
    holder = hold_a_slot(bucket, 3.0)
    first = threading.Thread(target=lambda: bucket.acquire(deadline=time.monotonic() + 10), daemon=True)
    first.start()
    while len(bucket._queue) < 1:  # first in line, waiting for the answer in flight
        time.sleep(0.01)
    started = time.monotonic()
    with pytest.raises(errors.OperationTimeoutError, match="pulumi-webhooks:operationTimeout"):
        bucket.acquire(deadline=started + 0.5)
    assert 0.45 <= time.monotonic() - started < 1.0
    holder.join()
    first.join(5)
    bucket.release()  # first's slot (taken on its own thread: a no-op here, which is fine)


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


def test_token_cache_waiting_for_another_callers_fetch_ends_at_the_waiters_deadline() -> None:
    # The first caller's fetch runs under its own deadline; a second caller whose deadline is nearer
    # waited for the lock with no timeout, past its own.
    cache = TokenCache()
    fetching, release = threading.Event(), threading.Event()

    def slow_fetch(_previous: Token | None) -> Token:
        fetching.set()
        assert release.wait(10)
        return Token("tok-slow", time.time() + 300)

    first = threading.Thread(target=lambda: cache.get("k", slow_fetch, margin=30))
    first.start()
    try:
        assert fetching.wait(10)
        with deadline_scope(0.3), pytest.raises(errors.OperationTimeoutError, match="getting the token"):
            cache.get("k", slow_fetch, margin=30)
    finally:
        release.set()
        first.join(10)
    assert cache.get("k", slow_fetch, margin=30).value == "tok-slow"  # then served from the cache


@contextlib.contextmanager
def answered_by(handler: Callable[[httpx.Request], httpx.Response]) -> Iterator[None]:
    """FlakyApi's origin answered by ``handler`` (an edge no real server produces on cue)."""
    http._clients["http://127.0.0.1:9"] = httpx.Client(transport=httpx.MockTransport(handler))
    try:
        yield
    finally:
        http._clients.pop("http://127.0.0.1:9").close()


class FlakyApi(http.ApiClient):
    platform = "UNIT"
    max_attempts = 3


def test_deadline_stops_retries_with_a_clear_error() -> None:
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        return httpx.Response(500, json={"errors": "boom"})

    client = FlakyApi("http://127.0.0.1:9/unit")
    with answered_by(handler), deadline_scope(0.5), pytest.raises(errors.ServerError) as caught:
        client.request("list", "GET", "things")
    assert "HTTP 500" in str(caught.value) and "boom" in str(caught.value)
    assert 1 <= len(calls) <= 3


class SecondTokenCall:
    """Auth whose second ``headers()`` call (the one before the retry) runs ``second``: the deadline
    then passes after a wait and before the next try is sent."""

    def __init__(self, second: Callable[[], None]) -> None:
        self.second = second
        self.calls = 0

    def headers(self) -> dict[str, str]:
        self.calls += 1
        if self.calls > 1:
            self.second()
        return {"Authorization": "Bearer unit"}

    def renew(self) -> bool:
        return False


def refused_after_a_wait(auth: SecondTokenCall, seconds: float) -> str:
    """The message of a request the platform answers 503 (busy) every time, under a deadline."""
    client = FlakyApi("http://127.0.0.1:9/unit", auth=auth)
    busy = httpx.Response(503, json={"errors": "busy"})
    with answered_by(lambda _: busy), deadline_scope(seconds), pytest.raises(errors.ServerError) as caught:
        client.request("list", "GET", "things")
    message = str(caught.value)
    assert "HTTP 503" in message and "busy" in message, message
    return message


def test_a_deadline_passing_between_tries_reports_the_answer_that_made_us_wait() -> None:
    # Seen under load: the deadline passed between the wait and the next try (a slow token refresh), and
    # the step's error said only "ran out of time", without the 503 the platform kept answering.
    message = refused_after_a_wait(SecondTokenCall(lambda: time.sleep(0.4)), 0.3)
    assert "PULUMI_WEBHOOKS_OPERATION_TIMEOUT" in message, message


def test_what_ended_the_time_after_a_wait_is_said_beside_the_answer_that_made_us_wait() -> None:
    # The second token request ends at the deadline waiting for something it names (CJ's token-cache
    # lock, held by another process).
    def locked() -> None:
        raise errors.OperationTimeoutError("UNIT access token: waiting for the lock of the token cache")

    message = refused_after_a_wait(SecondTokenCall(locked), 5)
    assert "Then UNIT access token: waiting for the lock of the token cache" in message, message


# -- redaction: every length, every escaped form, every logger, before any cut --------------------------
def test_a_short_secret_is_masked_where_it_stands_alone() -> None:
    register_secret("x7")
    assert redact("secret=x7&a=1; 'x7' Bearer x7") == f"secret={MASK}&a=1; '{MASK}' Bearer {MASK}"
    assert redact("x70 ax7 max7imum") == "x70 ax7 max7imum"  # inside longer words: left alone


@hypothesis_settings(max_examples=200, deadline=None)
@given(secret=st.text(min_size=4, max_size=30).filter(lambda s: s.strip() == s and "\\" not in s))
def test_escaped_forms_of_a_secret_are_masked(secret: str) -> None:
    register_secret(secret)
    for form in (
        repr(secret),
        repr(secret.encode()),
        json.dumps(secret),
        json.dumps(secret, ensure_ascii=False),
        quote(secret, safe=""),
        re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(secret, safe="")),
        quote_plus(secret, safe=""),
    ):
        cleaned = redact(f"<< {form} >>")
        assert MASK in cleaned, (secret, form, cleaned)


def test_every_logger_of_the_process_is_redacted_even_one_created_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "tok-every-logger-7c6d\n"
    register_secret(secret)
    with caplog.at_level(logging.DEBUG):
        # httpcore's children have no filter of their own; a brand-new logger has none at all.
        logging.getLogger("httpcore.http11").debug(
            "send_request_headers.failed %r", f"Bearer {secret}".encode()
        )
        logging.getLogger("a.library.made.up.now").warning("token %s", secret)
        logging.getLogger("hpack").debug("header %s", json.dumps(secret))
    assert caplog.text.count(MASK) == 3, caplog.text
    assert "tok-every-logger" not in caplog.text


def test_text_is_redacted_before_it_is_cut_and_a_cut_secret_is_masked() -> None:
    secret = "tok-cut-0123456789abcdef"
    register_secret(secret)
    page = "." * 190 + secret + "." * 50
    assert "tok-cut" not in clip(page, 200) and len(clip(page, 200)) <= 200
    # A platform that cut the token itself: the tail that is a secret's beginning is masked.
    assert clip("x" * 300 + secret[:10], 305).endswith(f"{MASK}{ELLIPSIS}")
    assert clip("a\nb\r\n\x1b[31mc\u202e", 100) == "a b [31mc"  # one line, no terminal tricks


def test_an_excerpt_is_short_quoted_and_escaped() -> None:
    assert excerpt("orders/creat") == "'orders/creat'"
    assert excerpt("a\nb\u202e\u2028\x85\xa0") == "'a\\nb\\u202e\\u2028\\x85\\xa0'"
    long = excerpt("x" * 1_000_000, 40)
    assert long == f"'{'x' * 40}'{ELLIPSIS} (1000000 characters)"


def test_credentials_are_checked_wherever_they_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    settings.declare(SETTING)
    monkeypatch.setenv("UNIT_TEST_TOKEN", "from-env\n")
    problem = settings.credential_problem(SETTING, field="token")
    assert problem is not None and problem.startswith("environment variable `UNIT_TEST_TOKEN` must not")
    assert "from-env" not in problem
    assert settings.credential_problem(SETTING, " padded ", field="token") == (
        "the `token` input must not begin or end with whitespace (often left by a copy-paste)"
    )
    assert settings.header_credential_problem("tök") is not None
    assert settings.header_credential_problem("tok en") is not None
    assert settings.credential_problem(SETTING, "fine-token", field="token") is None


def test_tls_roots_load_once_per_process_and_plain_http_clients_trust_nothing() -> None:
    # Loading the roots costs ~25 ms of CPU: once per process, not once per client.
    # A plain-http origin (the sandbox) never speaks TLS; its context would refuse any certificate.
    origins = ("https://a.unit.test", "https://b.unit.test", "http://127.0.0.1:9")
    try:
        a, b, plain = (http.shared_client(origin) for origin in origins)
        contexts = [client._transport._pool._ssl_context for client in (a, b, plain)]  # type: ignore[attr-defined]
    finally:
        for origin in origins:
            http._clients.pop(origin).close()
    assert contexts[0] is contexts[1] is http._tls_context()
    assert contexts[0].cert_store_stats()["x509_ca"] > 0
    assert contexts[2] is not contexts[0]
    assert contexts[2].verify_mode == ssl.CERT_REQUIRED and contexts[2].check_hostname
    assert contexts[2].cert_store_stats()["x509_ca"] == 0


def test_a_lazy_module_loads_once_for_many_threads_and_a_failed_background_import_raises_where_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wire shapes' module: loaded by the first attribute access, the same class for every thread
    racing for it; an import that fails in the background fails again, visibly, in the thread that
    needs the module."""
    (tmp_path / "wire_probe.py").write_text("import time\ntime.sleep(0.05)\nclass Shape:\n    pass\n")
    (tmp_path / "broken_probe.py").write_text("raise ImportError('the wire module is broken')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "wire_probe", raising=False)
    wire = LazyModule("wire_probe")
    import_in_background("wire_probe")
    with ThreadPoolExecutor(max_workers=8) as pool:
        shapes = set(pool.map(lambda _: wire.Shape, range(8)))
    assert len(shapes) == 1 and sys.modules["wire_probe"].Shape in shapes

    import_in_background("broken_probe")
    with pytest.raises(ImportError, match="the wire module is broken"):
        LazyModule("broken_probe").Shape  # noqa: B018 (the access is the test)
