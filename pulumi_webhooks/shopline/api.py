"""What to call on SHOPLINE: the Admin REST webhook endpoints and their wire shapes.

``https://{handle}.myshopline.com/admin/openapi/{version}``; note SHOPLINE's path quirk: one webhook is
``/{id}/webhooks.json``, not ``/webhooks/{id}.json`` (docs and official SDK agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import httpx

from pulumi_webhooks._core.http import ApiClient
from pulumi_webhooks._core.listing import RunListing
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks._core.tokens import credential_key
from pulumi_webhooks.shopline.provider import ACCESS_TOKEN

if TYPE_CHECKING:
    from pulumi_webhooks.shopline import models as wire
    from pulumi_webhooks.shopline.models import ShoplineWebhook
else:
    from pulumi_webhooks._core.lazy import LazyModule

    wire = LazyModule("pulumi_webhooks.shopline.models")

# 4 requests/s per app per store, leaky bucket of 40 (flow-control docs); Enterprise plans are "unlimited".
# We pace with the documented bucket exactly (burst = bucket, the store's rate): `_core/pacing.py` counts a
# request from when it is sent until its answer is back, so arrival jitter cannot overflow the bucket.
DOCUMENTED_QPS = 4.0
BUCKET = 40
MAX_PAGES = 100


def rate_policy(qps: float | None = DOCUMENTED_QPS) -> RatePolicy | None:
    """How to pace one store whose plan allows ``qps`` requests/s; None (unlimited) paces nothing."""
    return None if qps is None else RatePolicy(per_second=qps, burst=BUCKET)


DEFAULT_RATE = rate_policy()


# One listing per store and app (token) per run, shared by look-ups and refresh reads.
_listing: RunListing[ShoplineWebhook] = RunListing(lambda webhook: webhook.id)


class ShoplineApi(ApiClient):
    """The webhook calls of one store's Admin API."""

    platform = "SHOPLINE"
    wire_module = wire.__name__
    request_id_headers = ("traceId", "x-trace-id")

    def __init__(self, base_url: str, token: str, *, rate: RatePolicy | None = DEFAULT_RATE) -> None:
        super().__init__(
            base_url,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"},
            pace_key=f"shopline {base_url}" if rate else None,
            rate=rate,
        )
        self._listing_key = f"{base_url} {credential_key(token)}"

    def credentials_hint(self) -> str:
        return (
            f"Check the access token (the `access_token` input, {ACCESS_TOKEN.names}) and that the app is "
            "installed on this store with webhook scopes"
        )

    def webhooks(self) -> list[ShoplineWebhook]:
        """The store's subscriptions, from this run's listing (one list request per run and store)."""
        return _listing.get(self._listing_key, self.list_webhooks)

    def find_webhook(self, webhook_id: str) -> ShoplineWebhook | None:
        """One subscription from this run's listing, or None when the store does not hold it."""
        return next((w for w in self.webhooks() if str(w.id) == webhook_id), None)

    def list_webhooks(self) -> list[ShoplineWebhook]:
        """Every subscription of the store (following a ``Link: rel="next"`` header if one comes)."""
        found: list[ShoplineWebhook] = []
        params: dict[str, str | int] | None = None
        for _ in range(MAX_PAGES):
            response, page = self.request(
                "list webhooks", "GET", "webhooks.json", params=params, model=lambda: wire.WebhookListEnvelope
            )
            assert page is not None
            found.extend(page.webhooks)
            params = _next_page(response)
            if params is None:
                break
        return found

    def create_webhook(self, *, topic: str, address: str, api_version: str) -> ShoplineWebhook:
        body = {"webhook": {"address": address, "api_version": api_version, "topic": topic}}
        with _listing.writing(self._listing_key):
            _, envelope = self.request(
                "create webhook", "POST", "webhooks.json", json=body, model=lambda: wire.WebhookEnvelope
            )
        assert envelope is not None
        _listing.put(self._listing_key, envelope.webhook)
        return envelope.webhook

    def update_webhook(self, webhook_id: str, *, address: str) -> ShoplineWebhook:
        body = {"webhook": {"address": address}}
        with _listing.writing(self._listing_key):
            _, envelope = self.request(
                "update webhook",
                "PUT",
                f"{webhook_id}/webhooks.json",
                json=body,
                model=lambda: wire.WebhookEnvelope,
            )
        assert envelope is not None
        _listing.put(self._listing_key, envelope.webhook)
        return envelope.webhook

    def delete_webhook(self, webhook_id: str) -> None:
        """Delete. A 404 raises NotFoundError: the provider checks with a new listing that it is gone."""
        with _listing.writing(self._listing_key):
            self.request("delete webhook", "DELETE", f"{webhook_id}/webhooks.json")
        _listing.remove(self._listing_key, int(webhook_id))


def _next_page(response: httpx.Response) -> dict[str, str | int] | None:
    """The query of the ``rel="next"`` link, if the answer is paginated (not documented for webhooks)."""
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    return dict(parse_qsl(urlsplit(link).query))
