"""SHOPLINE: subscribe a receiver to order and product events of one store.

Try it against the sandbox, no Pulumi CLI needed: ``make demo EXAMPLE=shopline`` (preview, up, refresh
and destroy through the real provider host). With the Pulumi CLI: ``pulumi up`` in a project whose
``main`` is this folder. Settings: ``shopline:accessToken`` (secret) or ``SHOPLINE_ACCESS_TOKEN``;
``SHOPLINE_BASE_URL`` points at the sandbox in the demo.
"""

from __future__ import annotations

import pulumi

import pulumi_webhooks.shopline as shopline

config = pulumi.Config("demo")
handle = config.get("shoplineHandle") or "open001"
receiver = config.get("receiver") or "https://hooks.example.com/shopline"

orders = shopline.Webhook(
    "orders-created",
    handle=handle,
    topic="orders/create",
    address=f"{receiver}/orders",
    api_version="v20260301",
)
products = shopline.Webhook(
    "products-updated",
    shopline.WebhookArgs(
        handle=handle,
        topic="products/update",
        address=f"{receiver}/products",
        api_version="v20260301",
    ),
)

pulumi.export("orders_webhook_id", orders.webhook_id)
pulumi.export("products_webhook_id", products.webhook_id)
