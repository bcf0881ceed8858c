"""The run listing (``_core/listing.py``): one listing per store and run, kept true by our own writes,
also by those that land while the listing is being fetched."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from pulumi_webhooks._core.listing import RunListing

KEY = "store token"


def slow_fetch(
    answer: list[dict[str, int]],
) -> tuple[Callable[[], list[dict[str, int]]], threading.Event, threading.Event]:
    """A fetch whose answer was read before our write (``answered``), returned once ``release`` is set."""
    answered, release = threading.Event(), threading.Event()

    def fetch() -> list[dict[str, int]]:
        answered.set()
        assert release.wait(10)
        return answer

    return fetch, answered, release


def fetching_while(write: Callable[[RunListing[dict[str, int]]], None]) -> tuple[list[int], list[int]]:
    """The ids a look-up returned, and the ids it left in the listing, when ``write`` lands between the
    listing's answer and its being stored."""
    listing: RunListing[dict[str, int]] = RunListing(lambda item: item["id"])
    fetch, answered, release = slow_fetch([{"id": 1}, {"id": 2}])
    got: list[list[dict[str, int]]] = []
    looking = threading.Thread(target=lambda: got.append(listing.get(KEY, fetch)))
    looking.start()
    assert answered.wait(10)
    write(listing)
    release.set()
    looking.join(10)
    stored = listing.get(KEY, lambda: pytest.fail("listed again"))
    return sorted(i["id"] for i in got[0]), sorted(i["id"] for i in stored)


def test_a_delete_while_the_listing_is_fetched_is_applied_to_it() -> None:
    assert fetching_while(lambda listing: listing.remove(KEY, 2)) == ([1], [1])


def test_a_create_while_the_listing_is_fetched_is_applied_to_it() -> None:
    assert fetching_while(lambda listing: listing.put(KEY, {"id": 3})) == ([1, 2, 3], [1, 2, 3])


def test_a_failed_write_while_the_listing_is_fetched_leaves_it_unstored() -> None:
    listing: RunListing[dict[str, int]] = RunListing(lambda item: item["id"])
    fetch, answered, release = slow_fetch([{"id": 1}])
    looking = threading.Thread(target=lambda: listing.get(KEY, fetch))
    looking.start()
    assert answered.wait(10)
    listing.drop(KEY)  # a write whose answer was lost: the store may hold it or not
    release.set()
    looking.join(10)
    again: list[str] = []
    listing.get(KEY, lambda: again.append("listed") or [])  # type: ignore[func-returns-value]
    assert again == ["listed"]
