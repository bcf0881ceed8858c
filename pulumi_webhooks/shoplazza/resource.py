"""``pulumi_webhooks.shoplazza.Webhook``: one Shoplazza webhook subscription in a Pulumi program."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, overload

import pulumi
import pulumi.dynamic

from pulumi_webhooks._core.resource import dynamic_resource_inputs, existing_resource, masked_repr
from pulumi_webhooks.shoplazza.provider import ShoplazzaWebhookProvider

_COMPUTED = ("webhook_id", "created_at", "updated_at")
_SECRETS = ("access_token",)


@masked_repr(*_SECRETS)
@dataclass(frozen=True, kw_only=True)
class WebhookArgs:
    """Inputs of :class:`Webhook`.

    :param shop: the shop, the prefix of ``{shop}.myshoplaza.com``. Changing it replaces.
    :param topic: the event, e.g. ``orders/create`` (checked against the catalog). Updated in place; a
        shop holds one subscription per topic.
    :param address: the https:// callback URL on a public host, at most 2048 characters. Updated in
        place.
    :param access_token: the Open API token (secret); defaults to stack config ``shoplazza:accessToken``
        or ``SHOPLAZZA_ACCESS_TOKEN``.
    :param adopt: what to do with an existing subscription to the same topic that this deployment did
        not create. Unset: take an identical one over (with a warning), refuse one with another address.
        ``True``: also take that one over and update its address. ``False``: refuse any (strict mode).
    """

    shop: pulumi.Input[str]
    topic: pulumi.Input[str]
    address: pulumi.Input[str]
    access_token: pulumi.Input[str] | None = None
    adopt: pulumi.Input[bool] | None = None


class Webhook(pulumi.dynamic.Resource, module="shoplazza", name="Webhook"):
    """A Shoplazza webhook subscription (``POST /openapi/{version}/webhooks``).

    Id ``{shop}/{webhook_id}``. ``address`` and ``topic`` are updated in place; ``shop`` replaces the
    subscription. An identical subscription that already exists is taken over rather than duplicated.

    Example::

        import pulumi
        import pulumi_webhooks.shoplazza as shoplazza

        orders = shoplazza.Webhook(
            "orders-created",
            shop="my-store",  # my-store.myshoplaza.com
            topic="orders/create",
            address="https://hooks.example.com/shoplazza/orders",
        )
        pulumi.export("orders_webhook_id", orders.webhook_id)
    """

    shop: pulumi.Output[str]
    topic: pulumi.Output[str]
    address: pulumi.Output[str]
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
        shop: pulumi.Input[str],
        topic: pulumi.Input[str],
        address: pulumi.Input[str],
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
        super().__init__(ShoplazzaWebhookProvider(), resource_name, props, opts)

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> Webhook:
        """The existing Shoplazza subscription with this id (``{shop}/{webhook_id}``),
        read through the same provider. The program does not manage it: ``pulumi refresh`` reads it
        again, ``pulumi destroy`` leaves it alone."""
        return existing_resource(Webhook, ShoplazzaWebhookProvider(), resource_name, id, opts)
