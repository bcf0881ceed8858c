"""The baseline the project is measured against: the least a dynamic provider can do to create a SHOPLINE
webhook (one pooled httpx request per create, no listing, no pacing, no retries, no validation).

It runs in the same provider host (``python -m pulumi.dynamic``), against the same sandbox, in the same
benchmark run, so that the ratio between the two is what the project's own work costs.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import httpx
import pulumi
import pulumi.dynamic

_client: httpx.Client | None = None
_lock = threading.Lock()


def _shared() -> httpx.Client:
    global _client  # noqa: PLW0603  (one pooled client per process, as the project keeps)
    with _lock:
        if _client is None:
            _client = httpx.Client(timeout=30)
        return _client


class MinimalProvider(pulumi.dynamic.ResourceProvider):
    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        base = os.environ["SHOPLINE_BASE_URL"].replace("{handle}", props["handle"])
        response = _shared().post(
            f"{base}/admin/openapi/{props['api_version']}/webhooks.json",
            json={
                "webhook": {
                    "topic": props["topic"],
                    "address": props["address"],
                    "api_version": props["api_version"],
                }
            },
            headers={"Authorization": f"Bearer {os.environ['SHOPLINE_ACCESS_TOKEN']}"},
        )
        response.raise_for_status()
        webhook = response.json()["webhook"]
        return pulumi.dynamic.CreateResult(f"{props['handle']}/{webhook['id']}", {**props, **webhook})


class MinimalWebhook(pulumi.dynamic.Resource):
    def __init__(self, name: str, *, handle: str, topic: str, address: str, api_version: str) -> None:
        super().__init__(
            MinimalProvider(),
            name,
            {"handle": handle, "topic": topic, "address": address, "api_version": api_version},
        )
