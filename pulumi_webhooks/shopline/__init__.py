"""SHOPLINE webhook subscriptions: :class:`Webhook` and :class:`WebhookArgs`,
:class:`Subscriptions` and :class:`SubscriptionsArgs` (one receiver, several topics).

The resource classes load on first use, so that the provider host and the sandbox (which need only
the provider or the topic catalog) do not import the program-side SDK machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulumi_webhooks._core.lazy import lazy_exports
from pulumi_webhooks.shopline.topics import TOPICS

if TYPE_CHECKING:
    from pulumi_webhooks.shopline.resource import Webhook, WebhookArgs
    from pulumi_webhooks.shopline.subscriptions import Subscriptions, SubscriptionsArgs

__all__ = ["TOPICS", "Subscriptions", "SubscriptionsArgs", "Webhook", "WebhookArgs"]


__getattr__ = lazy_exports(
    __name__,
    {
        "Webhook": "resource",
        "WebhookArgs": "resource",
        "Subscriptions": "subscriptions",
        "SubscriptionsArgs": "subscriptions",
    },
)
