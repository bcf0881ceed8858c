"""Client-side pacing under each platform's documented rate limit, shared by the whole process.

The provider host runs up to four RPCs at once and serves every resource of a program, so the bucket
for a store must be process-wide: it is looked up by key (platform + store), never held by a provider.

The bucket is the platform's own (the documented size and rate, burst = bucket), kept the way the
platform keeps it, but counted conservatively so that arrival jitter cannot overflow it: the platform
charges a request when it arrives, some time between our sending it and our reading its answer, so a
request we let through counts in full, undrained, while it is in flight, and drains only from when its
answer came back (the latest moment it can have arrived). The cost is about one latency over a whole
run; the gain is that no request is answered 429 however late the first ones arrive.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

from pulumi_webhooks._core.errors import OperationTimeoutError


@dataclass(frozen=True)
class RatePolicy:
    """A leaky bucket: at most ``burst`` requests in it, draining at ``per_second``."""

    per_second: float
    burst: int


class TokenBucket:
    """A thread-safe bucket: ``acquire`` waits (first come, first served) until a request fits, up to a
    deadline; ``release`` says that the calling thread's request was answered or failed."""

    def __init__(self, policy: RatePolicy) -> None:
        self.policy = policy
        self._level = 0.0  # answered requests still in the platform's bucket (drains at per_second)
        self._updated = time.monotonic()
        self._in_flight: set[int] = set()  # threads whose request is out (one each: clients are sync)
        self._queue: collections.deque[object] = collections.deque()
        self._cond = threading.Condition()

    def _drain(self, now: float) -> None:
        self._level = max(0.0, self._level - (now - self._updated) * self.policy.per_second)
        self._updated = now

    def _answered(self, thread: int) -> None:
        if thread in self._in_flight:
            self._in_flight.discard(thread)
            self._drain(time.monotonic())  # up to now first: the answer drains only from now on
            self._level += 1.0
            self._cond.notify_all()

    def _excess(self, now: float) -> float:
        """How many requests too many the bucket would hold with one more (≤ 0: it fits now)."""
        self._drain(now)
        return self._level + len(self._in_flight) + 1 - self.policy.burst

    def acquire(self, deadline: float | None = None) -> None:
        thread = threading.get_ident()
        ticket = object()
        with self._cond:
            self._answered(thread)  # a request of this thread that never called release (not sent)
            self._queue.append(ticket)
            try:
                while True:
                    now = time.monotonic()
                    excess = self._excess(now)
                    ahead = self._queue.index(ticket)
                    if ahead == 0 and excess <= 0:
                        self._in_flight.add(thread)
                        return
                    # At least this long: the excess and everyone ahead must drain first.
                    least = (max(excess, 0.0) + ahead) / self.policy.per_second
                    if deadline is not None and now + least > deadline:
                        raise _out_of_time(passed=now >= deadline)
                    wait: float | None
                    if ahead:
                        wait = None  # woken when the queue moves
                    elif excess <= self._level:
                        wait = excess / self.policy.per_second
                    else:  # more in flight than can drain: wait for an answer (release wakes us)
                        wait = self._level / self.policy.per_second or None
                    # The estimate above cannot see how long a request in flight (or one ahead) takes:
                    # never sleep past the deadline waiting for it.
                    if deadline is not None:
                        wait = deadline - now if wait is None else min(wait, deadline - now)
                    self._cond.wait(wait)
            finally:
                self._queue.remove(ticket)
                self._cond.notify_all()

    def release(self) -> None:
        """The calling thread's request was answered or failed (a no-op when it holds none): from now
        on it drains like the platform's."""
        with self._cond:
            self._answered(threading.get_ident())


def _out_of_time(*, passed: bool) -> OperationTimeoutError:
    """The error of a wait that would end, or ended, past the deadline."""
    why = (
        "passed while waiting for the platform's rate limit (earlier requests of this process under the "
        "same limit were still queued or awaiting their answers)"
        if passed
        else "would pass while waiting for the platform's rate limit"
    )
    return OperationTimeoutError(
        f"the operation deadline {why}; raise pulumi-webhooks:operationTimeout or lower the number of "
        "parallel operations"
    )


_buckets: dict[str, TokenBucket] = {}
_lock = threading.Lock()


def bucket(key: str, policy: RatePolicy) -> TokenBucket:
    """The process-wide bucket for ``key`` (created on first use)."""
    with _lock:
        found = _buckets.get(key)
        if found is None or found.policy != policy:
            found = _buckets[key] = TokenBucket(policy)
        return found
