"""CJdropshipping: send order and logistics messages of one CJ account to a receiver.

Try it against the sandbox, no Pulumi CLI needed: ``make demo EXAMPLE=cjdropshipping``. With the Pulumi
CLI: ``pulumi up`` in a project whose ``main`` is this folder. Settings: ``cjdropshipping:apiKey``
(secret) or ``CJ_API_KEY``; ``CJ_BASE_URL`` points at the sandbox in the demo. The receiver must answer
HTTP 200: CJ probes it when it is set.
"""

from __future__ import annotations

import pulumi

import pulumi_webhooks.cjdropshipping as cj

config = pulumi.Config("demo")
receiver = config.get("receiver") or "https://hooks.example.com/cj"

# One resource per CJ account: groups without a URL (here product and stock) are switched off.
account = cj.WebhookSettings(
    "cj-webhooks",
    cj.WebhookSettingsArgs(
        order_url=f"{receiver}/orders",
        logistics_url=f"{receiver}/logistics",
    ),
)

pulumi.export("order_url", account.order_url)
# The openId is the key CJ signs deliveries with (header `sign`): the receiver needs it; it stays secret.
pulumi.export("signing_key", account.open_id)
