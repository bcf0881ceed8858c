"""How to call a platform: one pooled client per endpoint, pacing, retries, and error mapping.

Per-platform clients (``shopline/api.py`` …) say *what* to call; this module says *how*. Rules:
- one ``httpx.Client`` per origin for the whole process, created lazily, shared by every thread (and
  by every credential: it keeps no cookies, so nothing one answer sets reaches another's request);
- every request waits for the store's rate-limit bucket first;
- 429, 5xx, transport errors and unreadable bodies are retried with exponential backoff and jitter,
  honouring ``Retry-After``, bounded by an attempt count and by the operation's deadline;
- a write that may have reached the platform (the answer was lost) is *not* retried blindly: the
  error says ``may_have_committed`` and the provider looks the subscription up first;
- the operation deadline bounds everything, body reads included: every socket operation gets at most
  the time left (``_core/sockets.py``), and answers are streamed with the clock checked per chunk;
- answers are read in chunks up to a cap (:data:`MAX_ANSWER_BYTES`; an error answer's message is read
  from its first :data:`MAX_ERROR_BODY_BYTES`): a larger answer fails at once and is not asked again;
- the client asks for no content coding (``Accept-Encoding: identity``); a gzip or deflate answer is
  decoded all the same (with zlib, each coding bounded by the cap: a compression bomb stops at the cap),
  and any other coding (br, zstd …) is refused;
- only 2xx is success: any other status a call does not allow is an error (a redirect names where it
  points, and is not followed: the base URL is the user's to change);
- an answer that cannot be read (a broken encoding, JSON that is not JSON or nests too deeply for the
  parser) is a :class:`~pulumi_webhooks.errors.ServerError` that says a write may have gone through;
- every retry and wait is logged at INFO ("SHOPLINE create webhook: answered 429, waiting 2.0 s, try 2
  of 8"), which reaches the Pulumi engine's log (``_core/engine_log.py``);
- a connection error names its cause: DNS, refused, TLS, connect or read timeout;
- an answer's wire shape is named by a function called once the answer is in (``model=lambda: wire.X``),
  and the module of the shapes (:attr:`ApiClient.wire_module`: pydantic with them, ~60 ms of CPU) loads
  on another thread while the process's first request is on the wire, not before it is sent.
"""

from __future__ import annotations

import email.utils
import functools
import http.cookiejar
import socket
import ssl
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from pulumi_webhooks import __version__
from pulumi_webhooks._core import deadline as _deadline
from pulumi_webhooks._core import errors, settings
from pulumi_webhooks._core.deadline import DEADLINE_PASSED
from pulumi_webhooks._core.lazy import import_in_background
from pulumi_webhooks._core.pacing import RatePolicy, bucket
from pulumi_webhooks._core.redact import clip, get_logger

if TYPE_CHECKING:
    import pydantic

log = get_logger("pulumi_webhooks.http")

Model = TypeVar("Model", bound="pydantic.BaseModel")
# The answer's wire shape, named by a function called once the answer is in: the class (and pydantic)
# need not be loaded before the request is sent.
Shape = Callable[[], type[Model]]

USER_AGENT = f"pulumi-webhooks/{__version__} (+https://github.com/pulumi-webhooks)"
CONNECT_TIMEOUT = 10.0
DEFAULT_TIMEOUT = httpx.Timeout(connect=CONNECT_TIMEOUT, read=30.0, write=30.0, pool=30.0)
MAX_RETRY_AFTER = 120.0  # a longer Retry-After is capped: the operation deadline still bounds it
# No answer these APIs give comes near 8 MiB (a listing page is a few KiB): more is a broken proxy or a
# hostile server, and it is refused before it can fill memory.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
MAX_ERROR_BODY_BYTES = 64 * 1024  # of an error answer: enough for any message
# Content codings a server may send although none was asked for, undone with zlib (wbits: the framing).
_ZLIB_CODINGS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
MAX_CODINGS = 2  # "gzip, gzip" is a proxy compressing again; more is a bomb, not a misconfiguration
_PIECE = 64 * 1024  # the most one call of a decoder yields, whatever the input expands to
LOGGED_PACE_WAIT = 1.0  # a client-side rate-limit wait this long is worth a line at INFO

_clients: dict[str, httpx.Client] = {}
_clients_lock = threading.Lock()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The process's one verifying TLS context (certifi's roots, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``).
    Loading the roots costs ~25 ms of CPU: done once per process, not once per client."""
    return httpx.create_ssl_context()


@functools.cache
def _no_tls_context() -> ssl.SSLContext:
    """For a plain-http origin (the sandbox), which never speaks TLS (its client follows no redirect):
    a context that trusts nothing, so that TLS there would fail rather than go unverified."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that keeps nothing. One client serves every credential of an origin (two apps on one
    store, two UP42 accounts), so a cookie set in answer to one credential must never ride along with
    another's request; and these APIs authenticate by header, never by cookie."""
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


@functools.lru_cache(maxsize=1024)
def _origin(base_url: str) -> tuple[str, str]:
    """``base_url``'s origin and scheme (parsed once: every request asks)."""
    url = httpx.URL(base_url)
    return f"{url.scheme}://{url.netloc.decode()}", url.scheme


def shared_client(base_url: str) -> httpx.Client:
    """The process-wide client for ``base_url``'s origin (connections are reused across resources)."""
    origin, scheme = _origin(base_url)
    with _clients_lock:
        client = _clients.get(origin)
        if client is None:
            client = _clients[origin] = httpx.Client(
                verify=_tls_context() if scheme == "https" else _no_tls_context(),
                timeout=DEFAULT_TIMEOUT,
                limits=httpx.Limits(max_connections=16, max_keepalive_connections=8, keepalive_expiry=30),
                # No compression: answers are a few KiB, and a compressed one can expand past any cap
                # in one step. A server that compresses anyway is decoded within the cap (_read_answer).
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
                cookies=_no_cookies(),
                follow_redirects=False,
            )
            from pulumi_webhooks._core.sockets import bound_by_deadline  # loads httpcore: not at import

            bound_by_deadline(client)
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


@functools.cache  # one callback per module, not one per request until the module is in
def _load_once_sending(module: str) -> Callable[[str, Mapping[str, Any]], None]:
    """An httpcore ``trace`` callback that starts importing ``module`` on another thread when the
    request's headers go out: the connection is up and the client's own modules are loaded by then (an
    import started earlier contends with them and delays the request), and the round trip's wait covers
    most of it."""

    def trace(event: str, _info: Mapping[str, Any]) -> None:
        if event.endswith(".send_request_headers.started"):
            import_in_background(module)

    return trace


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


class AttemptBudget(Protocol):
    """A process-wide allowance of requests that may fail (token endpoints: ``_core/tokens.py``)."""

    def take(self) -> None:
        """Raise (an ``ApiError`` that is not retried) when no more requests may be sent."""
        ...

    def failed(self, error: errors.ApiError) -> None:
        """Count a request that failed."""
        ...


class ApiClient:
    """Base client for one platform endpoint. Subclasses set the class attributes and may override
    :meth:`error_detail` (how the platform spells an error) and :meth:`check_body` (errors inside a
    200 answer)."""

    platform: ClassVar[str]
    request_id_headers: ClassVar[tuple[str, ...]] = ("x-request-id",)
    max_attempts: ClassVar[int] = 8
    # Token endpoints: each kind of failure (lost answer, 5xx, throttled …) is tried again once at most.
    retry_each_failure_once: ClassVar[bool] = False
    max_answer_bytes: ClassVar[int] = MAX_ANSWER_BYTES
    # Statuses that mean "not processed": safe to retry even for a create.
    not_processed_statuses: ClassVar[frozenset[int]] = frozenset({429, 503})
    # The module of the platform's pydantic wire shapes, loaded on another thread while the first request
    # is on the wire (the shapes are named by functions, ``model=lambda: wire.X``, called once it is in).
    wire_module: ClassVar[str | None] = None

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        pace_key: str | None = None,
        rate: RatePolicy | None = None,
        auth: Auth | None = None,
        budget: AttemptBudget | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})
        self._auth = auth
        self._budget = budget
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
        model: Shape[Model] | None = None,
        idempotent: bool | None = None,
        allow_statuses: frozenset[int] = frozenset(),
    ) -> tuple[httpx.Response, Model | None]:
        """Send one logical request, retrying as the rules above say. Returns the final response and
        the body parsed into the class ``model()`` names (None when no model is given or the status is
        allowed)."""
        if idempotent is None:
            idempotent = method.upper() != "POST"
        started = time.monotonic()
        at_deadline = _StopAtDeadline()
        seen: set[type[errors.ApiError]] = set()
        waited_on: errors.ApiError | None = None  # the answer the latest wait followed

        def before_sleep(state: Any) -> None:
            nonlocal waited_on
            failure = state.outcome.exception() if state.outcome else None
            if isinstance(failure, errors.ApiError):
                waited_on = failure
            self._log_retry(operation, state)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts) | at_deadline | stop_before_delay(3600),
            wait=self._wait,
            retry=lambda state: self._should_retry(state, idempotent, seen),
            before_sleep=before_sleep,
            reraise=True,
        )
        renewed = False
        while True:
            try:
                for attempt in retrying:
                    with attempt:
                        return self._attempt(
                            lambda: self._send(
                                operation, method, path, json, data, params, model, allow_statuses
                            )
                        )
            except errors.AuthenticationError as exc:
                # A token can expire or be revoked mid-run: renew it once and try again.
                if renewed or self._auth is None or not self._auth.renew():
                    raise
                log.info(
                    "%s %s: the platform refused the credentials (%s); renewed them, trying once more",
                    self.platform,
                    operation,
                    _answered(exc),
                )
                renewed = True
            except errors.OperationTimeoutError as timeout:
                # The deadline passed after a wait, before the next try was sent: report the answer that
                # made us wait rather than a bare "ran out of time", and what ended the time if it says
                # more than that (a token-cache lock another process held).
                if waited_on is None:
                    raise
                sent = retrying.statistics.get("attempt_number", 1) - 1  # the current try was not sent
                waited_on.gave_up(sent, time.monotonic() - started, out_of_time=True)
                if not isinstance(timeout, _deadline.TimeSpent):
                    errors.with_note(waited_on, f"then {timeout.message}")
                raise waited_on from None
            except errors.ApiError as exc:
                attempts = retrying.statistics.get("attempt_number", 1)
                out_of_time = at_deadline.fired or exc.out_of_time
                if attempts > 1 or out_of_time:
                    exc.gave_up(attempts, time.monotonic() - started, out_of_time=out_of_time)
                raise
        raise AssertionError("unreachable")

    # -- one try ------------------------------------------------------------------------------------
    def _attempt(
        self, send: Callable[[], tuple[httpx.Response, Model | None]]
    ) -> tuple[httpx.Response, Model | None]:
        """One `send()` within the attempt budget; frees the rate-limit slot `send` took."""
        try:
            if self._budget is None:
                return send()
            self._budget.take()
            try:
                return send()
            except errors.ApiError as exc:
                self._budget.failed(exc)
                raise
        finally:
            if self._bucket is not None:  # answered or failed: the platform has it by now, if ever
                self._bucket.release()

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        json: Any,
        data: Mapping[str, str] | None,
        params: Mapping[str, str | int] | None,
        model: Shape[Model] | None,
        allow_statuses: frozenset[int],
    ) -> tuple[httpx.Response, Model | None]:
        _deadline.remaining(f"{self.platform} {operation}")
        if self._bucket is not None:
            paced = time.monotonic()
            try:
                self._bucket.acquire(_deadline.current_deadline())
            except errors.OperationTimeoutError as exc:  # say which platform and call were waiting
                raise errors.OperationTimeoutError(f"{self.platform} {operation}: {exc.message}") from None
            waited = time.monotonic() - paced
            if waited >= LOGGED_PACE_WAIT:
                log.info("%s %s: waited %.1f s for the rate limit", self.platform, operation, waited)
        headers = self._request_headers()
        left = _deadline.remaining(f"{self.platform} {operation}")  # the token may have taken a while
        read = settings.request_timeout() if left is None else min(settings.request_timeout(), left)
        timeout = httpx.Timeout(read, connect=min(CONNECT_TIMEOUT, read))
        url = f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        client = shared_client(self.base_url)
        started = time.monotonic()
        try:
            request = client.build_request(
                method, url, json=json, data=data, params=params, headers=headers, timeout=timeout
            )
            if self.wire_module is not None and self.wire_module not in sys.modules:
                request.extensions["trace"] = _load_once_sending(self.wire_module)
            streamed = client.send(request, stream=True)
            try:
                response = self._read_answer(operation, streamed)
            finally:
                streamed.close()
        except httpx.TimeoutException as exc:
            raise self._transport_error(operation, exc, errors.TimeoutError, timeout) from None
        except httpx.TransportError as exc:
            raise self._transport_error(operation, exc, errors.ConnectionError, timeout) from None
        request_id = self._request_id(response)
        log.debug(
            "%s %s %s -> %d (request id %s, %.0f ms)",
            self.platform,
            method,
            request.url.path,
            response.status_code,
            request_id,
            (time.monotonic() - started) * 1000,
        )
        return self._understood(operation, response, request_id, model, allow_statuses)

    def _understood(
        self,
        operation: str,
        response: httpx.Response,
        request_id: str | None,
        model: Shape[Model] | None,
        allow_statuses: frozenset[int],
    ) -> tuple[httpx.Response, Model | None]:
        """The answer read: an error for its status, or its body checked and parsed into ``model()``."""
        if response.status_code in allow_statuses:
            return response, None
        if response.status_code >= 400:
            raise self._status_error(operation, response, request_id)
        if not 200 <= response.status_code < 300:  # 1xx, 3xx: the client follows no redirect
            raise self._not_success(operation, response, request_id)
        try:
            body = response.json() if response.content else None
        except _TooDeep:
            raise self._bad_body(operation, response, request_id, _TooDeep.why) from None
        except ValueError:
            raise self._bad_body(operation, response, request_id, "the body is not valid JSON") from None
        self.check_body(operation, response, body, request_id)
        if model is None:
            return response, None
        shape = model()
        import pydantic  # loaded with the shape's module: not at this module's import

        try:
            return response, shape.model_validate(body)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise self._bad_body(operation, response, request_id, f"{where}: {first['msg']}") from None

    def _request_headers(self) -> Mapping[str, str]:
        if self._auth is None:
            return self._headers
        try:
            return {**self._headers, **self._auth.headers()}
        except errors.ApiError as exc:
            # The token request made the tries its rules allow (_core/tokens.py); repeating it from this
            # loop would multiply them (3 token requests x 8 tries of this one).
            exc.max_retries = 0
            raise

    def _read_answer(self, operation: str, streamed: httpx.Response) -> httpx.Response:
        """The streamed answer read into memory, chunk by chunk: at most :attr:`max_answer_bytes` (an
        error answer: its first :data:`MAX_ERROR_BODY_BYTES`, enough for the message), and never past
        the operation deadline. The cap counts the bytes received and, for an answer the server
        compressed anyway, what each coding decodes to: reading stops at the cap, not after it."""
        success = 200 <= streamed.status_code < 300
        cap = self.max_answer_bytes if success else MAX_ERROR_BODY_BYTES
        declared = _content_length(streamed)
        if success and declared is not None and declared > cap:
            raise self._too_large(operation, streamed, f"{declared} bytes announced")
        if streamed.is_stream_consumed:  # built in memory, read and decoded (httpx.MockTransport)
            source: Iterable[bytes] = (streamed.content,)
            codings: list[str] = []
        else:
            source, codings = streamed.iter_raw(), _codings(streamed)
        decodable = len(codings) <= MAX_CODINGS and all(c in _ZLIB_CODINGS for c in codings)
        if success and not decodable:
            raise self._undecodable(operation, streamed, codings)
        deadline = _deadline.current_deadline()
        received = 0

        def on_the_wire() -> Iterator[bytes]:
            nonlocal received
            for chunk in source:
                if deadline is not None and time.monotonic() >= deadline:
                    raise httpx.ReadTimeout(DEADLINE_PASSED, request=streamed.request)
                if received + len(chunk) > cap:
                    if success:
                        raise self._too_large(operation, streamed, f"more than {_mib(cap)} received")
                    yield chunk[: cap - received]
                    return
                received += len(chunk)
                yield chunk

        # An error answer in a coding that cannot be decoded: its status is what matters, not its body.
        decoders = [_Decoder(c) for c in reversed(codings)] if decodable else []
        body: Iterable[bytes] = on_the_wire() if decodable else ()
        for decoder in decoders:  # the last coding applied is undone first
            body = decoder.decode(body)
        chunks: list[bytes] = []
        size = 0
        named = ", ".join(codings)
        try:
            for piece in body:
                if size + len(piece) > cap:
                    if not success:
                        chunks.append(piece[: cap - size])
                        break
                    raise self._too_large(
                        operation,
                        streamed,
                        f"more than {_mib(cap)} once decoded ({named}) from the first "
                        f"{received} bytes received",
                    )
                size += len(piece)
                chunks.append(piece)
        except zlib.error:
            if success:
                raise self._bad_body(
                    operation,
                    streamed,
                    ApiClient._request_id(self, streamed),
                    f"its {named} encoding is broken",
                ) from None
            # An error answer: keep what was decoded; its status says what matters.
        if success and not all(decoder.complete for decoder in decoders):
            raise self._bad_body(
                operation,
                streamed,
                ApiClient._request_id(self, streamed),
                f"the body ends before its {named} data does",
            )
        # The body is decoded already: the copy must not claim an encoding or a length it no longer has.
        kept = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in _BODY_HEADERS]
        return _Answer(
            streamed.status_code,
            headers=kept,
            content=b"".join(chunks),
            request=streamed.request,
            extensions={
                k: v for k, v in streamed.extensions.items() if k in ("reason_phrase", "http_version")
            },
        )

    # -- hooks for the platforms --------------------------------------------------------------------
    def credentials_hint(self) -> str:
        """What to check when the platform refuses the credentials: a platform names its settings as
        the running provider reads them (stack config, or the native plugin's provider config)."""
        return "check the credentials"

    def error_detail(self, response: httpx.Response) -> tuple[str | None, str | None]:
        """The platform's own error code and message from an error response."""
        try:
            body = response.json()
        except _TooDeep:
            return None, _TooDeep.why
        except ValueError:
            return None, clip(response.text.strip(), 200) or response.reason_phrase  # redacted, then cut
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
                return clip(str(value), 64)  # a header a server chose: redacted, then cut
        return None

    def _status_error(
        self, operation: str, response: httpx.Response, request_id: str | None
    ) -> errors.ApiError:
        status = response.status_code
        code, detail = self.error_detail(response)
        cls, hint = self.error_class(status), None
        if cls is errors.AuthenticationError:
            hint = self.credentials_hint()
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

    def _too_large(self, operation: str, streamed: httpx.Response, size: str) -> errors.ServerError:
        """``size``: what was seen ("300000000 bytes announced", "more than 8 MiB received" …)."""
        return self._unread(
            operation,
            streamed,
            f"the answer is too large ({size}; at most {_mib(self.max_answer_bytes)} is read); "
            "stopped reading, not asked again",
        )

    def _undecodable(
        self, operation: str, streamed: httpx.Response, codings: list[str]
    ) -> errors.ServerError:
        named = clip(", ".join(codings), 80)  # a header the server chose: redacted, then cut
        return self._unread(
            operation,
            streamed,
            f"the answer is encoded with {named}, although no encoding was asked for; only gzip and "
            f"deflate are decoded, at most {MAX_CODINGS} deep; not asked again",
        )

    def _unread(self, operation: str, streamed: httpx.Response, detail: str) -> errors.ServerError:
        """A successful answer refused before its body was read: the same request gets the same answer."""
        error = errors.ServerError(
            platform=self.platform,
            operation=operation,
            status=streamed.status_code,
            detail=detail,
            request_id=ApiClient._request_id(self, streamed),  # from headers: the body is not read
        )
        error.may_have_committed = True  # the platform did answer: a write went through
        error.max_retries = 0  # the same request gets the same answer
        return error

    def _not_success(
        self, operation: str, response: httpx.Response, request_id: str | None
    ) -> errors.ServerError:
        """An answer that is neither a success nor an error (1xx, 3xx). A redirect says where to (the
        scheme and host, never the path or query), and is not followed: the endpoint is the base URL
        setting's to change, and a redirected request was not carried out (except 303, which points to
        the result of one that was)."""
        status = response.status_code
        carried_out = status not in _NOT_CARRIED_OUT
        outcome = (
            "the request may have been carried out" if carried_out else "the request was not carried out"
        )
        if status in _REDIRECTS:
            what = (
                f"redirected to {_location(response)}, which is not followed ({outcome}); check the base "
                "URL setting"
            )
        else:
            what = f"neither a success nor an error ({clip(response.reason_phrase, 40)}; {outcome})"
        error = errors.ServerError(
            platform=self.platform,
            operation=operation,
            status=status,
            detail=what,
            request_id=request_id,
        )
        error.may_have_committed = carried_out
        error.max_retries = 0  # the same request gets the same answer
        return error

    def _transport_error(
        self,
        operation: str,
        exc: httpx.TransportError,
        cls: type[errors.ConnectionError],
        timeout: httpx.Timeout,
    ) -> errors.ConnectionError:
        sent = not isinstance(exc, _NOT_SENT)
        cause, max_retries = self._connection_cause(exc, timeout)
        error = cls(
            platform=self.platform,
            operation=operation,
            detail=cause + (" (the request may have reached the platform)" if sent else ""),
        )
        error.may_have_committed = sent
        error.max_retries = max_retries
        error.out_of_time = str(exc) == DEADLINE_PASSED  # request() renders it with the elapsed time
        return error

    def _connection_cause(self, exc: httpx.TransportError, timeout: httpx.Timeout) -> tuple[str, int | None]:
        """What broke the connection, in words, and how often it is worth trying again (None: the
        usual attempt count)."""
        url = httpx.URL(self.base_url)
        host, port = url.host, url.port or (443 if url.scheme == "https" else 80)
        from pulumi_webhooks._core.sockets import ResolveTimeout  # loaded with the first client

        resolving = _caused_by(exc, ResolveTimeout)
        if resolving is not None:
            if resolving.deadline:
                return f"the operation deadline passed while resolving host {host} (DNS)", 0
            return f"resolving host {host} (DNS) took longer than {timeout.connect or 0:.1f} s", None
        if str(exc) == DEADLINE_PASSED:
            return f"the operation deadline passed while talking to {host}", 0
        refused = _certificate_refusal(exc)
        if refused is not None:  # fails the same way every time
            return (
                f"the TLS certificate of {host} was refused ({refused}); verification cannot be turned "
                "off: the endpoint needs a certificate this machine trusts (a private CA can be added "
                "with SSL_CERT_FILE)"
            ), 0
        dns = _resolve_failure(exc)
        if dns is not None:
            permanent = dns.errno in _NO_SUCH_NAME
            reason = dns.strerror or "resolution failed"
            # "No such name" can be a resolver's hiccup, but rarely twice: one more try is enough.
            return f"could not resolve host {host} (DNS: {reason}); check the base URL setting", (
                1 if permanent else None
            )
        if _caused_by(exc, ConnectionRefusedError) is not None:
            return f"connection refused by {host}:{port} (nothing listens there)", None
        tls = _caused_by(exc, ssl.SSLError)
        if tls is not None:
            return f"TLS handshake with {host} failed ({tls.reason or type(tls).__name__})", 1
        if isinstance(exc, httpx.ConnectTimeout):
            return f"connecting to {host}:{port} timed out after {timeout.connect or 0:.1f} s", None
        if isinstance(exc, httpx.ReadTimeout):
            return (
                f"{host} did not answer within {timeout.read or 0:.1f} s (read timeout; "
                "pulumi-webhooks:requestTimeout)"
            ), None
        if isinstance(exc, httpx.WriteTimeout):
            return f"sending the request to {host} timed out after {timeout.write or 0:.1f} s", None
        if isinstance(exc, httpx.PoolTimeout):
            return f"no free connection to {host} within {timeout.pool or 0:.1f} s", None
        if isinstance(exc, httpx.RemoteProtocolError):
            return f"{host} closed the connection without a complete answer", None
        if _caused_by(exc, ConnectionResetError) is not None:
            return f"the connection to {host} was reset", None
        return f"{type(exc).__name__} talking to {host}", None

    def _should_retry(
        self, retry_state: RetryCallState, idempotent: bool, seen: set[type[errors.ApiError]]
    ) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if not isinstance(exc, errors.ApiError):
            return False
        retryable = isinstance(exc, (errors.RateLimitedError, errors.ServerError, errors.ConnectionError))
        if not retryable or (exc.max_retries is not None and retry_state.attempt_number > exc.max_retries):
            return False
        if not (idempotent or not exc.may_have_committed):
            return False
        if self.retry_each_failure_once:
            if type(exc) in seen:
                return False
            seen.add(type(exc))
        return True

    def _log_retry(self, operation: str, retry_state: RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        most = self.max_attempts
        if isinstance(exc, errors.ApiError) and exc.max_retries is not None:
            most = min(most, exc.max_retries + 1)  # this kind of failure is tried again only so often
        log.info(
            "%s %s: %s, waiting %.1f s, try %d of %d",
            self.platform,
            operation,
            _answered(exc) if isinstance(exc, errors.ApiError) else type(exc).__name__,
            retry_state.upcoming_sleep,
            retry_state.attempt_number + 1,
            most,
        )

    def _wait(self, retry_state: Any) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        backoff = float(_BACKOFF(retry_state))
        if isinstance(exc, errors.ApiError) and exc.retry_after is not None:
            return min(exc.retry_after, MAX_RETRY_AFTER) + backoff * 0.1
        return backoff


_BACKOFF = wait_random_exponential(multiplier=0.25, max=15)


E = TypeVar("E", bound=BaseException)

# getaddrinfo's "this name does not exist" (as opposed to "the resolver could not be asked").
_NO_SUCH_NAME = frozenset(
    getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)
)
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
_REDIRECTS = frozenset({300, 301, 302, 303, 305, 307, 308})
# Answers that say the request was not carried out: a redirect (but 303 See Other, the answer to one that
# was) and 304 Not Modified. Any other 1xx/3xx may follow a write that went through.
_NOT_CARRIED_OUT = (_REDIRECTS - {303}) | {304}


class _TooDeep(ValueError):
    """JSON nested deeper than the parser recurses: a malformed body like any other to every caller
    (they catch ValueError), not a RecursionError."""

    why = "the JSON is nested too deeply to read"


class _Answer(httpx.Response):
    """An answer read into memory (``_read_answer``), whose ``json()`` fails as for any malformed body,
    with a ``ValueError``, on JSON nested too deeply (``[`` a hundred thousand times)."""

    def json(self, **kwargs: Any) -> Any:
        try:
            return super().json(**kwargs)
        except RecursionError:
            raise _TooDeep(_TooDeep.why) from None


class _Decoder:
    """One gzip or deflate coding undone with zlib, never more than :data:`_PIECE` bytes per step, so
    that a reader counting the pieces stops a compression bomb at its cap."""

    def __init__(self, coding: str) -> None:
        self._zlib = zlib.decompressobj(_ZLIB_CODINGS[coding])
        self._raw_deflate_possible = coding == "deflate"

    @property
    def complete(self) -> bool:
        """The coded stream ended (a truncated one did not)."""
        return self._zlib.eof

    def decode(self, coded: Iterable[bytes]) -> Iterator[bytes]:
        """What ``coded`` decodes to, piece by piece (``zlib.error`` on a broken stream). Bytes after
        the end of the stream are ignored."""
        for chunk in coded:
            data = chunk
            while not self._zlib.eof:
                piece = self._step(data)
                if piece:
                    yield piece
                data = self._zlib.unconsumed_tail
                if not data and len(piece) < _PIECE:
                    break  # all of the input is in, and no output is pending

    def _step(self, data: bytes) -> bytes:
        if not self._raw_deflate_possible:
            return self._zlib.decompress(data, _PIECE)
        self._raw_deflate_possible = False
        try:
            return self._zlib.decompress(data, _PIECE)
        except zlib.error:  # "deflate" sent without its zlib header (raw deflate): some servers do
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._zlib.decompress(data, _PIECE)


def _caused_by(exc: BaseException, kind: type[E]) -> E | None:
    """The first ``kind`` in the chain of causes (httpx wraps the socket and ssl errors in its own)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _resolve_failure(exc: BaseException) -> socket.gaierror | None:
    return _caused_by(exc, socket.gaierror)


def _certificate_refusal(exc: BaseException) -> str | None:
    """Why certificate verification failed, when that is what broke the connection."""
    refused = _caused_by(exc, ssl.SSLCertVerificationError)
    if refused is None:
        return None
    return str(refused.verify_message or refused.reason or "certificate verify failed")


def _answered(exc: errors.ApiError) -> str:
    """What went wrong, for a log line: "answered 429", "answered code 1600200 (HTTP 200)", or the
    connection's cause."""
    if exc.status is None:
        return exc.detail or type(exc).__name__
    if exc.code and exc.status < 400:
        return f"answered code {exc.code} (HTTP {exc.status})"
    return f"answered {exc.status}" + (f" (code {exc.code})" if exc.code else "")


def _codings(response: httpx.Response) -> list[str]:
    """The answer's content codings, in the order the server applied them (``identity`` left out)."""
    named = (c.strip().lower() for c in response.headers.get_list("content-encoding", split_commas=True))
    return [c for c in named if c not in ("", "identity")]


def _location(response: httpx.Response) -> str:
    """Where a redirect points: its scheme and host (never a path or a query, which may carry a token),
    redacted and cut like any text a server chose."""
    location = response.headers.get("location")
    if not location:
        return "nowhere (no Location)"
    try:
        target = response.request.url.join(location)
    except httpx.InvalidURL:
        return "an unreadable Location"
    return clip(f"{target.scheme}://{target.netloc.decode('ascii', 'replace')}", 100)


def _content_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB" if size >= 1024 * 1024 else f"{size / 1024:g} KiB"


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


_MESSAGE_KEYS = ("errors", "error", "message", "msg", "detail")


def _flatten_message(body: Any, limit: int = 300) -> str | None:
    """A one-line message from the shapes platforms use: a string, a list of strings, or a map of field
    to messages (``{"errors": {"address": ["is invalid"]}}``). Walked with a stack of its own, not by
    recursion: a body nested hundreds deep is a message like any other (and stops once ``limit`` is
    filled)."""
    parts: list[str] = []
    size = 0
    todo: list[tuple[Any, str]] = [(body, "")]  # depth first, in the body's order
    while todo and size <= limit:
        value, prefix = todo.pop()
        if value is None or value == "":
            continue
        if isinstance(value, list):
            todo.extend((entry, prefix) for entry in reversed(value))
        elif isinstance(value, dict):
            inner = next((k for k in _MESSAGE_KEYS if k in value), None) if len(value) <= 3 else None
            if inner is not None:
                todo.append((value[inner], prefix))
            else:
                todo.extend((entry, f"{prefix}{key}: ") for key, entry in reversed(value.items()))
        else:
            parts.append(f"{prefix}{value}")
            size += len(parts[-1]) + 2
    if not parts:
        return None
    return clip("; ".join(parts), limit)  # redacted before it is cut
