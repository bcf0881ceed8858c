"""`POST /_sandbox/deliver`: send a signed sample event to every subscription of a topic.

The sandbox's subscriptions carry public `https://` addresses (the platforms accept nothing else), and the
sandbox must never contact anything but loopback. So a delivery goes to the `to` URL of the request,
which must be a loopback address (`http://127.0.0.1:PORT/...`, `http://[::1]:PORT/...`,
`http://localhost:PORT/...`); the subscription's own address travels in the `X-Sandbox-Original-Address`
header (and, with `keep_path`, its path and query are appended to `to`'s origin, so one local receiver
can route by path as the public one would).

Request body:

    {"platform": "shopline", "topic": "orders/create", "to": "http://127.0.0.1:8000/hooks",
     "store": "open001", "secret": "...", "keep_path": false, "encoding": "hex", "timeout": 5}

- `platform`: `shopline`, `shoplazza`, `up42`, `cjdropshipping` (or `cj`);
- `topic`: a topic (SHOPLINE, Shoplazza), a message type (CJ: `PRODUCT`, `ORDER`, `LOGISTIC`…) or an
  event (UP42: `job.status`, `order.status`);
- `store` (optional: all of them): the SHOPLINE store handle, Shoplazza shop, UP42 workspace id or CJ
  account (the user number before `@api@` in the API key);
- `secret`: SHOPLINE's app secret / Shoplazza's client secret (default `sandbox-secret`). CJ deliveries
  are signed with the account's openId and UP42 ones with each webhook's own secret (unsigned when it
  has none, as UP42 does), so `secret` is refused for them;
- which subscriptions receive it: SHOPLINE and Shoplazza, every subscription of that topic; CJ, every
  account whose group for that message type is ENABLEd; UP42, every active webhook subscribed to the event.

Answer: `{"platform", "topic", "deliveries": [{store, subscription, address, to, status, ok, error,
signed, duration_ms, response}], "delivered", "failed", "skipped": [{store, subscription, reason}]}`.
Deliveries are sent one after the other from the admin request's thread, each with its own timeout.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pulumi_webhooks._core.urls import is_loopback_host
from pulumi_webhooks._samples import build_delivery, check_topic, platform_name

from ._core import Reject, Sandbox, SandboxResponse, json_response
from .shopline import MIN_EVENT_VERSION

ORIGINAL_ADDRESS_HEADER = "X-Sandbox-Original-Address"
RESPONSE_SNIPPET = 200  # characters of each receiver's answer kept in the report


class DeliverSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str
    topic: str
    to: str
    store: str | None = None
    secret: str | None = Field(None, min_length=1)
    keep_path: bool = False
    encoding: Literal["hex", "base64"] = "hex"
    timeout: float = Field(5.0, gt=0, le=60)


@dataclass(frozen=True)
class _Target:
    store: str
    subscription: str
    address: str
    secret: str | None  # None: the platform's default (SHOPLINE, Shoplazza) or unsigned (UP42)
    open_id: str | None = None
    api_version: str | None = None
    inactive: bool = False


def deliver(sandbox: Sandbox, data: Any) -> SandboxResponse:
    """Run one `POST /_sandbox/deliver` (see the module docstring)."""
    try:
        spec = DeliverSpec.model_validate(data)
    except ValidationError as exc:
        raise _bad(
            "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        ) from exc
    try:
        platform = platform_name(spec.platform)
        # SHOPLINE: the oldest event version's catalog holds every topic a stored subscription can have.
        topic = check_topic(platform, spec.topic, MIN_EVENT_VERSION if platform == "shopline" else None)
    except ValueError as exc:
        raise _bad(str(exc)) from exc
    problem = target_problem(spec.to)
    if problem:
        raise _bad(problem)
    if spec.secret is not None and platform in ("cjdropshipping", "up42"):
        how = "the account's openId" if platform == "cjdropshipping" else "each webhook's own secret"
        raise _bad(f"{platform} deliveries are signed with {how}: leave out 'secret'")
    if platform not in sandbox.platforms:
        raise _bad(f"platform {platform!r} is not served by this sandbox")
    snapshot = sandbox.platforms[platform].snapshot()  # a copy: no platform lock is held while sending
    deliveries: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for target in _targets(platform, topic, snapshot, spec.store):
        if target.inactive:
            skipped.append({"store": target.store, "subscription": target.subscription, "reason": "inactive"})
            continue
        deliveries.append(_send(platform, topic, target, spec))
    delivered = sum(1 for d in deliveries if d["ok"])
    return json_response(
        200,
        {
            "platform": platform,
            "topic": topic,
            "deliveries": deliveries,
            "delivered": delivered,
            "failed": len(deliveries) - delivered,
            "skipped": skipped,
        },
    )


def target_problem(url: str) -> str | None:
    """Why the sandbox may not deliver to ``url`` (None when it may: http(s) on a loopback host)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return f"'to' is not a URL: {url!r}"
    if parts.scheme not in ("http", "https") or not host:
        return f"'to' must be an http:// or https:// URL, got {url!r}"
    if parts.username is not None or parts.password is not None:
        return "'to' must not carry user information"
    # `x.localhost` names are left out: they reach loopback only when the resolver says so.
    if host.endswith(".localhost") or not is_loopback_host(host):
        return (
            f"'to' must be a loopback address (127.0.0.1, [::1] or localhost), got host {host!r}: the sandbox "
            "never contacts anything else. Point 'to' at your local receiver; the subscription's own address "
            f"is sent in {ORIGINAL_ADDRESS_HEADER}"
        )
    return None


def _targets(platform: str, topic: str, snapshot: dict[str, Any], store: str | None) -> Iterator[_Target]:
    if platform == "shopline":
        for handle, hooks in _stores(snapshot.get("stores", {}), store):
            for hook in hooks:
                if hook["topic"] == topic:
                    yield _Target(
                        handle, str(hook["id"]), hook["address"], None, api_version=hook["api_version"]
                    )
    elif platform == "shoplazza":
        for shop, hooks in _stores(snapshot.get("shops", {}), store):
            for hook in hooks:
                if hook["topic"] == topic:
                    yield _Target(shop, str(hook["id"]), hook["address"], None)
    elif platform == "up42":
        for workspace, hooks in _stores(snapshot.get("workspaces", {}), store):
            for hook in hooks:
                if topic in hook["events"]:
                    secret = hook.get("secret") or None
                    yield _Target(workspace, hook["id"], hook["url"], secret, inactive=not hook["active"])
    else:
        from pulumi_webhooks.cjdropshipping.topics import MESSAGE_TYPES

        group = next(name for name, types in MESSAGE_TYPES.items() if topic in types)
        for account, settings in _stores(snapshot.get("accounts", {}), store):
            found = settings.get("callback", {}).get(group)
            if found and found.get("type") == "ENABLE" and found.get("urls"):
                yield _Target(account, group, found["urls"][0], None, open_id=str(settings["open_id"]))


def _stores(stores: dict[str, Any], wanted: str | None) -> Iterator[tuple[str, Any]]:
    for name, value in sorted(stores.items()):
        if wanted is None or name.lower() == wanted.strip().lower():
            yield name, value


def _send(platform: str, topic: str, target: _Target, spec: DeliverSpec) -> dict[str, Any]:
    domain = None
    if platform == "shopline":
        domain = f"{target.store}.myshopline.com"
    elif platform == "shoplazza":
        domain = f"{target.store}.myshoplaza.com"
    if platform == "up42":
        secret = target.secret or ""  # "" sends it unsigned, as UP42 does for a webhook without secret
    elif platform == "cjdropshipping":
        secret = None
    else:
        secret = spec.secret
    sample = build_delivery(
        platform,
        topic,
        secret=secret,
        open_id=target.open_id,
        shop_domain=domain,
        api_version=target.api_version,
        encoding=spec.encoding,
    )
    to = _destination(spec.to, target.address, keep_path=spec.keep_path)
    headers = {**sample.headers, ORIGINAL_ADDRESS_HEADER: target.address}
    started = time.monotonic()
    status, text, error = _post(to, sample.body, headers, spec.timeout)
    return {
        "store": target.store,
        "subscription": target.subscription,
        "address": target.address,
        "to": to,
        "status": status,
        "ok": status is not None and 200 <= status < 300,
        "error": error,
        "signed": sample.signed,
        "duration_ms": round((time.monotonic() - started) * 1000, 3),
        "response": text,
    }


def _destination(to: str, address: str, *, keep_path: bool) -> str:
    if not keep_path:
        return to
    target, original = urlsplit(to), urlsplit(address)
    return urlunsplit((target.scheme, target.netloc, original.path or "/", original.query, ""))


def _post(
    url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int | None, str | None, str | None]:
    """POST with the standard library: no proxy from the environment, no redirect followed (a redirect
    could lead off loopback)."""
    parts = urlsplit(url)
    factory = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = factory(parts.hostname or "", parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(64 * 1024).decode("utf-8", "replace")
        return response.status, " ".join(text.split())[:RESPONSE_SNIPPET], None
    except (OSError, http.client.HTTPException) as exc:
        return None, None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    finally:
        connection.close()


def _bad(message: str) -> Reject:
    return Reject(json_response(400, {"error": message}))
