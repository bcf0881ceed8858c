"""UP42 webhooks: :class:`Webhook` and :class:`WebhookArgs`, plus two plain functions for programs and
scripts, :func:`get_webhook_events` (the live event catalog) and :func:`run_webhook_tests` (UP42's test
deliveries for one webhook)."""

from pulumi_webhooks.up42.api import WebhookEvent, WebhookTestResult, get_webhook_events, run_webhook_tests
from pulumi_webhooks.up42.resource import Webhook, WebhookArgs
from pulumi_webhooks.up42.topics import EVENTS

__all__ = [
    "EVENTS",
    "Webhook",
    "WebhookArgs",
    "WebhookEvent",
    "WebhookTestResult",
    "get_webhook_events",
    "run_webhook_tests",
]
