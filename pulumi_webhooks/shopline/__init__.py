"""SHOPLINE webhook subscriptions: :class:`Webhook` and :class:`WebhookArgs`."""

from pulumi_webhooks.shopline.resource import Webhook, WebhookArgs
from pulumi_webhooks.shopline.topics import TOPICS

__all__ = ["TOPICS", "Webhook", "WebhookArgs"]
