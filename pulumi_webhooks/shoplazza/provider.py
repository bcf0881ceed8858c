"""The Shoplazza webhook provider: schema, configure, create, read, update, delete.

Id ``{shop}/{webhook_id}``. ``address`` and ``topic`` update in place (``PUT /webhooks/{id}``); ``shop``
replaces. The natural key is the topic: a shop holds one subscription per topic.

The module path and class name are written into every stack's state: never rename or move them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi_webhooks._core import errors, settings
from pulumi_webhooks._core.catalog import unknown_name_reason
from pulumi_webhooks._core.provider import (
    ADOPT,
    Credential,
    InputField,
    WebhookProvider,
    is_unknown,
    missing_credential,
)
from pulumi_webhooks._core.redact import excerpt
from pulumi_webhooks._core.urls import api_base_url_problem, base_url_template_problem, callback_url_problem
from pulumi_webhooks.shoplazza.topics import TOPICS

if TYPE_CHECKING:  # the API client (httpx, pydantic) loads at the first call: a program never needs it
    from pulumi_webhooks.shoplazza.api import ShoplazzaApi
    from pulumi_webhooks.shoplazza.models import ShoplazzaWebhook

# -- schema ------------------------------------------------------------------------------------------
ACCESS_TOKEN = settings.Setting("shoplazza:accessToken", "SHOPLAZZA_ACCESS_TOKEN", secret=True)
BASE_URL = settings.Setting(
    "shoplazza:baseUrl", "SHOPLAZZA_BASE_URL", default="https://{shop}.myshoplaza.com"
)
API_VERSION = settings.Setting("shoplazza:apiVersion", "SHOPLAZZA_API_VERSION", default="2022-01")
settings.declare(ACCESS_TOKEN, BASE_URL, API_VERSION)

# Shoplazza documents no length limit for `address` (the field is "longtext"); this one is ours.
MAX_ADDRESS_LENGTH = 2048
_SHOP = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_VERSION = re.compile(r"(\d{4})-(\d{2})")
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def shop_problem(shop: str) -> str | None:
    if not _SHOP.fullmatch(shop):
        return (
            "must be the shop: the lowercase prefix of {shop}.myshoplaza.com "
            f"(letters, digits, hyphens), got {excerpt(shop)}"
        )
    return None


def api_version_problem(version: str) -> str | None:
    from pulumi_webhooks.shoplazza.api import SUPPORTED_VERSIONS

    supported = ", ".join(SUPPORTED_VERSIONS)
    match = _VERSION.fullmatch(version)
    if not match or not 1 <= int(match[2]) <= 12:
        return (
            f"must be an API version like 2026-01 (YYYY-MM), got {excerpt(version)}; supported: {supported}"
        )
    if version not in SUPPORTED_VERSIONS:
        return (
            f"is {excerpt(version)}, a version whose webhook endpoints this package does not know; "
            f"supported: {supported}"
        )
    return None


def topic_problem(topic: str) -> str | None:
    if topic in TOPICS:
        return None
    return unknown_name_reason(topic, TOPICS, what="topic", where="Shoplazza")


def address_problem(address: str) -> str | None:
    return callback_url_problem(address, max_length=MAX_ADDRESS_LENGTH)


FIELDS = (
    InputField("shop", required=True, replaces=True, rule=shop_problem),
    InputField("topic", required=True, rule=topic_problem),
    InputField("address", required=True, rule=address_problem),
    InputField("access_token", secret=True, state_only=True),
    ADOPT,
)


def _split_id(id_: str) -> tuple[str, str]:
    shop, sep, webhook_id = id_.partition("/")
    if not sep or not _WEBHOOK_ID.fullmatch(webhook_id):
        raise errors.InputValidationError("id", f"must look like {{shop}}/{{webhook_id}}, got {id_!r}")
    return shop, webhook_id


class ShoplazzaWebhookProvider(WebhookProvider["ShoplazzaApi", "ShoplazzaWebhook"]):
    """Manages one Shoplazza webhook subscription."""

    platform = "Shoplazza"
    fields = FIELDS
    natural_key = "topic"
    credential_settings = (Credential("access_token", ACCESS_TOKEN, settings.header_credential_problem),)

    # -- configure / check --------------------------------------------------------------------------
    def check_settings(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures: list[tuple[str, str]] = []
        token_missing = missing_credential(
            ACCESS_TOKEN, inputs.get("access_token"), field="access_token", what="Shoplazza access token"
        )
        failures += [token_missing] if token_missing else []
        for setting, rule in (
            (BASE_URL, base_url_template_problem("{shop}")),
            (API_VERSION, api_version_problem),
        ):
            problem = settings.setting_problem(setting, rule)
            if problem:
                failures.append(("", problem))
        return failures

    def connect(self, inputs: Mapping[str, Any], *, resource_id: str | None = None) -> ShoplazzaApi:
        from pulumi_webhooks.shoplazza.api import ShoplazzaApi

        shop = inputs.get("shop") or (_split_id(resource_id)[0] if resource_id else None)
        if not shop:
            raise errors.ConfigurationError("Shoplazza: the shop is unknown")
        token = settings.require(
            ACCESS_TOKEN, inputs.get("access_token"), what="Shoplazza access token", field="access_token"
        )
        template = settings.checked(BASE_URL, api_base_url_problem)
        version = settings.checked(API_VERSION, api_version_problem)
        return ShoplazzaApi(template.replace("{shop}", shop), version, token)

    def inputs_from_id(self, id_: str) -> dict[str, Any]:
        return {"shop": _split_id(id_)[0]}

    # -- diff ---------------------------------------------------------------------------------------
    def replacement_collides(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        # A shop holds one subscription per topic: a replacement in the same shop with the same topic
        # can only be created once the old one is gone. (Unknown values: assume the worst.)
        same_shop = is_unknown(news.get("shop")) or olds.get("shop") == news.get("shop")
        same_topic = is_unknown(news.get("topic")) or olds.get("topic") == news.get("topic")
        return same_shop and same_topic

    # -- create -------------------------------------------------------------------------------------
    def resource_id(self, inputs: Mapping[str, Any], remote: ShoplazzaWebhook) -> str:
        return f"{inputs['shop']}/{remote.id}"

    def find_existing(self, api: ShoplazzaApi, inputs: Mapping[str, Any]) -> ShoplazzaWebhook | None:
        matches = [w for w in api.webhooks() if w.topic == inputs["topic"]]
        identical = [w for w in matches if w.address == inputs["address"]]
        return next(iter(identical or matches), None)

    def same_as_declared(self, remote: ShoplazzaWebhook, inputs: Mapping[str, Any]) -> bool:
        return (remote.topic, remote.address) == (inputs["topic"], inputs["address"])

    def describe(self, remote: ShoplazzaWebhook) -> str:
        return f"id {remote.id}, topic {remote.topic}, address {remote.address}"

    def adopt(
        self, api: ShoplazzaApi, existing: ShoplazzaWebhook, inputs: Mapping[str, Any]
    ) -> ShoplazzaWebhook:
        # Same topic (the key), another address: an update in place takes it over.
        return api.update_webhook(existing.id, address=inputs["address"])

    def api_create(self, api: ShoplazzaApi, inputs: Mapping[str, Any]) -> ShoplazzaWebhook:
        return api.create_webhook(topic=inputs["topic"], address=inputs["address"])

    # -- read / update / delete ---------------------------------------------------------------------
    def api_read(self, api: ShoplazzaApi, id_: str, inputs: Mapping[str, Any]) -> ShoplazzaWebhook | None:
        return api.find_webhook(_split_id(id_)[1])

    def api_update(
        self, api: ShoplazzaApi, id_: str, olds: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> ShoplazzaWebhook:
        webhook_id = _split_id(id_)[1]
        # Only what changed is sent: re-sending the unchanged topic must not look like a second
        # subscription to it.
        address = inputs["address"] if olds.get("address") != inputs["address"] else None
        topic = inputs["topic"] if olds.get("topic") != inputs["topic"] else None
        if address is None and topic is None:
            address = inputs["address"]
        try:
            return api.update_webhook(webhook_id, address=address, topic=topic)
        except errors.ConflictError as exc:
            raise self._topic_taken(api, exc, webhook_id, inputs) from None
        except errors.NotFoundError as exc:
            raise errors.NotFoundError(
                platform=self.platform,
                operation=exc.operation,
                status=exc.status,
                code=exc.code,
                detail=exc.detail,
                request_id=exc.request_id,
                hint="The subscription was deleted outside Pulumi (Shoplazza also deletes subscriptions "
                "whose deliveries keep failing); run `pulumi refresh`, then `pulumi up` creates it again",
            ) from None

    def api_delete(self, api: ShoplazzaApi, id_: str, inputs: Mapping[str, Any]) -> None:
        api.delete_webhook(_split_id(id_)[1])

    def remote_outputs(self, remote: ShoplazzaWebhook) -> dict[str, Any]:
        return {
            "topic": remote.topic,
            "address": remote.address,
            "webhook_id": remote.id,
            "created_at": remote.created_at,
            "updated_at": remote.updated_at,
        }

    # -- helpers ------------------------------------------------------------------------------------
    def _topic_taken(
        self, api: ShoplazzaApi, exc: errors.ConflictError, webhook_id: str, inputs: Mapping[str, Any]
    ) -> errors.ConflictError:
        """The error for moving a subscription onto a topic another subscription of the shop holds."""
        topic = inputs["topic"]
        holder = "another subscription"
        try:
            others = [w for w in api.webhooks() if w.topic == topic and w.id != webhook_id]
        except errors.ApiError:  # the message is still clear without the id
            others = []
        if others:
            holder = f"the subscription with id {others[0].id} (address {others[0].address})"
        return errors.ConflictError(
            platform=self.platform,
            operation="update",
            status=exc.status,
            code=exc.code,
            detail=(
                f"cannot move subscription {webhook_id} to topic {topic!r}: shop {inputs['shop']!r} already "
                f"has {holder} for it, and a shop holds one subscription per topic ({exc.detail})"
            ),
            request_id=exc.request_id,
            hint="Delete that subscription (or the resource that manages it) first, then run `pulumi up` again",
        )
