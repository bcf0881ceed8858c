"""CJdropshipping webhook settings: :class:`WebhookSettings` and :class:`WebhookSettingsArgs`.

The resource classes load on first use, so that the sandbox and ``pulumi-webhooks trigger`` (which need
only the message catalog) do not import the program-side SDK machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulumi_webhooks._core.lazy import lazy_exports
from pulumi_webhooks.cjdropshipping.topics import GROUPS, MESSAGE_TYPES

if TYPE_CHECKING:
    from pulumi_webhooks.cjdropshipping.resource import WebhookSettings, WebhookSettingsArgs

__all__ = ["GROUPS", "MESSAGE_TYPES", "WebhookSettings", "WebhookSettingsArgs"]


__getattr__ = lazy_exports(
    __name__,
    {
        "WebhookSettings": "resource",
        "WebhookSettingsArgs": "resource",
    },
)
