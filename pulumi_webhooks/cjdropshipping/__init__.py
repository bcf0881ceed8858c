"""CJdropshipping webhook settings: :class:`WebhookSettings` and :class:`WebhookSettingsArgs`.

The resource classes load on first use, so that the sandbox and ``pulumi-webhooks trigger`` (which need
only the message catalog) do not import the program-side SDK machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pulumi_webhooks.cjdropshipping.topics import GROUPS, MESSAGE_TYPES

if TYPE_CHECKING:
    from pulumi_webhooks.cjdropshipping.resource import WebhookSettings, WebhookSettingsArgs

__all__ = ["GROUPS", "MESSAGE_TYPES", "WebhookSettings", "WebhookSettingsArgs"]


def __getattr__(name: str) -> Any:
    if name in ("WebhookSettings", "WebhookSettingsArgs"):
        from pulumi_webhooks.cjdropshipping import resource

        return getattr(resource, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
