"""What to call on Shoplazza: the Open API webhook endpoints and their two wire formats.

``https://{shop}.myshoplaza.com/openapi/{version}/webhooks[/{id}]``, authenticated with an
``Access-Token`` header (not Bearer). Two generations of the same endpoints:

- 2022-01: flat bodies (``{"address", "topic"}``), pages by ``limit`` (at most 250) and ``page``;
- 2025-06 and later (2026-01 checked): bodies wrapped in ``{"webhook": {…}}``, pages by ``page_size``,
  ``cursor`` and ``has_more``.

Answers are ``{"webhook": {…}}`` / ``{"webhooks": […]}`` in both; errors are ``{"errors": [...]}``,
``{"errors": {field: [...]}}`` or ``{"error": "..."}`` (the base client flattens all three).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pulumi_webhooks._core import errors
from pulumi_webhooks._core.http import ApiClient
from pulumi_webhooks._core.listing import RunListing
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks._core.tokens import credential_key
from pulumi_webhooks.shoplazza.provider import ACCESS_TOKEN

if TYPE_CHECKING:
    from pulumi_webhooks.shoplazza import models as wire
    from pulumi_webhooks.shoplazza.models import ShoplazzaWebhook
else:
    from pulumi_webhooks._core.lazy import LazyModule

    wire = LazyModule("pulumi_webhooks.shoplazza.models")

# 2 requests/s per app and store (rate-limits docs); the bucket size is only given as an example ("say,
# 60"), so we burst little and pace slightly under the documented rate.
RATE = RatePolicy(per_second=1.9, burst=10)
PAGE_SIZE = 250  # the documented maximum of `limit` (2022-01); used for `page_size` too
MAX_PAGES = 100
# How Shoplazza words a second subscription to a topic the shop already has ("topic is exist").
_TOPIC_TAKEN = ("already exist", "is exist")


@dataclass(frozen=True)
class WireFormat:
    """How one API version spells bodies and pages."""

    wrapped: bool  # bodies are {"webhook": {...}}
    cursor_paging: bool  # page_size/cursor/has_more instead of limit/page


# The versions whose webhook endpoints we have evidence for (platforms.md §4.1-4.3).
WIRE_FORMATS: dict[str, WireFormat] = {
    "2022-01": WireFormat(wrapped=False, cursor_paging=False),
    "2025-06": WireFormat(wrapped=True, cursor_paging=True),
    "2026-01": WireFormat(wrapped=True, cursor_paging=True),
}
SUPPORTED_VERSIONS: tuple[str, ...] = tuple(WIRE_FORMATS)


# One listing per shop and app (token) per run, shared by look-ups and refresh reads.
_listing: RunListing[ShoplazzaWebhook] = RunListing(lambda webhook: webhook.id)


class ShoplazzaApi(ApiClient):
    """The webhook calls of one shop's Open API, in the wire format of one API version."""

    platform = "Shoplazza"
    wire_module = wire.__name__
    request_id_headers = ("x-request-id", "x-trace-id", "traceid")

    def credentials_hint(self) -> str:
        return (
            f"Check the access token (the `access_token` input, {ACCESS_TOKEN.names}) and that the app is "
            "installed on this shop with the scope the topic needs"
        )

    def __init__(self, shop_url: str, version: str, token: str) -> None:
        shop_url = shop_url.rstrip("/")
        super().__init__(
            f"{shop_url}/openapi/{version}",
            headers={"Access-Token": token, "Content-Type": "application/json"},
            # The limit is per app and shop, whatever the version in the path.
            pace_key=f"shoplazza {shop_url}",
            rate=RATE,
        )
        self.version = version
        self.wire = WIRE_FORMATS[version]
        self._listing_key = f"{shop_url} {credential_key(token)}"

    def webhooks(self) -> list[ShoplazzaWebhook]:
        """The shop's subscriptions, from this run's listing (one request per page per run and shop)."""
        return _listing.get(self._listing_key, self.list_webhooks)

    def find_webhook(self, webhook_id: str) -> ShoplazzaWebhook | None:
        """One subscription from this run's listing, or None when the shop does not hold it."""
        return next((w for w in self.webhooks() if w.id == webhook_id), None)

    def list_webhooks(
        self, *, topic: str | None = None, page_size: int = PAGE_SIZE
    ) -> list[ShoplazzaWebhook]:
        """The shop's subscriptions (to ``topic`` only, when given), every page."""
        found: list[ShoplazzaWebhook] = []
        query: dict[str, str | int] = {"topic": topic} if topic else {}
        cursor: str | None = None
        for page_number in range(1, MAX_PAGES + 1):
            if self.wire.cursor_paging:
                params = {**query, "page_size": page_size, **({"cursor": cursor} if cursor else {})}
            else:
                params = {**query, "limit": page_size, "page": page_number}
            _, page = self.request(
                "list webhooks", "GET", "webhooks", params=params, model=lambda: wire.WebhookPage
            )
            assert page is not None
            found.extend(page.webhooks)
            if self.wire.cursor_paging:
                cursor = page.cursor
                if not page.has_more or not cursor:
                    break
            elif len(page.webhooks) < page_size:
                break
        return found

    def create_webhook(self, *, topic: str, address: str) -> ShoplazzaWebhook:
        body = self._body({"address": address, "topic": topic})
        return self._write("create webhook", "POST", "webhooks", body)

    def update_webhook(
        self, webhook_id: str, *, address: str | None = None, topic: str | None = None
    ) -> ShoplazzaWebhook:
        """Change the address and/or the topic; a field left None is not sent."""
        fields = {k: v for k, v in (("address", address), ("topic", topic)) if v is not None}
        return self._write("update webhook", "PUT", f"webhooks/{webhook_id}", self._body(fields))

    def delete_webhook(self, webhook_id: str) -> None:
        """Delete. A 404 raises NotFoundError: the provider checks with a new listing that it is gone."""
        with _listing.writing(self._listing_key):
            self.request("delete webhook", "DELETE", f"webhooks/{webhook_id}")
        _listing.remove(self._listing_key, webhook_id)

    # -- helpers ------------------------------------------------------------------------------------
    def _body(self, fields: dict[str, str]) -> dict[str, Any]:
        return {"webhook": fields} if self.wire.wrapped else dict(fields)

    def _write(self, operation: str, method: str, path: str, body: dict[str, Any]) -> ShoplazzaWebhook:
        try:
            with _listing.writing(self._listing_key):
                _, envelope = self.request(
                    operation, method, path, json=body, model=lambda: wire.WebhookEnvelope
                )
        except errors.ApiValidationError as exc:
            if exc.detail and any(words in exc.detail.lower() for words in _TOPIC_TAKEN):
                raise _as_conflict(exc) from None
            raise
        assert envelope is not None
        _listing.put(self._listing_key, envelope.webhook)
        return envelope.webhook


def _as_conflict(exc: errors.ApiError) -> errors.ConflictError:
    """Shoplazza answers a second subscription to a topic with a 422; in our tree it is a conflict."""
    return errors.ConflictError(
        platform=exc.platform,
        operation=exc.operation,
        status=exc.status,
        code=exc.code,
        detail=exc.detail,
        request_id=exc.request_id,
    )
