"""``pulumi_webhooks.shoplazza.Subscriptions``: one receiver subscribed to several Shoplazza topics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import pulumi

from pulumi_webhooks._core.components import TopicSubscriptions
from pulumi_webhooks._core.resource import masked_repr, resource_props, split_args
from pulumi_webhooks.shoplazza.resource import Webhook, WebhookArgs

COMPONENT_TYPE = "pulumi-webhooks:shoplazza:Subscriptions"


@masked_repr("access_token")
@dataclass(frozen=True, kw_only=True)
class SubscriptionsArgs:
    """Inputs of :class:`Subscriptions`: those of :class:`~pulumi_webhooks.shoplazza.WebhookArgs`, with
    ``topics`` (a plain list, each topic once) instead of ``topic``.

    :param shop: the shop, the prefix of ``{shop}.myshoplaza.com``.
    :param address: the https:// callback URL every topic delivers to.
    :param topics: the events, e.g. ``["orders/create", "orders/paid"]``; one ``Webhook`` per topic.
    :param access_token: the Open API token (secret); defaults to ``shoplazza:accessToken`` /
        ``SHOPLAZZA_ACCESS_TOKEN``.
    :param adopt: passed to every child (see :class:`~pulumi_webhooks.shoplazza.Webhook`).
    """

    shop: pulumi.Input[str]
    address: pulumi.Input[str]
    topics: Sequence[str]
    access_token: pulumi.Input[str] | None = None
    adopt: pulumi.Input[bool] | None = None


class Subscriptions(TopicSubscriptions[Webhook]):
    """Several Shoplazza topics delivered to one address: a component resource (type token
    ``pulumi-webhooks:shoplazza:Subscriptions``) with one :class:`~pulumi_webhooks.shoplazza.Webhook`
    child per topic, named ``{name}-{topic with / as -}``. Adding or removing a topic creates or deletes
    only that child; changing ``address`` updates every child in place; ``shop`` replaces them. A topic
    listed twice fails the program (and so the preview): a shop holds one subscription per topic.

    ``webhooks`` maps each topic to its ``Webhook``; ``webhook_ids`` is an ``Output`` of a dict from topic
    to the subscription's id.

    Example::

        import pulumi
        import pulumi_webhooks.shoplazza as shoplazza

        orders = shoplazza.Subscriptions(
            "orders",
            shop="my-store",
            address="https://hooks.example.com/shoplazza/orders",
            topics=["orders/create", "orders/paid", "orders/cancelled"],
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
        shop: pulumi.Input[str],
        address: pulumi.Input[str],
        topics: Sequence[str],
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
