"""UP42: deliver job and order status changes of one workspace to a receiver.

Try it against the sandbox, no Pulumi CLI needed: ``make demo EXAMPLE=up42``. With the Pulumi CLI:
``pulumi up`` in a project whose ``main`` is this folder. Settings: ``up42:username`` and
``up42:password`` (secret), or ``UP42_USERNAME`` and ``UP42_PASSWORD``; ``UP42_BASE_URL`` and
``UP42_AUTH_URL`` point at the sandbox in the demo (``http://127.0.0.1:8787/up42/api`` and
``http://127.0.0.1:8787/up42/auth/realms/public/protocol/openid-connect/token``).
"""

from __future__ import annotations

import pulumi

import pulumi_webhooks.up42 as up42

config = pulumi.Config("demo")
workspace_id = config.get("up42WorkspaceId") or "0cb1eaa0-89a3-11ec-a8a3-0242ac120002"
receiver = config.get("receiver") or "https://hooks.example.com/up42"
# The signing secret UP42 puts in the `Signature` header; stored encrypted in state either way.
signing_secret = config.get_secret("up42WebhookSecret") or pulumi.Output.secret("demo-signing-secret")

jobs = up42.Webhook(
    "job-status",
    workspace_id=workspace_id,
    url=f"{receiver}/jobs",
    events=["job.status"],
    secret=signing_secret,
    verify=True,  # run UP42's test deliveries after every create and update
)
orders = up42.Webhook(
    "order-status",
    up42.WebhookArgs(
        workspace_id=workspace_id,
        url=f"{receiver}/orders",
        events=["order.status", "job.status"],
        name="Orders and jobs",
        secret=signing_secret,
    ),
)

pulumi.export("job_webhook_id", jobs.webhook_id)
pulumi.export("order_webhook_id", orders.webhook_id)
