"""Client-side pacing under each platform's documented rate limit, shared by the whole process.

The provider host runs up to four RPCs at once and serves every resource of a program, so the bucket
for a store must be process-wide: it is looked up by key (platform + store), never held by a provider.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from pulumi_webhooks._core.errors import OperationTimeoutError


@dataclass(frozen=True)
class RatePolicy:
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``."""

    per_second: float
    burst: int


class TokenBucket:
    """A thread-safe token bucket whose ``acquire`` waits for a token, up to a deadline."""

    def __init__(self, policy: RatePolicy) -> None:
        self.policy = policy
        self._tokens = float(policy.burst)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        """Take a token now or reserve the next one; returns how long the caller must wait."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(
                float(self.policy.burst), self._tokens + (now - self._updated) * self.policy.per_second
            )
            self._updated = now
            self._tokens -= 1.0  # may go negative: a reservation queues callers fairly, in order
            return 0.0 if self._tokens >= 0 else -self._tokens / self.policy.per_second

    def acquire(self, deadline: float | None = None) -> None:
        wait = self._reserve()
        if wait <= 0:
            return
        if deadline is not None and time.monotonic() + wait > deadline:
            with self._lock:
                self._tokens += 1.0  # give the reservation back
            raise OperationTimeoutError(
                "the operation deadline would pass while waiting for the platform's rate limit; "
                "raise pulumi-webhooks:operationTimeout or lower the number of parallel operations"
            )
        time.sleep(wait)


_buckets: dict[str, TokenBucket] = {}
_lock = threading.Lock()


def bucket(key: str, policy: RatePolicy) -> TokenBucket:
    """The process-wide bucket for ``key`` (created on first use)."""
    with _lock:
        found = _buckets.get(key)
        if found is None or found.policy != policy:
            found = _buckets[key] = TokenBucket(policy)
        return found
