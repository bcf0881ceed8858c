"""``pulumi_webhooks.shopline.Webhook``: one SHOPLINE webhook subscription in a Pulumi program."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, overload

import pulumi
import pulumi.dynamic

from pulumi_webhooks._core.resource import dynamic_resource_inputs
from pulumi_webhooks.shopline.provider import ShoplineWebhookProvider

_COMPUTED = ("webhook_id", "created_at", "updated_at")
_SECRETS = ("access_token",)


@dataclass(frozen=True, kw_only=True)
class WebhookArgs:
    """Inputs of :class:`Webhook`.

    :param handle: the store handle, the prefix of ``{handle}.myshopline.com``. Changing it replaces.
    :param topic: the event, e.g. ``orders/create`` (checked against the catalog). Changing it replaces.
    :param address: the https:// callback URL on a public host, at most 255 characters. Updated in place.
    :param api_version: the event version, ``v20240601`` or later. Changing it replaces.
    :param access_token: the Admin API token (secret); defaults to stack config ``shopline:accessToken``
        or ``SHOPLINE_ACCESS_TOKEN``.
    :param adopt: take over an existing subscription with the same topic and address even if it
        differs (its api_version) instead of failing. Identical ones are always taken over.
    """

    handle: pulumi.Input[str]
    topic: pulumi.Input[str]
    address: pulumi.Input[str]
    api_version: pulumi.Input[str]
    access_token: pulumi.Input[str] | None = None
    adopt: pulumi.Input[bool] | None = None


class Webhook(pulumi.dynamic.Resource, module="shopline", name="Webhook"):
    """A SHOPLINE webhook subscription (``POST /admin/openapi/{version}/webhooks.json``).

    Id ``{handle}/{webhook_id}``. ``address`` is updated in place; ``handle``, ``topic`` and
    ``api_version`` replace the subscription. An identical subscription that already exists is taken
    over rather than duplicated.

    Example::

        import pulumi
        import pulumi_webhooks.shopline as shopline

        orders = shopline.Webhook(
            "orders-created",
            handle="open001",
            topic="orders/create",
            address="https://hooks.example.com/shopline/orders",
            api_version="v20260301",
        )
        pulumi.export("orders_webhook_id", orders.webhook_id)
    """

    handle: pulumi.Output[str]
    topic: pulumi.Output[str]
    address: pulumi.Output[str]
    api_version: pulumi.Output[str]
    access_token: pulumi.Output[str | None]
    adopt: pulumi.Output[bool]
    webhook_id: pulumi.Output[str]
    created_at: pulumi.Output[str | None]
    updated_at: pulumi.Output[str | None]

    @overload
    def __init__(
        self, resource_name: str, args: WebhookArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None: ...

    @overload
    def __init__(
        self,
        resource_name: str,
        opts: pulumi.ResourceOptions | None = None,
        *,
        handle: pulumi.Input[str],
        topic: pulumi.Input[str],
        address: pulumi.Input[str],
        api_version: pulumi.Input[str],
        access_token: pulumi.Input[str] | None = None,
        adopt: pulumi.Input[bool] | None = None,
    ) -> None: ...

    def __init__(self, resource_name: str, *args: Any, **kwargs: Any) -> None:
        props, opts = dynamic_resource_inputs(
            resource_name,
            args,
            kwargs,
            WebhookArgs,
            secret_inputs=_SECRETS,
            computed=_COMPUTED,
        )
        super().__init__(ShoplineWebhookProvider(), resource_name, props, opts)
