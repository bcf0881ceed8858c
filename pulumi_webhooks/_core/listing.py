"""One listing of a store's subscriptions per run, shared by every resource of that store.

A run is one provider-host process: the Pulumi CLI starts a new one for every ``preview``, ``up``,
``refresh`` and ``destroy``. Looking a subscription up before creating it, and reading it on refresh,
are served from one listing per store (one request per page instead of one per resource). The listing
stays true for this process because our own writes are applied to it as they succeed; a write that
fails or whose answer is lost drops it, so the next look-up lists again; and it expires after ``TTL``
seconds, so a long run never works from an old picture of what others changed. A write of ours that
succeeds while a listing is being fetched is applied to that listing once it is in (the answer may have
been read before the write); one that fails meanwhile leaves it unstored.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

TTL = 120.0

Item = TypeVar("Item")


class RunListing(Generic[Item]):
    """Listings by key (platform, store and credential), each fetched at most once at a time."""

    def __init__(self, id_of: Callable[[Item], Hashable], ttl: float = TTL) -> None:
        self._id_of = id_of
        self._ttl = ttl
        self._listings: dict[str, tuple[float, dict[Hashable, Item]]] = {}
        # Our writes while a listing is being fetched, to apply to it once it is in (None: a write failed).
        self._fetching: dict[str, list[Callable[[dict[Hashable, Item]], object] | None]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, fetch: Callable[[], list[Item]]) -> list[Item]:
        """The store's subscriptions: the run's listing, or ``fetch()``'s when there is none yet."""
        cached = self._fresh(key)
        if cached is not None:
            return cached
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # single flight: concurrent resources of one store share one listing request
            cached = self._fresh(key)
            if cached is not None:
                return cached
            with self._guard:
                self._fetching[key] = []
            try:
                items = fetch()
            finally:
                with self._guard:
                    writes = self._fetching.pop(key)
            listing = {self._id_of(item): item for item in items}
            for write in writes:
                if write is None:  # a write failed meanwhile: what the store holds is unknown
                    return list(items)
                write(listing)
            with self._guard:
                self._listings[key] = (time.monotonic(), listing)
            return list(listing.values())

    def _fresh(self, key: str) -> list[Item] | None:
        with self._guard:
            entry = self._listings.get(key)
            if entry is None or time.monotonic() - entry[0] > self._ttl:
                return None
            return list(entry[1].values())

    def put(self, key: str, item: Item) -> None:
        """Apply a successful create or update of ours to the listing (if there is one, or is coming)."""
        self._apply(key, lambda listing: listing.update({self._id_of(item): item}))

    def remove(self, key: str, item_id: Hashable) -> None:
        """Apply a successful delete of ours to the listing (if there is one, or is coming)."""
        self._apply(key, lambda listing: listing.pop(item_id, None))

    def _apply(self, key: str, write: Callable[[dict[Hashable, Item]], object]) -> None:
        with self._guard:
            entry = self._listings.get(key)
            if entry is not None:
                write(entry[1])
            self._fetching.get(key, []).append(write)

    def drop(self, key: str) -> None:
        """Forget the listing: a write failed or its answer was lost, so it may no longer be true."""
        with self._guard:
            self._listings.pop(key, None)
            self._fetching.get(key, []).append(None)

    @contextlib.contextmanager
    def writing(self, key: str) -> Iterator[None]:
        """Wrap a write: if it fails in any way (its answer may be lost), the listing is dropped."""
        try:
            yield
        except BaseException:
            self.drop(key)
            raise
