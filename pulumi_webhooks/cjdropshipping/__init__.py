"""CJdropshipping webhook settings: :class:`WebhookSettings` and :class:`WebhookSettingsArgs`."""

from pulumi_webhooks.cjdropshipping.resource import WebhookSettings, WebhookSettingsArgs
from pulumi_webhooks.cjdropshipping.topics import GROUPS, MESSAGE_TYPES

__all__ = ["GROUPS", "MESSAGE_TYPES", "WebhookSettings", "WebhookSettingsArgs"]
