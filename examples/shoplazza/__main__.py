"""Shoplazza: subscribe a receiver to order and product events of one shop.

Try it against the sandbox, no Pulumi CLI needed: ``make demo EXAMPLE=shoplazza``. With the Pulumi CLI:
``pulumi up`` in a project whose ``main`` is this folder. Settings: ``shoplazza:accessToken`` (secret)
or ``SHOPLAZZA_ACCESS_TOKEN``; ``shoplazza:apiVersion`` or ``SHOPLAZZA_API_VERSION`` (``2022-01`` by
default, ``2025-06`` and ``2026-01`` also supported); ``SHOPLAZZA_BASE_URL`` points at the sandbox
(``http://127.0.0.1:8787/shoplazza/{shop}``) in the demo.
"""

from __future__ import annotations

import pulumi

import pulumi_webhooks.shoplazza as shoplazza

config = pulumi.Config("demo")
shop = config.get("shoplazzaShop") or "my-store"  # my-store.myshoplaza.com
receiver = config.get("receiver") or "https://hooks.example.com/shoplazza"

orders = shoplazza.Webhook(
    "orders-created",
    shop=shop,
    topic="orders/create",
    address=f"{receiver}/orders",
)
products = shoplazza.Webhook(
    "products-updated",
    shoplazza.WebhookArgs(
        shop=shop,
        topic="products/update",
        address=f"{receiver}/products",
        adopt=True,  # take over a subscription to this topic that someone made by hand
    ),
)

pulumi.export("orders_webhook_id", orders.webhook_id)
pulumi.export("products_webhook_id", products.webhook_id)
