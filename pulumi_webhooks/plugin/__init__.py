"""The native Pulumi provider plugin ``webhooks``: the four resources for every Pulumi language.

``pulumi-resource-webhooks`` (this package's :func:`main`) is what the Pulumi CLI runs; the schema it
serves is :func:`package_schema` (also ``pulumi-webhooks schema``). See docs/plugin.md.
"""

from __future__ import annotations

from pulumi_webhooks.plugin._provider import WebhooksProvider
from pulumi_webhooks.plugin._schema import PACKAGE, package_schema
from pulumi_webhooks.plugin._server import main

__all__ = ["PACKAGE", "WebhooksProvider", "main", "package_schema"]
