"""SHOPLINE's wire shapes: one pydantic model per shape the webhook endpoints answer with.

Loaded while the run's first request is on the wire (``_core/http.py``), not when ``api`` is imported.
"""

from __future__ import annotations

import pydantic


class ShoplineWebhook(pydantic.BaseModel):
    """One subscription as SHOPLINE returns it."""

    model_config = pydantic.ConfigDict(extra="ignore")

    id: int
    address: str
    topic: str
    api_version: str
    created_at: str | None = None
    updated_at: str | None = None


class WebhookEnvelope(pydantic.BaseModel):
    webhook: ShoplineWebhook


class WebhookListEnvelope(pydantic.BaseModel):
    webhooks: list[ShoplineWebhook]
