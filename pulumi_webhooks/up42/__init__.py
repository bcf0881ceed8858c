"""UP42 webhooks: :class:`Webhook` and :class:`WebhookArgs`, plus two plain functions for programs and
scripts, :func:`get_webhook_events` (the live event catalog) and :func:`run_webhook_tests` (UP42's test
deliveries for one webhook).

The resource classes load on first use, so that the sandbox and ``pulumi-webhooks trigger`` (which need
only the event catalog) do not import the program-side SDK machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulumi_webhooks._core.lazy import lazy_exports
from pulumi_webhooks.up42.topics import EVENTS

if TYPE_CHECKING:
    from pulumi_webhooks.up42.api import get_webhook_events, run_webhook_tests
    from pulumi_webhooks.up42.models import WebhookEvent, WebhookTestResult
    from pulumi_webhooks.up42.resource import Webhook, WebhookArgs

__all__ = [
    "EVENTS",
    "Webhook",
    "WebhookArgs",
    "WebhookEvent",
    "WebhookTestResult",
    "get_webhook_events",
    "run_webhook_tests",
]


__getattr__ = lazy_exports(
    __name__,
    {
        "Webhook": "resource",
        "WebhookArgs": "resource",
        "WebhookEvent": "models",
        "WebhookTestResult": "models",
        "get_webhook_events": "api",
        "run_webhook_tests": "api",
    },
)
