"""Sample deliveries: a realistic, correctly signed event per platform and topic.

Used by ``pulumi-webhooks trigger`` (send one to any URL) and by the sandbox's ``POST /_sandbox/deliver``
(send one to every subscription of a topic). Payload shapes follow reference/platforms.md: CJ's
envelope and per-type ``params`` (§1.6) and UP42's ``{"event", "body"}`` (§3.3) are documented; SHOPLINE
and Shoplazza document the headers but not the bodies, so their order, product and customer bodies are
constructed in the Shopify-like shape both platforms use, and other topics get a small generic object.
Signing goes through :mod:`pulumi_webhooks.verify` (one implementation of each algorithm).
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from typing import Any

from pulumi_webhooks._core.catalog import unknown_name_reason
from pulumi_webhooks.verify import (
    CJ_HEADER,
    SHOPLAZZA_HEADER,
    SHOPLINE_HEADER,
    content_digest,
    sign_cjdropshipping,
    sign_shoplazza,
    sign_shopline,
    sign_up42,
)

PLATFORMS = ("cjdropshipping", "shopline", "shoplazza", "up42")
ALIASES = {"cj": "cjdropshipping"}
DEFAULT_SECRET = "sandbox-secret"  # noqa: S105 (a documented, public default for local testing)
DEFAULT_OPEN_ID = "123456789012345"
DEFAULT_SHOP_DOMAINS = {"shopline": "open001.myshopline.com", "shoplazza": "store-a.myshoplaza.com"}
DEFAULT_API_VERSIONS = {"shopline": "v20260301", "shoplazza": "2022-01"}
JSON_HEADERS = {"Content-Type": "application/json"}
_TITLES = {
    "cjdropshipping": "CJdropshipping",
    "shopline": "SHOPLINE",
    "shoplazza": "Shoplazza",
    "up42": "UP42",
}
_CN = timezone(timedelta(hours=8))  # SHOPLINE and CJ write their times in UTC+8


@dataclass(frozen=True)
class SampleDelivery:
    """One delivery as the platform would send it: POST ``body`` (exact bytes) with ``headers``."""

    platform: str
    topic: str
    body: bytes
    headers: dict[str, str]
    signed: bool


def platform_name(name: str) -> str:
    """The canonical platform name (``cj`` is accepted for ``cjdropshipping``); ValueError otherwise."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in PLATFORMS:
        raise ValueError(unknown_name_reason(name, PLATFORMS, what="platform", where="pulumi-webhooks"))
    return key


def catalog(platform: str, api_version: str | None = None) -> frozenset[str]:
    """The topics (SHOPLINE, Shoplazza), message types (CJ) or events (UP42) a platform delivers.

    The catalogs are the ones the resources check against, imported on demand so that a caller pays only
    for the platform it uses."""
    if platform == "shopline":
        from pulumi_webhooks.shopline.topics import topics_for

        return topics_for(api_version or DEFAULT_API_VERSIONS["shopline"])
    if platform == "shoplazza":
        from pulumi_webhooks.shoplazza.topics import TOPICS

        return TOPICS
    if platform == "cjdropshipping":
        from pulumi_webhooks.cjdropshipping.topics import MESSAGE_TYPES

        return frozenset(t for types in MESSAGE_TYPES.values() for t in types)
    if platform == "up42":
        from pulumi_webhooks.up42.topics import EVENTS

        return EVENTS
    raise ValueError(f"unknown platform {platform!r}")


def check_topic(platform: str, topic: str, api_version: str | None = None) -> str:
    """``topic`` as the platform spells it, or ValueError with a "did you mean" hint."""
    names = catalog(platform, api_version)
    wanted = topic.strip().upper() if platform == "cjdropshipping" else topic.strip()
    if wanted not in names:
        what = {"cjdropshipping": "message type", "up42": "event"}.get(platform, "topic")
        raise ValueError(unknown_name_reason(topic, names, what=what, where=_TITLES[platform]))
    return wanted


def build_delivery(
    platform: str,
    topic: str,
    *,
    secret: str | None = None,
    open_id: str | int | None = None,
    shop_domain: str | None = None,
    api_version: str | None = None,
    encoding: str = "hex",
    now: float | None = None,
) -> SampleDelivery:
    """A signed sample delivery of ``topic`` on ``platform`` (names as :func:`check_topic` accepts them).

    ``secret``: SHOPLINE's app secret, Shoplazza's client secret or the UP42 webhook secret (default
    :data:`DEFAULT_SECRET`; for UP42 an empty string sends the delivery unsigned, as UP42 does for a
    webhook without a secret). CJ signs with ``open_id`` instead, which also goes into the payload.
    ``encoding`` is SHOPLINE's header encoding, ``hex`` (the SDK) or ``base64``."""
    platform = platform_name(platform)
    topic = check_topic(platform, topic, api_version)
    moment = time.time() if now is None else now
    if platform == "cjdropshipping":
        if secret is not None:
            raise ValueError(
                "CJdropshipping signs deliveries with the account's openId: pass open_id, not secret"
            )
        key = str(open_id if open_id is not None else DEFAULT_OPEN_ID).strip()
        body = _encode(_cj_event(topic, key, moment))
        return SampleDelivery(
            platform, topic, body, {**JSON_HEADERS, CJ_HEADER: sign_cjdropshipping(body, key)}, True
        )
    key = DEFAULT_SECRET if secret is None else secret
    if platform == "up42":
        body = _encode(_up42_event(topic, moment))
        headers = {
            **JSON_HEADERS,
            "Date": formatdate(moment, usegmt=True),
            "Content-Digest": content_digest(body),
        }
        if key:
            headers |= sign_up42(headers, key, created=int(moment))
        return SampleDelivery(platform, topic, body, headers, bool(key))
    version = api_version or DEFAULT_API_VERSIONS[platform]
    domain = shop_domain or DEFAULT_SHOP_DOMAINS[platform]
    if platform == "shopline":
        body = _encode(_shopline_event(topic, moment))
        if encoding not in ("hex", "base64"):
            raise ValueError(f"encoding must be hex or base64, got {encoding!r}")
        headers = {
            **JSON_HEADERS,
            "X-Shopline-Topic": topic,
            SHOPLINE_HEADER: sign_shopline(body, key, encoding="hex" if encoding == "hex" else "base64"),
            "X-Shopline-Shop-Domain": domain,
            "X-Shopline-Shop-Id": "1670000000123",
            "X-Shopline-Merchant-Id": "2000000000456",
            "X-Shopline-API-Version": version,
            "X-Shopline-Webhook-Id": str(uuid.uuid4()),
        }
        return SampleDelivery(platform, topic, body, headers, True)
    body = _encode(_shoplazza_event(topic, moment))
    headers = {
        **JSON_HEADERS,
        "X-Shoplazza-Topic": topic,
        SHOPLAZZA_HEADER: sign_shoplazza(body, key),
        "X-Shoplazza-Shop-Domain": domain,
        "X-Shoplazza-Api-Version": version,
        "X-Shoplazza-Deduplication-ID": str(uuid.uuid4()),
    }
    return SampleDelivery(platform, topic, body, headers, True)


def _encode(payload: Any) -> bytes:
    # Compact UTF-8 with real non-ASCII characters (the sample names carry some): a receiver that
    # re-encodes the body instead of verifying the raw bytes fails at once, as it would in production.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _digits(n: int) -> str:
    return str(secrets.randbelow(9 * 10 ** (n - 1)) + 10 ** (n - 1))


def _iso(moment: float, tz: timezone = timezone.utc) -> str:
    return datetime.fromtimestamp(moment, tz).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- CJdropshipping (documented envelope and params, §1.6) ---------------------------------------------


def _cj_event(kind: str, open_id: str, moment: float) -> dict[str, Any]:
    stamp = datetime.fromtimestamp(moment, _CN).strftime("%Y-%m-%d %H:%M:%S")
    pid, vid = "1424608189734850560", "1424608152007086080"
    params: dict[str, Any]
    message_type = "UPDATE"
    if kind == "PRODUCT":
        params = {
            "categoryId": "2FE8A083-5E7B-4179-896D-561EA116F730",
            "categoryName": "Women's Clothing / Dresses",
            "pid": pid,
            "productDescription": None,
            "productImage": "https://cc-west-usa.oss-us-west-1.aliyuncs.com/product/sample.jpg",
            "productName": None,
            "productNameEn": "Summer Floral Midi Dress",
            "productProperty1": None,
            "productProperty2": None,
            "productProperty3": None,
            "productSellPrice": 12.38,
            "productSku": "CJLQ1424608",
            "productStatus": 3,
            "fields": ["productSellPrice", "productStatus"],
        }
    elif kind == "VARIANT":
        params = {
            "vid": vid,
            "variantName": None,
            "variantWeight": 210,
            "variantLength": 300,
            "variantWidth": 250,
            "variantHeight": 20,
            "variantImage": "https://cc-west-usa.oss-us-west-1.aliyuncs.com/variant/sample.jpg",
            "variantSku": "CJLQ1424608-Blue-M",
            "variantKey": "Blue-M",
            "variantSellPrice": 12.38,
            "variantStatus": 1,
            "variantValue1": "Blue",
            "variantValue2": "M",
            "variantValue3": None,
            "fields": ["variantSellPrice"],
        }
    elif kind == "STOCK":
        params = {
            vid: [
                {"vid": vid, "areaId": "2", "areaEn": "US Warehouse", "countryCode": "US", "storageNum": 120},
                {
                    "vid": vid,
                    "areaId": "1",
                    "areaEn": "China Warehouse",
                    "countryCode": "CN",
                    "storageNum": 4031,
                },
            ]
        }
    elif kind == "ORDER":
        params = {
            "cjOrderId": "210823100016290555",
            "orderNum": "SO-1001",
            "orderNumber": "SO-1001",
            "orderStatus": "SHIPPED",
            "logisticName": "CJPacket Ordinary",
            "trackNumber": "CJPKL7160102171YQ",
            "trackingUrl": "https://www.cjpacket.com/?trackingNumber=CJPKL7160102171YQ",
            "createDate": stamp,
            "updateDate": stamp,
            "payDate": stamp,
            "deliveryDate": stamp,
            "completeDate": None,
            "orderItems": [
                {
                    "vid": vid,
                    "quantity": 2,
                    "sellPrice": 12.38,
                    "storeLineItemId": "11223344556677",
                    "lineItemId": "1693140000000000001",
                    "productionOrderStatus": None,
                    "abnormalType": [],
                }
            ],
        }
    elif kind == "ORDERSPLIT":
        message_type = "INSERT"
        params = {
            "originalOrderId": "210823100016290555",
            "orderSplitTime": stamp,
            "splitOrderList": [
                {
                    "orderCode": "210823100016290555-1",
                    "createAt": stamp,
                    "orderStatus": "UNSHIPPED",
                    "productList": [
                        {"productCode": "CJLQ1424608", "vid": vid, "quantity": 1, "sku": "CJLQ1424608-Blue-M"}
                    ],
                },
                {
                    "orderCode": "210823100016290555-2",
                    "createAt": stamp,
                    "orderStatus": "UNSHIPPED",
                    "productList": [
                        {"productCode": "CJLQ1424608", "vid": vid, "quantity": 1, "sku": "CJLQ1424608-Blue-M"}
                    ],
                },
            ],
        }
    elif kind in ("MAKEUP", "PRIVATE_ORDER"):
        # MAKEUP bills and SY private-inventory orders: the field names third-party notes list (§1.6).
        params = {
            "orderId": "210823100016290555",
            "relationOrderId": "SO-1001",
            "amount": 3.5,
            "status": "PAID",
        }
    else:  # LOGISTIC: the docs' delivery sample; the track events are a JSON string inside the JSON
        events = [{"status": 12, "activity": "Delivered, PO Box", "eventTime": stamp}]
        params = {
            "orderId": "210823100016290555",
            "logisticName": "CJPacket Ordinary",
            "trackingNumber": "CJPKL7160102171YQ",
            "trackingUrl": "https://www.cjpacket.com/?trackingNumber=CJPKL7160102171YQ",
            "trackingStatus": 12,
            "logisticsTrackEvents": json.dumps(events, separators=(",", ":")),
        }
    return {
        "messageId": uuid.uuid4().hex,
        "type": kind,
        "messageType": message_type,
        "openId": int(open_id) if open_id.isdigit() else open_id,
        "params": params,
    }


# -- UP42 (documented `{"event", "body"}`, §3.3; fields beyond `status` constructed) -------------------


def _up42_event(event: str, moment: float) -> dict[str, Any]:
    stamp = datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    workspace = "0cb1eaa0-89a3-11ec-a8a3-0242ac120002"
    if event == "job.status":
        body = {
            "jobId": str(uuid.uuid4()),
            "workspaceId": workspace,
            "status": "SUCCEEDED",
            "updatedAt": stamp,
        }
    elif event == "order.status":
        body = {
            "orderId": str(uuid.uuid4()),
            "workspaceId": workspace,
            "status": "FULFILLED",
            "updatedAt": stamp,
        }
    else:
        body = {"id": str(uuid.uuid4()), "workspaceId": workspace, "status": "UPDATED", "updatedAt": stamp}
    return {"event": event, "body": body}


# -- SHOPLINE and Shoplazza (headers documented; bodies constructed, Shopify-like) ---------------------

_CUSTOMER = {
    "email": "zoe.muller@example.com",
    "first_name": "Zoë",
    "last_name": "Müller",
    "phone": "+4915112345678",
}
_ADDRESS = {
    "first_name": "Zoë",
    "last_name": "Müller",
    "address1": "Torstraße 109",
    "city": "Berlin",
    "zip": "10119",
    "country_code": "DE",
    "phone": "+4915112345678",
}


def _order_status(action: str) -> dict[str, Any]:
    financial = "paid" if action in ("paid", "fulfilled", "partially_fulfilled", "finished") else "pending"
    fulfillment = {"fulfilled": "fulfilled", "partially_fulfilled": "partial", "finished": "fulfilled"}.get(
        action
    )
    if action in ("refunded", "partially_refunded"):
        financial = action
    return {"financial_status": financial, "fulfillment_status": fulfillment}


def _shopline_event(topic: str, moment: float) -> dict[str, Any]:
    resource, _, action = topic.partition("/")
    now = _iso(moment, _CN)
    if resource == "orders":
        order_id = _digits(19)
        return {
            "id": order_id,
            "name": "#1001",
            "email": _CUSTOMER["email"],
            "currency": "EUR",
            "subtotal_price": "54.80",
            "total_shipping_price": "5.00",
            "total_tax": "0.00",
            "total_price": "59.80",
            **_order_status(action),
            "cancelled_at": now if action == "cancelled" else None,
            "cancel_reason": "customer" if action == "cancelled" else None,
            "created_at": now,
            "updated_at": now,
            "customer": {"id": _digits(19), **_CUSTOMER},
            "shipping_address": _ADDRESS,
            "line_items": [
                {
                    "id": _digits(19),
                    "product_id": "16057486127587453652200445",
                    "variant_id": "18057486127592507788850445",
                    "title": "Leinenhemd",
                    "sku": "LH-BLUE-M",
                    "quantity": 2,
                    "price": "27.40",
                }
            ],
        }
    if resource in ("products", "product_listings"):
        return {
            "id": "16057486127587453652200445",
            "title": "Leinenhemd",
            "handle": "leinenhemd",
            "status": "draft" if action == "delete" else "active",
            "vendor": "Müller & Söhne",
            "tags": "linen,summer",
            "created_at": now,
            "updated_at": now,
            "variants": [
                {
                    "id": "18057486127592507788850445",
                    "sku": "LH-BLUE-M",
                    "price": "27.40",
                    "inventory_quantity": 48,
                }
            ],
        }
    if resource in ("customers", "customers_marketing_consent"):
        return {"id": _digits(19), **_CUSTOMER, "state": "enabled", "created_at": now, "updated_at": now}
    return {"id": _digits(19), "created_at": now, "updated_at": now}


def _shoplazza_event(topic: str, moment: float) -> dict[str, Any]:
    resource, _, action = topic.partition("/")
    now = _iso(moment)
    if resource == "orders":
        return {
            "id": str(uuid.uuid4()),
            "number": "1001",
            "email": _CUSTOMER["email"],
            "currency": "EUR",
            "sub_total": "54.80",
            "total_shipping": "5.00",
            "total_tax": "0.00",
            "total_price": "59.80",
            **_order_status(action),
            "status": "cancelled" if action == "cancelled" else "opened",
            "created_at": now,
            "updated_at": now,
            "customer": {"id": str(uuid.uuid4()), **_CUSTOMER},
            "shipping_address": _ADDRESS,
            "line_items": [
                {
                    "id": str(uuid.uuid4()),
                    "product_id": "1ca6d83d-4e0f-4b6b-9d6c-0e1f2a3b4c5d",
                    "variant_id": "7e1b2c3d-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
                    "product_title": "Leinenhemd",
                    "sku": "LH-BLUE-M",
                    "quantity": 2,
                    "price": "27.40",
                }
            ],
        }
    if resource == "products":
        return {
            "id": "1ca6d83d-4e0f-4b6b-9d6c-0e1f2a3b4c5d",
            "title": "Leinenhemd",
            "handle": "leinenhemd",
            "published": action != "unpublish",
            "vendor": "Müller & Söhne",
            "tags": "linen,summer",
            "created_at": now,
            "updated_at": now,
            "variants": [
                {
                    "id": "7e1b2c3d-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
                    "sku": "LH-BLUE-M",
                    "price": "27.40",
                    "inventory_quantity": 48,
                }
            ],
        }
    if resource == "customers":
        return {"id": str(uuid.uuid4()), **_CUSTOMER, "created_at": now, "updated_at": now}
    return {"id": str(uuid.uuid4()), "created_at": now, "updated_at": now}
