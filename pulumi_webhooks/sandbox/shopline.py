"""SHOPLINE Admin REST webhook endpoints (reference/platforms.md §2), one state per store handle.

Mounted at `/shopline/{handle}/admin/openapi/{version}/...`, so a client's base-URL template is
`http://127.0.0.1:PORT/shopline/{handle}`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from pulumi_webhooks.shopline.topics import topics_for

from ._core import Platform, Reject, SandboxRequest, SandboxResponse, empty_response, json_response

FIRST_ID = 13814  # the documented example id: ids look like the real ones
MIN_EVENT_VERSION = "v20240601"  # older event versions are managed in the SHOPLINE UI, not this API
MAX_ADDRESS = 255
TZ = timezone(timedelta(hours=8))  # the platform answers in UTC+8

# The emulator accepts the same per-version catalog the client checks against (one source: the SDK's
# GetSupportedTopic() lists, see shopline/topics.py); `orders/update` is not one of them.
_PREFIX = re.compile(
    r"^/(?P<handle>[A-Za-z0-9][A-Za-z0-9-]{0,62})/admin/openapi/(?P<version>v\d{8})(?P<rest>/.*)$"
)
_ONE = re.compile(r"^/(?P<id>\d{1,18})/webhooks\.json$")


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    address: str
    api_version: str
    topic: str
    created_at: str
    updated_at: str


class ShoplineState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    next_id: int = FIRST_ID
    stores: dict[str, list[Webhook]] = {}


class ShoplinePlatform(Platform):
    name = "shopline"
    url_template = "/shopline/{handle}"
    rate = 4.0  # per app per store: 4 requests/s, leaky bucket of 40 (§2.5)
    burst = 40.0

    def __init__(self) -> None:
        super().__init__()
        self.next_id = FIRST_ID
        self.stores: dict[str, dict[int, Webhook]] = {}  # handle -> id -> webhook

    # -- state ---------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.next_id = FIRST_ID
            self.stores = {}

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            stores = {
                h: [w.model_dump() for _, w in sorted(hooks.items())] for h, hooks in self.stores.items()
            }
            return {"next_id": self.next_id, "stores": stores}

    def load(self, data: Mapping[str, Any]) -> None:
        state = ShoplineState.model_validate(data)
        with self.lock:
            self.next_id = max([state.next_id, *(w.id + 1 for ws in state.stores.values() for w in ws)])
            self.stores = {h: {w.id: w for w in ws} for h, ws in state.stores.items()}

    # -- shared behaviour ----------------------------------------------------------------------

    def rate_key(self, req: SandboxRequest, sub_path: str) -> str | None:
        match = _PREFIX.match(sub_path)
        if match is None:
            return None
        # Limits are per app and store; the token stands for the app. Hashed: keys must not hold tokens.
        app = hashlib.sha256(_bearer(req).encode()).hexdigest()[:16]
        return f"{match['handle'].lower()}/{app}"

    def rate_limited(self) -> SandboxResponse:
        return self.error(429, "Too many request")  # sic, the documented body

    def response_headers(self, req: SandboxRequest) -> dict[str, str]:
        return {"traceId": secrets.token_hex(16)}

    # -- API -----------------------------------------------------------------------------------

    def handle(self, req: SandboxRequest, sub_path: str) -> SandboxResponse:
        match = _PREFIX.match(sub_path)
        if match is None or not _valid_date(match["version"]):
            return self.error(404, "Not Found")
        token = _bearer(req)
        if not token or (self.settings.token is not None and token != self.settings.token):
            return self.error(401, "Unauthorized")
        handle, rest, method = match["handle"].lower(), match["rest"], req.method
        one = _ONE.match(rest)
        if rest == "/webhooks.json" and method == "GET":
            with self.lock:
                hooks = sorted(self.stores.get(handle, {}).items())
                return json_response(200, {"webhooks": [w.model_dump() for _, w in hooks]})
        if rest == "/webhooks.json" and method == "POST":
            return self._create(handle, self._webhook_body(req))
        if rest == "/webhooks/count.json" and method == "GET":
            with self.lock:
                return json_response(200, {"count": len(self.stores.get(handle, {}))})
        if one is not None and method in ("GET", "PUT", "DELETE"):
            return self._one(handle, int(one["id"]), req)
        return self.error(404, "Not Found")

    def _create(self, handle: str, fields: dict[str, Any]) -> SandboxResponse:
        address, version, topic = (fields.get(k) for k in ("address", "api_version", "topic"))
        problems = {
            "address": _address_problem(address),
            "api_version": _version_problem(version),
            "topic": _topic_problem(topic, version),
        }
        self._fail_on({k: v for k, v in problems.items() if v})
        assert isinstance(address, str) and isinstance(version, str) and isinstance(topic, str)
        with self.lock:
            hooks = self.stores.setdefault(handle, {})
            self._unique(hooks, topic, address, None)
            now = _now()
            hook = Webhook(
                id=self.next_id,
                address=address,
                api_version=version,
                topic=topic,
                created_at=now,
                updated_at=now,
            )
            self.next_id += 1
            hooks[hook.id] = hook
            return self._answer(hook, wrote=True)

    def _one(self, handle: str, hook_id: int, req: SandboxRequest) -> SandboxResponse:
        fields = self._webhook_body(req) if req.method == "PUT" else {}
        with self.lock:
            hooks = self.stores.get(handle, {})
            hook = hooks.get(hook_id)
            if hook is None:
                return self.error(404, "Not Found")
            if req.method == "GET":
                return self._answer(hook)
            if req.method == "DELETE":
                del hooks[hook_id]
                return empty_response(200, wrote=True)
            # PUT: only the address can change; topic or api_version need delete + create.
            self._fail_on({k: ["cannot be updated, only address can"] for k in fields if k != "address"})
            address = fields.get("address")
            self._fail_on({"address": problem} if (problem := _address_problem(address)) else {})
            assert isinstance(address, str)
            self._unique(hooks, hook.topic, address, hook_id)
            hook = hooks[hook_id] = hook.model_copy(update={"address": address, "updated_at": _now()})
            return self._answer(hook, wrote=True)

    # -- helpers -------------------------------------------------------------------------------

    def _webhook_body(self, req: SandboxRequest) -> dict[str, Any]:
        """The `webhook` object of a JSON body; 400 for what the docs call syntax or type errors."""
        if not req.headers.get("content-type", "").lower().startswith("application/json"):
            raise Reject(self.error(400, "Content-Type must be application/json"))
        try:
            data = req.json()
        except ValueError:
            raise Reject(self.error(400, "Request body is not valid JSON")) from None
        hook = data.get("webhook") if isinstance(data, dict) else None
        if not isinstance(hook, dict):
            raise Reject(self.error(400, "Request body must be an object with a `webhook` object"))
        wrong = [
            k for k, v in hook.items() if k in ("address", "api_version", "topic") and not isinstance(v, str)
        ]
        if wrong:
            raise Reject(self.error(400, f"Wrong parameter type: {', '.join(wrong)} must be a string"))
        return hook

    def _fail_on(self, problems: Mapping[str, list[str]]) -> None:
        if problems:
            raise Reject(json_response(422, {"errors": dict(problems)}))

    def _unique(self, hooks: Mapping[int, Webhook], topic: str, address: str, own_id: int | None) -> None:
        if any(w.topic == topic and w.address == address and w.id != own_id for w in hooks.values()):
            self._fail_on({"address": ["for this topic has already been taken"]})

    def _answer(self, hook: Webhook, *, wrote: bool = False) -> SandboxResponse:
        return json_response(200, {"webhook": hook.model_dump()}, wrote=wrote)


def _bearer(req: SandboxRequest) -> str:
    scheme, _, token = req.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _now() -> str:
    return datetime.now(TZ).isoformat(timespec="seconds")


def _valid_date(version: str) -> bool:
    try:
        date(int(version[1:5]), int(version[5:7]), int(version[7:9]))
    except ValueError:
        return False
    return True


def _address_problem(address: Any) -> list[str]:
    if not address:
        return ["can't be blank"]
    if len(address) > MAX_ADDRESS:
        return [f"is too long (maximum is {MAX_ADDRESS} characters)"]
    try:
        url = urlsplit(address)
        host = url.hostname
    except ValueError:
        return ["is invalid"]
    if url.scheme != "https" or not host or any(c.isspace() for c in address):
        return ["is invalid, it must be an https:// URL"]
    return []


def _version_problem(version: Any) -> list[str]:
    if not version:
        return ["can't be blank"]
    if not re.fullmatch(r"v\d{8}", version) or not _valid_date(version):
        return ["is invalid, expected vYYYYMMDD"]
    if version < MIN_EVENT_VERSION:
        return [f"is not supported, use {MIN_EVENT_VERSION} or later"]
    return []


def _topic_problem(topic: Any, version: Any) -> list[str]:
    if not topic:
        return ["can't be blank"]
    if topic not in topics_for(version if isinstance(version, str) else ""):
        return ["is not supported"]
    return []
