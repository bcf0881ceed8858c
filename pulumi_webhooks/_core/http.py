"""How to call a platform: one pooled client per endpoint, pacing, retries, and error mapping.

Per-platform clients (``shopline/api.py`` …) say *what* to call; this module says *how*. Rules:
- one ``httpx.Client`` per origin for the whole process, created lazily, shared by every thread;
- every request waits for the store's rate-limit bucket first;
- 429, 5xx, transport errors and unreadable bodies are retried with exponential backoff and jitter,
  honouring ``Retry-After``, bounded by an attempt count and by the operation's deadline;
- a write that may have reached the platform (the answer was lost) is *not* retried blindly: the
  error says ``may_have_committed`` and the provider looks the subscription up first.
"""

from __future__ import annotations

import email.utils
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, TypeVar

import httpx
import pydantic
from tenacity import (
    RetryCallState,
    Retrying,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from pulumi_webhooks._core import deadline as _deadline
from pulumi_webhooks._core import errors, settings
from pulumi_webhooks._core.pacing import RatePolicy, bucket
from pulumi_webhooks._core.redact import get_logger, redact

log = get_logger("pulumi_webhooks.http")

Model = TypeVar("Model", bound=pydantic.BaseModel)

USER_AGENT = "pulumi-webhooks/0.1 (+https://github.com/pulumi-webhooks)"
CONNECT_TIMEOUT = 10.0
DEFAULT_TIMEOUT = httpx.Timeout(connect=CONNECT_TIMEOUT, read=30.0, write=30.0, pool=30.0)
MAX_RETRY_AFTER = 120.0  # a longer Retry-After is capped: the operation deadline still bounds it

_clients: dict[str, httpx.Client] = {}
_clients_lock = threading.Lock()


def shared_client(base_url: str) -> httpx.Client:
    """The process-wide client for ``base_url``'s origin (connections are reused across resources)."""
    url = httpx.URL(base_url)
    origin = f"{url.scheme}://{url.netloc.decode()}"
    with _clients_lock:
        client = _clients.get(origin)
        if client is None:
            client = _clients[origin] = httpx.Client(
                timeout=DEFAULT_TIMEOUT,
                limits=httpx.Limits(max_connections=16, max_keepalive_connections=8, keepalive_expiry=30),
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
            )
        return client


def close_shared_clients() -> None:
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# Transport failures that happen before the request is on the wire: always safe to retry.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Auth(Protocol):
    """Credentials that can be renewed: a platform with expiring tokens passes one to its client."""

    def headers(self) -> Mapping[str, str]:
        """The auth headers for the next request (fetching a token if none is cached)."""
        ...

    def renew(self) -> bool:
        """Called once after the platform rejected the credentials; True when fresh ones are ready
        and the request should be tried again."""
        ...


class _StopAtDeadline(stop_base):
    """Stop retrying when the next sleep would pass the operation deadline (``fired`` tells the error
    message why the retries stopped)."""

    def __init__(self) -> None:
        self.fired = False

    def __call__(self, retry_state: Any) -> bool:
        deadline = _deadline.current_deadline()
        if deadline is None:
            return False
        self.fired = time.monotonic() + (retry_state.upcoming_sleep or 0.0) >= deadline
        return self.fired


class ApiClient:
    """Base client for one platform endpoint. Subclasses set the class attributes and may override
    :meth:`error_detail` (how the platform spells an error) and :meth:`check_body` (errors inside a
    200 answer)."""

    platform: ClassVar[str]
    request_id_headers: ClassVar[tuple[str, ...]] = ("x-request-id",)
    auth_hint: ClassVar[str] = "check the credentials"
    max_attempts: ClassVar[int] = 8
    # Statuses that mean "not processed": safe to retry even for a create.
    not_processed_statuses: ClassVar[frozenset[int]] = frozenset({429, 503})

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        pace_key: str | None = None,
        rate: RatePolicy | None = None,
        auth: Auth | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})
        self._auth = auth
        self._bucket = bucket(pace_key, rate) if pace_key and rate else None

    def __repr__(self) -> str:  # never show headers: they hold the token
        return f"{type(self).__name__}({self.base_url!r})"

    # -- the one entry point ------------------------------------------------------------------------
    def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
        model: type[Model] | None = None,
        idempotent: bool | None = None,
        allow_statuses: frozenset[int] = frozenset(),
    ) -> tuple[httpx.Response, Model | None]:
        """Send one logical request, retrying as the rules above say. Returns the final response and
        the body parsed into ``model`` (None when no model is given or the status is allowed)."""
        if idempotent is None:
            idempotent = method.upper() != "POST"
        started = time.monotonic()
        at_deadline = _StopAtDeadline()
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts) | at_deadline | stop_before_delay(3600),
            wait=self._wait,
            retry=lambda state: self._should_retry(state, idempotent),
            before_sleep=lambda state: log.info(
                "%s %s: retrying after %s (attempt %d)",
                self.platform,
                operation,
                state.outcome.exception() if state.outcome else "?",
                state.attempt_number,
            ),
            reraise=True,
        )
        renewed = False
        while True:
            try:
                for attempt in retrying:
                    with attempt:
                        return self._attempt(
                            operation, method, path, json, data, params, model, allow_statuses
                        )
            except errors.AuthenticationError:
                # A token can expire or be revoked mid-run: renew it once and try again.
                if renewed or self._auth is None or not self._auth.renew():
                    raise
                renewed = True
            except errors.ApiError as exc:
                attempts = retrying.statistics.get("attempt_number", 1)
                if attempts > 1 or at_deadline.fired:
                    exc.gave_up(attempts, time.monotonic() - started, out_of_time=at_deadline.fired)
                raise
        raise AssertionError("unreachable")

    # -- one try ------------------------------------------------------------------------------------
    def _attempt(
        self,
        operation: str,
        method: str,
        path: str,
        json: Any,
        data: Mapping[str, str] | None,
        params: Mapping[str, str | int] | None,
        model: type[Model] | None,
        allow_statuses: frozenset[int],
    ) -> tuple[httpx.Response, Model | None]:
        left = _deadline.remaining(f"{self.platform} {operation}")
        if self._bucket is not None:
            try:
                self._bucket.acquire(_deadline.current_deadline())
            except errors.OperationTimeoutError as exc:  # say which platform and call were waiting
                raise errors.OperationTimeoutError(f"{self.platform} {operation}: {exc.message}") from None
        read = settings.request_timeout() if left is None else min(settings.request_timeout(), left)
        timeout = httpx.Timeout(read, connect=min(CONNECT_TIMEOUT, read))
        url = f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        started = time.monotonic()
        try:
            headers = {**self._headers, **self._auth.headers()} if self._auth else self._headers
            response = shared_client(self.base_url).request(
                method, url, json=json, data=data, params=params, headers=headers, timeout=timeout
            )
        except httpx.TimeoutException as exc:
            raise self._transport_error(operation, exc, errors.TimeoutError) from None
        except httpx.TransportError as exc:
            raise self._transport_error(operation, exc, errors.ConnectionError) from None
        request_id = self._request_id(response)
        log.debug(
            "%s %s %s -> %d (request id %s, %.0f ms)",
            self.platform,
            method,
            httpx.URL(url).path,
            response.status_code,
            request_id,
            (time.monotonic() - started) * 1000,
        )
        if response.status_code in allow_statuses:
            return response, None
        if response.status_code >= 400:
            raise self._status_error(operation, response, request_id)
        try:
            body = response.json() if response.content else None
        except ValueError:
            raise self._bad_body(operation, response, request_id, "the body is not valid JSON") from None
        self.check_body(operation, response, body, request_id)
        if model is None:
            return response, None
        try:
            return response, model.model_validate(body)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise self._bad_body(operation, response, request_id, f"{where}: {first['msg']}") from None

    # -- hooks for the platforms --------------------------------------------------------------------
    def error_detail(self, response: httpx.Response) -> tuple[str | None, str | None]:
        """The platform's own error code and message from an error response."""
        try:
            body = response.json()
        except ValueError:
            text = response.text.strip()
            return None, text[:200] or response.reason_phrase
        return None, _flatten_message(body)

    def error_class(self, status: int) -> type[errors.ApiError]:
        """The error class of an HTTP error status (a platform may map a status differently)."""
        return error_class_for(status)

    def check_body(self, operation: str, response: httpx.Response, body: Any, request_id: str | None) -> None:
        """Raise for errors the platform reports inside a 2xx answer (CJ does)."""

    # -- helpers ------------------------------------------------------------------------------------
    def _request_id(self, response: httpx.Response) -> str | None:
        for name in self.request_id_headers:
            value = response.headers.get(name)
            if value:
                return str(value)[:64]
        return None

    def _status_error(
        self, operation: str, response: httpx.Response, request_id: str | None
    ) -> errors.ApiError:
        status = response.status_code
        code, detail = self.error_detail(response)
        cls, hint = self.error_class(status), None
        if cls is errors.AuthenticationError:
            hint = self.auth_hint
        error = cls(
            platform=self.platform,
            operation=operation,
            status=status,
            code=code,
            detail=detail,
            request_id=request_id,
            hint=hint,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
        error.may_have_committed = status not in self.not_processed_statuses and status >= 500
        return error

    def _bad_body(
        self, operation: str, response: httpx.Response, request_id: str | None, why: str
    ) -> errors.ServerError:
        error = errors.ServerError(
            platform=self.platform,
            operation=operation,
            status=response.status_code,
            detail=f"unexpected answer ({why})",
            request_id=request_id,
        )
        error.may_have_committed = True
        return error

    def _transport_error(
        self, operation: str, exc: httpx.TransportError, cls: type[errors.ConnectionError]
    ) -> errors.ConnectionError:
        refused = _certificate_refusal(exc)
        if refused is not None:  # not retried: it fails the same way every time
            error = cls(
                platform=self.platform,
                operation=operation,
                detail=f"the TLS certificate of {httpx.URL(self.base_url).host} was refused ({refused}); "
                "verification cannot be turned off: the endpoint needs a certificate this machine trusts "
                "(a private CA can be added with SSL_CERT_FILE)",
            )
            error.max_retries = 0
            return error
        sent = not isinstance(exc, _NOT_SENT)
        what = type(exc).__name__
        error = cls(
            platform=self.platform,
            operation=operation,
            detail=f"{what} talking to {httpx.URL(self.base_url).host}"
            + (" (the request may have reached the platform)" if sent else ""),
        )
        error.may_have_committed = sent
        return error

    def _should_retry(self, retry_state: RetryCallState, idempotent: bool) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if not isinstance(exc, errors.ApiError):
            return False
        retryable = isinstance(exc, (errors.RateLimitedError, errors.ServerError, errors.ConnectionError))
        if not retryable or (exc.max_retries is not None and retry_state.attempt_number > exc.max_retries):
            return False
        return idempotent or not exc.may_have_committed

    def _wait(self, retry_state: Any) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        backoff = float(_BACKOFF(retry_state))
        if isinstance(exc, errors.ApiError) and exc.retry_after is not None:
            return min(exc.retry_after, MAX_RETRY_AFTER) + backoff * 0.1
        return backoff


_BACKOFF = wait_random_exponential(multiplier=0.25, max=15)


def _certificate_refusal(exc: BaseException) -> str | None:
    """Why certificate verification failed, when that is what broke the connection (httpx wraps the
    ``ssl`` error in its own)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or "certificate verify failed")
        seen = seen.__cause__ or seen.__context__
    return None


def error_class_for(status: int) -> type[errors.ApiError]:
    if status in (401, 403):
        return errors.AuthenticationError
    if status in (404, 410):
        return errors.NotFoundError
    if status == 409:
        return errors.ConflictError
    if status in (429, 434):
        return errors.RateLimitedError
    if status in (400, 422):
        return errors.ApiValidationError
    if status >= 500:
        return errors.ServerError
    return errors.ApiError


def _flatten_message(body: Any, limit: int = 300) -> str | None:
    """A one-line message from the shapes platforms use: a string, a list of strings, or a map of field
    to messages (``{"errors": {"address": ["is invalid"]}}``)."""

    def walk(value: Any, prefix: str = "") -> list[str]:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [f"{prefix}{value}"]
        if isinstance(value, list):
            return [item for entry in value for item in walk(entry, prefix)]
        if isinstance(value, dict):
            for key in ("errors", "error", "message", "msg", "detail"):
                if key in value and len(value) <= 3:
                    return walk(value[key], prefix)
            return [item for key, entry in value.items() for item in walk(entry, f"{prefix}{key}: ")]
        return [f"{prefix}{value}"]

    parts = walk(body)
    if not parts:
        return None
    return redact("; ".join(parts))[:limit]
