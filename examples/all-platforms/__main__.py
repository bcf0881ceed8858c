"""Every platform in one program: the project the root ``Pulumi.yaml`` runs (against the sandbox by
default). Receivers are placeholders on a public host; in real use they are your functions' URLs."""

from __future__ import annotations

import pulumi

import pulumi_webhooks.shopline as shopline

config = pulumi.Config("demo")
receiver = config.get("receiver") or "https://hooks.example.com"

shopline_orders = shopline.Webhook(
    "shopline-orders",
    handle=config.get("shoplineHandle") or "open001",
    topic="orders/create",
    address=f"{receiver}/shopline/orders",
    api_version="v20260301",
)

pulumi.export("shopline_orders_id", shopline_orders.webhook_id)
