"""Process-wide access-token cache: one token request per credential, however many threads ask.

UP42 tokens live five minutes and CJ's token endpoint is rate limited, so tokens are fetched once per
process (single flight: concurrent callers wait for the one fetch) and renewed ahead of expiry. Keys are
hashes of the credentials, never the credentials themselves.

Token requests have one layer of retries, their own: each kind of failure (a lost answer, a 5xx, a
throttled answer …) is tried again once, and a credential gets at most :data:`MAX_FAILED_TOKEN_REQUESTS`
failed token requests per process run (:data:`failed_token_requests`); after that the last failure is
reported again without a request. The API request that needed the token never repeats a failed token
request (``_core/http.py``), so one lost answer costs one more token request, not 3 x 8.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_webhooks._core import errors
from pulumi_webhooks._core.deadline import DEADLINE_PASSED, current_deadline
from pulumi_webhooks._core.redact import register_secret

MAX_FAILED_TOKEN_REQUESTS = 3


@dataclass(frozen=True)
class Token:
    """An access token and when it expires (``time.time()`` seconds); ``extra`` holds what came with
    it (a refresh token, CJ's openId). ``repr`` never shows the values."""

    value: str = field(repr=False)
    expires_at: float
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        register_secret(self.value)

    def fresh(self, margin: float) -> bool:
        return time.time() + margin < self.expires_at


def credential_key(*parts: str) -> str:
    """A cache key for a credential: a hash, so that no secret is ever a key or a file name."""
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return digest[:32]


class TokenCache:
    """Tokens by credential key, fetched at most once at a time per key."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def peek(self, key: str) -> Token | None:
        with self._guard:
            return self._tokens.get(key)

    def get(self, key: str, fetch: Callable[[Token | None], Token], *, margin: float) -> Token:
        """The cached token if it is fresh for ``margin`` more seconds, else ``fetch(previous)``'s."""
        token = self.peek(key)
        if token is not None and token.fresh(margin):
            return token
        lock = self._lock(key)
        deadline = current_deadline()
        # Single flight: the first caller fetches, the others reuse its token; waiting for that fetch
        # counts against the waiter's own deadline (the fetch runs under the first caller's).
        wait = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        if not lock.acquire(timeout=wait):
            raise errors.OperationTimeoutError(
                f"{DEADLINE_PASSED} while another operation of this process was getting the token this one "
                "needs; raise pulumi-webhooks:operationTimeout"
            )
        try:
            token = self.peek(key)
            if token is not None and token.fresh(margin):
                return token
            token = fetch(token)
            with self._guard:
                self._tokens[key] = token
            return token
        finally:
            lock.release()

    def invalidate(self, key: str, rejected: str) -> None:
        """Forget the token the platform rejected (unless another thread already replaced it)."""
        with self._guard:
            current = self._tokens.get(key)
            if current is not None and current.value == rejected:
                del self._tokens[key]

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()


tokens = TokenCache()


class FailedTokenRequests:
    """How many token requests failed, per credential key, in this process (thread-safe)."""

    def __init__(self, limit: int = MAX_FAILED_TOKEN_REQUESTS) -> None:
        self.limit = limit
        self._failed: dict[str, int] = {}
        self._last: dict[str, errors.ApiError] = {}
        self._lock = threading.Lock()

    def budget(self, key: str) -> TokenRequestBudget:
        """The ``_core.http.AttemptBudget`` of one credential's token requests."""
        return TokenRequestBudget(self, key)

    def count(self, key: str) -> int:
        with self._lock:
            return self._failed.get(key, 0)

    def take(self, key: str) -> None:
        with self._lock:
            failed, last = self._failed.get(key, 0), self._last.get(key)
        if failed < self.limit or last is None:
            return
        again = type(last)(
            platform=last.platform,
            operation=last.operation,
            status=last.status,
            code=last.code,
            detail=f"not requested again: {failed} token requests failed in this run, the most one run "
            f"sends; the last one: {last.detail or 'no detail'}",
            request_id=last.request_id,
            hint=last.hint,
        )
        again.max_retries = 0
        raise again

    def failed(self, key: str, error: errors.ApiError) -> None:
        with self._lock:
            self._failed[key] = self._failed.get(key, 0) + 1
            self._last[key] = error

    def clear(self) -> None:
        with self._lock:
            self._failed.clear()
            self._last.clear()


@dataclass(frozen=True)
class TokenRequestBudget:
    """One credential's share of :class:`FailedTokenRequests`."""

    requests: FailedTokenRequests
    key: str

    def take(self) -> None:
        self.requests.take(self.key)

    def failed(self, error: errors.ApiError) -> None:
        self.requests.failed(self.key, error)


failed_token_requests = FailedTokenRequests()
