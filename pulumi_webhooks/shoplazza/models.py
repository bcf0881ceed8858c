"""Shoplazza's wire shapes: one pydantic model per shape the webhook endpoints answer with (both wire
formats answer with the same shapes).

Loaded while the run's first request is on the wire (``_core/http.py``), not when ``api`` is imported.
"""

from __future__ import annotations

import pydantic


class ShoplazzaWebhook(pydantic.BaseModel):
    """One subscription as Shoplazza returns it."""

    model_config = pydantic.ConfigDict(extra="ignore")

    id: str
    address: str
    topic: str
    created_at: str | None = None
    updated_at: str | None = None


class WebhookEnvelope(pydantic.BaseModel):
    webhook: ShoplazzaWebhook


class WebhookPage(pydantic.BaseModel):
    webhooks: list[ShoplazzaWebhook]
    cursor: str | None = None  # 2025-06 and later
    has_more: bool = False
