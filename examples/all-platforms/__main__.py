"""Every platform in one program: the project the root ``Pulumi.yaml`` runs (against the sandbox by
default), and what ``make demo`` runs without the Pulumi CLI. Receivers are placeholders on a public
host; in real use they are your functions' URLs."""

from __future__ import annotations

import pulumi

import pulumi_webhooks.cjdropshipping as cjdropshipping
import pulumi_webhooks.shoplazza as shoplazza
import pulumi_webhooks.shopline as shopline
import pulumi_webhooks.up42 as up42

config = pulumi.Config("demo")
receiver = config.get("receiver") or "https://hooks.example.com"

shopline_orders = shopline.Webhook(
    "shopline-orders",
    handle=config.get("shoplineHandle") or "open001",
    topic="orders/create",
    address=f"{receiver}/shopline/orders",
    api_version="v20260301",
)

shoplazza_orders = shoplazza.Webhook(
    "shoplazza-orders",
    shop=config.get("shoplazzaShop") or "store-a",
    topic="orders/create",
    address=f"{receiver}/shoplazza/orders",
)

up42_jobs = up42.Webhook(
    "up42-jobs",
    workspace_id=config.get("up42WorkspaceId") or "0cb1eaa0-89a3-11ec-a8a3-0242ac120002",
    url=f"{receiver}/up42",
    events=["job.status", "order.status"],
    secret=config.get_secret("up42WebhookSecret") or pulumi.Output.secret("demo-signing-secret"),
)

cj_account = cjdropshipping.WebhookSettings(
    "cj-account",
    order_url=f"{receiver}/cj/orders",
    logistics_url=f"{receiver}/cj/logistics",
)

pulumi.export("shopline_orders_id", shopline_orders.webhook_id)
pulumi.export("shoplazza_orders_id", shoplazza_orders.webhook_id)
pulumi.export("up42_jobs_id", up42_jobs.webhook_id)
pulumi.export("cj_order_url", cj_account.order_url)
