"""UP42 webhooks: :class:`Webhook` and :class:`WebhookArgs`, plus two plain functions for programs and
scripts, :func:`get_webhook_events` (the live event catalog) and :func:`run_webhook_tests` (UP42's test
deliveries for one webhook).

The resource classes load on first use, so that the sandbox and ``pulumi-webhooks trigger`` (which need
only the event catalog) do not import the program-side SDK machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pulumi_webhooks.up42.topics import EVENTS

if TYPE_CHECKING:
    from pulumi_webhooks.up42.api import (
        WebhookEvent,
        WebhookTestResult,
        get_webhook_events,
        run_webhook_tests,
    )
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


def __getattr__(name: str) -> Any:
    if name in ("Webhook", "WebhookArgs"):
        from pulumi_webhooks.up42 import resource

        return getattr(resource, name)
    if name in ("WebhookEvent", "WebhookTestResult", "get_webhook_events", "run_webhook_tests"):
        from pulumi_webhooks.up42 import api  # the HTTP client: only for programs that call these

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
