"""``pulumi_webhooks.shopline.Webhook``: one SHOPLINE webhook subscription in a Pulumi program."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, overload

import pulumi
import pulumi.dynamic

from pulumi_webhooks._core.resource import dynamic_resource_inputs, existing_resource, masked_repr
from pulumi_webhooks.shopline.provider import ShoplineWebhookProvider

_COMPUTED = ("webhook_id", "created_at", "updated_at")
_SECRETS = ("access_token",)


@masked_repr(*_SECRETS)
@dataclass(frozen=True, kw_only=True)
class WebhookArgs:
    """Inputs of :class:`Webhook`.

    :param handle: the store handle, the prefix of ``{handle}.myshopline.com``. Changing it replaces.
    :param topic: the event, e.g. ``orders/create`` (checked against the catalog). Changing it replaces.
    :param address: the https:// callback URL on a public host, at most 255 characters. Updated in place.
    :param api_version: the event version, ``v20240601`` or later. Changing it replaces.
    :param access_token: the Admin API token (secret); defaults to stack config ``shopline:accessToken``
        or ``SHOPLINE_ACCESS_TOKEN``.
    :param adopt: what to do with an existing subscription with the same topic and address that this
        deployment did not create. Unset: take an identical one over (with a warning), refuse a different
        one. ``True``: also take a different one (its api_version) over, by deleting and re-creating it.
        ``False``: refuse any (strict mode).
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

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> Webhook:
        """The existing SHOPLINE subscription with this id (``{handle}/{webhook_id}``),
        read through the same provider. The program does not manage it: ``pulumi refresh`` reads it
        again, ``pulumi destroy`` leaves it alone."""
        return existing_resource(Webhook, ShoplineWebhookProvider(), resource_name, id, opts)
