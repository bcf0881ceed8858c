"""UP42 webhook events: the built-in list, and the live catalog that preview checks against.

``GET /webhooks/events`` (no credentials) is the truth. ``check`` reads it once per process and API root,
with a short timeout; when it cannot be read (offline, firewall, an outage) the built-in list below is used
instead, silently (logged at debug level). This is the one network call ``check`` makes.

Source of the built-in list: UP42's "Get webhook events" example and its docs (shared/reference/
platforms.md §3.2): ``job.status`` (job/task status updates) and ``order.status`` (order status updates).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pulumi_webhooks._core.deadline import deadline_scope
from pulumi_webhooks._core.redact import get_logger

log = get_logger("pulumi_webhooks.up42")

EVENTS: frozenset[str] = frozenset({"job.status", "order.status"})
CATALOG_TIMEOUT = 3.0  # seconds: preview must stay quick when the API is unreachable


@dataclass(frozen=True)
class EventCatalog:
    names: frozenset[str]
    live: bool  # False: the built-in list, because the platform's catalog could not be read

    @property
    def where(self) -> str:
        return "UP42" if self.live else "UP42 (built-in list: the live event catalog could not be read)"


_catalogs: dict[str, EventCatalog] = {}
_lock = threading.Lock()  # single flight: concurrent checks wait for the one request


def event_catalog(api_root: str) -> EventCatalog:
    """The event names UP42 accepts, read once per process (the built-in list when unreachable)."""
    with _lock:
        found = _catalogs.get(api_root)
        if found is None:
            found = _catalogs[api_root] = _fetch(api_root)
        return found


def _fetch(api_root: str) -> EventCatalog:
    from pulumi_webhooks.up42.api import CatalogClient  # the HTTP client loads when first needed

    try:
        with deadline_scope(CATALOG_TIMEOUT):
            names = frozenset(event.name for event in CatalogClient(api_root).list_events())
    except Exception as exc:  # any failure (errors.WebhookError or other): the built-in list serves
        log.debug("UP42 event catalog unavailable, using the built-in list: %s", exc)
        return EventCatalog(EVENTS, live=False)
    if not names:  # an empty catalog would reject everything: trust the built-in list instead
        log.debug("UP42 event catalog is empty, using the built-in list")
        return EventCatalog(EVENTS, live=False)
    return EventCatalog(names, live=True)
