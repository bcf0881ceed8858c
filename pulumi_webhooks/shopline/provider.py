"""The SHOPLINE webhook provider: schema, configure, create, read, update, delete.

Id ``{handle}/{webhook_id}``. ``address`` updates in place (``PUT /{id}/webhooks.json``); ``handle``,
``topic`` and ``api_version`` replace. The natural key is topic + address (the store holds one of each).

The module path and class name are written into every stack's state: never rename or move them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi_webhooks._core import settings
from pulumi_webhooks._core.errors import ConfigurationError, InputValidationError
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
from pulumi_webhooks.shopline.topics import unknown_topic_reason

if TYPE_CHECKING:  # the API client (httpx, pydantic) loads at the first call: a program never needs it
    from pulumi_webhooks.shopline.api import ShoplineApi
    from pulumi_webhooks.shopline.models import ShoplineWebhook

# -- schema ------------------------------------------------------------------------------------------
ACCESS_TOKEN = settings.Setting("shopline:accessToken", "SHOPLINE_ACCESS_TOKEN", secret=True)
BASE_URL = settings.Setting(
    "shopline:baseUrl", "SHOPLINE_BASE_URL", default="https://{handle}.myshopline.com"
)
ADMIN_API_VERSION = settings.Setting(
    "shopline:adminApiVersion", "SHOPLINE_ADMIN_API_VERSION", default="v20260301"
)
# Requests per second the store's plan allows: 4 on standard plans; Enterprise plans are "unlimited"
# (flow-control docs), and then the provider does not pace at all (a 429 is still retried).
QPS = settings.Setting("shopline:qps", "SHOPLINE_QPS", default="4")
settings.declare(ACCESS_TOKEN, BASE_URL, ADMIN_API_VERSION, QPS)
UNLIMITED = "unlimited"
MAX_QPS = 1000.0

OLDEST_EVENT_VERSION = "v20240601"  # earlier event versions are managed in the SHOPLINE admin, not the API
MAX_ADDRESS_LENGTH = 255
_HANDLE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_VERSION = re.compile(r"v(\d{4})(\d{2})(\d{2})")


def handle_problem(handle: str) -> str | None:
    if not _HANDLE.fullmatch(handle):
        return (
            "must be the store handle: the lowercase prefix of {handle}.myshopline.com "
            f"(letters, digits, hyphens), got {excerpt(handle)}"
        )
    return None


def version_problem(version: str, *, oldest: str | None = None) -> str | None:
    match = _VERSION.fullmatch(version)
    if not match or not (1 <= int(match[2]) <= 12 and 1 <= int(match[3]) <= 31):
        return f"must be a version like v20260301 (vYYYYMMDD), got {excerpt(version)}"
    if oldest is not None and version < oldest:
        return (
            f"must be {oldest} or later: SHOPLINE's webhook API manages only event versions from "
            f"{oldest} on (older ones are configured in the SHOPLINE admin), got {excerpt(version)}"
        )
    return None


def qps_problem(raw: str) -> str | None:
    if raw.strip().lower() == UNLIMITED:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= MAX_QPS:
        return (
            f"must be the store's requests per second (more than 0, at most {MAX_QPS:g}) "
            f"or `{UNLIMITED}`, got {excerpt(raw)}"
        )
    return None


def store_qps(raw: str) -> float | None:
    """The store's requests per second from a valid setting; None for an unlimited (Enterprise) plan."""
    return None if raw.strip().lower() == UNLIMITED else float(raw)


def address_problem(address: str) -> str | None:
    return callback_url_problem(address, max_length=MAX_ADDRESS_LENGTH)


FIELDS = (
    InputField("handle", required=True, replaces=True, rule=handle_problem),
    InputField("topic", required=True, replaces=True),
    InputField("address", required=True, rule=address_problem),
    InputField(
        "api_version",
        required=True,
        replaces=True,
        rule=lambda v: version_problem(v, oldest=OLDEST_EVENT_VERSION),
    ),
    InputField("access_token", secret=True, state_only=True),
    ADOPT,
)


def _split_id(id_: str) -> tuple[str, str]:
    handle, sep, webhook_id = id_.partition("/")
    if not sep or not webhook_id.isdigit():
        raise InputValidationError("id", f"must look like {{handle}}/{{webhook_id}}, got {id_!r}")
    return handle, webhook_id


class ShoplineWebhookProvider(WebhookProvider["ShoplineApi", "ShoplineWebhook"]):
    """Manages one SHOPLINE webhook subscription."""

    platform = "SHOPLINE"
    fields = FIELDS
    natural_key = "topic and address"
    credential_settings = (Credential("access_token", ACCESS_TOKEN, settings.header_credential_problem),)

    # -- configure / check --------------------------------------------------------------------------
    def check_settings(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures: list[tuple[str, str]] = []
        topic, version = inputs.get("topic"), inputs.get("api_version")
        if isinstance(topic, str) and topic and not is_unknown(topic):
            known = isinstance(version, str) and version_problem(version) is None
            reason = unknown_topic_reason(topic, version if known else None)
            if reason:
                failures.append(("topic", reason))
        token_missing = missing_credential(
            ACCESS_TOKEN, inputs.get("access_token"), field="access_token", what="SHOPLINE access token"
        )
        failures += [token_missing] if token_missing else []
        for setting, rule in (
            (BASE_URL, base_url_template_problem("{handle}")),
            (ADMIN_API_VERSION, version_problem),
            (QPS, qps_problem),
        ):
            problem = settings.setting_problem(setting, rule)
            if problem:
                failures.append(("", problem))
        return failures

    def connect(self, inputs: Mapping[str, Any], *, resource_id: str | None = None) -> ShoplineApi:
        from pulumi_webhooks.shopline.api import ShoplineApi, rate_policy

        handle = inputs.get("handle") or (_split_id(resource_id)[0] if resource_id else None)
        if not handle:
            raise ConfigurationError("SHOPLINE: the store handle is unknown")
        token = settings.require(
            ACCESS_TOKEN, inputs.get("access_token"), what="SHOPLINE access token", field="access_token"
        )
        template = settings.checked(BASE_URL, api_base_url_problem)
        raw_qps = settings.checked(QPS, qps_problem)
        version = settings.lookup(ADMIN_API_VERSION)
        base = template.replace("{handle}", handle).rstrip("/")
        return ShoplineApi(f"{base}/admin/openapi/{version}", token, rate=rate_policy(store_qps(raw_qps)))

    def inputs_from_id(self, id_: str) -> dict[str, Any]:
        return {"handle": _split_id(id_)[0]}

    # -- create -------------------------------------------------------------------------------------
    def resource_id(self, inputs: Mapping[str, Any], remote: ShoplineWebhook) -> str:
        return f"{inputs['handle']}/{remote.id}"

    def find_existing(self, api: ShoplineApi, inputs: Mapping[str, Any]) -> ShoplineWebhook | None:
        for webhook in api.webhooks():
            if webhook.topic == inputs["topic"] and webhook.address == inputs["address"]:
                return webhook
        return None

    def same_as_declared(self, remote: ShoplineWebhook, inputs: Mapping[str, Any]) -> bool:
        return (remote.topic, remote.address, remote.api_version) == (
            inputs["topic"],
            inputs["address"],
            inputs["api_version"],
        )

    def describe(self, remote: ShoplineWebhook) -> str:
        return f"id {remote.id}, topic {remote.topic}, api_version {remote.api_version}"

    def adopt(
        self, api: ShoplineApi, existing: ShoplineWebhook, inputs: Mapping[str, Any]
    ) -> ShoplineWebhook:
        # Topic and address are the key, so only api_version can differ, and SHOPLINE cannot update it
        # (nor hold two with one key): delete, create, and put the old one back if the create fails.
        return self.recreate(api, existing, inputs)

    def api_create(self, api: ShoplineApi, inputs: Mapping[str, Any]) -> ShoplineWebhook:
        return api.create_webhook(
            topic=inputs["topic"], address=inputs["address"], api_version=inputs["api_version"]
        )

    # -- read / update / delete ---------------------------------------------------------------------
    def api_read(self, api: ShoplineApi, id_: str, inputs: Mapping[str, Any]) -> ShoplineWebhook | None:
        return api.find_webhook(_split_id(id_)[1])

    def api_update(
        self, api: ShoplineApi, id_: str, olds: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> ShoplineWebhook:
        return api.update_webhook(_split_id(id_)[1], address=inputs["address"])

    def api_delete(self, api: ShoplineApi, id_: str, inputs: Mapping[str, Any]) -> None:
        api.delete_webhook(_split_id(id_)[1])

    def remote_outputs(self, remote: ShoplineWebhook) -> dict[str, Any]:
        return {
            "topic": remote.topic,
            "address": remote.address,
            "api_version": remote.api_version,
            "webhook_id": str(remote.id),
            "created_at": remote.created_at,
            "updated_at": remote.updated_at,
        }

    def replacement_collides(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        # The store holds one subscription per topic + address: a new one with the same key (only the
        # event version changed) can only be created once the old one is gone.
        return all(olds.get(k) == news.get(k) for k in ("handle", "topic", "address"))
