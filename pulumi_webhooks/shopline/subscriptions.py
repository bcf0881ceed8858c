"""``pulumi_webhooks.shopline.Subscriptions``: one receiver subscribed to several SHOPLINE topics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import pulumi

from pulumi_webhooks._core.components import TopicSubscriptions
from pulumi_webhooks._core.resource import masked_repr, resource_props, split_args
from pulumi_webhooks.shopline.resource import Webhook, WebhookArgs

COMPONENT_TYPE = "pulumi-webhooks:shopline:Subscriptions"


@masked_repr("access_token")
@dataclass(frozen=True, kw_only=True)
class SubscriptionsArgs:
    """Inputs of :class:`Subscriptions`: those of :class:`~pulumi_webhooks.shopline.WebhookArgs`, with
    ``topics`` (a plain list, each topic once) instead of ``topic``.

    :param handle: the store handle, the prefix of ``{handle}.myshopline.com``.
    :param address: the https:// callback URL every topic delivers to.
    :param topics: the events, e.g. ``["orders/create", "orders/paid"]``; one ``Webhook`` per topic.
    :param api_version: the event version, ``v20240601`` or later.
    :param access_token: the Admin API token (secret); defaults to ``shopline:accessToken`` /
        ``SHOPLINE_ACCESS_TOKEN``.
    :param adopt: passed to every child (see :class:`~pulumi_webhooks.shopline.Webhook`).
    """

    handle: pulumi.Input[str]
    address: pulumi.Input[str]
    topics: Sequence[str]
    api_version: pulumi.Input[str]
    access_token: pulumi.Input[str] | None = None
    adopt: pulumi.Input[bool] | None = None


class Subscriptions(TopicSubscriptions[Webhook]):
    """Several SHOPLINE topics delivered to one address: a component resource (type token
    ``pulumi-webhooks:shopline:Subscriptions``) with one :class:`~pulumi_webhooks.shopline.Webhook` child
    per topic, named ``{name}-{topic with / as -}``. Adding or removing a topic creates or deletes only
    that child; changing ``address`` updates every child in place; ``handle`` or ``api_version`` replace
    them. A topic listed twice fails the program (and so the preview).

    ``webhooks`` maps each topic to its ``Webhook``; ``webhook_ids`` is an ``Output`` of a dict from topic
    to the subscription's id.

    Example::

        import pulumi
        import pulumi_webhooks.shopline as shopline

        orders = shopline.Subscriptions(
            "orders",
            handle="open001",
            address="https://hooks.example.com/shopline/orders",
            topics=["orders/create", "orders/paid", "orders/cancelled"],
            api_version="v20260301",
        )
        pulumi.export("order_webhook_ids", orders.webhook_ids)
    """

    @overload
    def __init__(
        self, resource_name: str, args: SubscriptionsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None: ...

    @overload
    def __init__(
        self,
        resource_name: str,
        opts: pulumi.ResourceOptions | None = None,
        *,
        handle: pulumi.Input[str],
        address: pulumi.Input[str],
        topics: Sequence[str],
        api_version: pulumi.Input[str],
        access_token: pulumi.Input[str] | None = None,
        adopt: pulumi.Input[bool] | None = None,
    ) -> None: ...

    def __init__(self, resource_name: str, *args: Any, **kwargs: Any) -> None:
        args_obj, opts = split_args(args, kwargs)
        props = resource_props(
            resource_name, SubscriptionsArgs, args_obj, kwargs, secret_inputs=(), computed=()
        )
        topics = props.pop("topics")

        def webhook(name: str, topic: str, child_opts: pulumi.ResourceOptions) -> Webhook:
            return Webhook(name, WebhookArgs(topic=topic, **props), child_opts)

        super().__init__(COMPONENT_TYPE, resource_name, topics, webhook, opts)
