"""Shoplazza Open API webhook endpoints (reference/platforms.md §4), one state per shop.

Mounted at `/shoplazza/{shop}/openapi/{version}/...`, so a client's base-URL template is
`http://127.0.0.1:PORT/shoplazza/{shop}`. Two wire formats, chosen by the version in the path:
2022-01 takes flat bodies and pages by `limit`/`page`; 2025-06 and 2026-01 take bodies wrapped in
`{"webhook": …}` and page by `page_size`/`cursor`/`has_more`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from pulumi_webhooks.shoplazza.topics import LISTED_IN_422, TOPICS

from ._core import Platform, Reject, SandboxRequest, SandboxResponse, json_response

# API version -> whether bodies are wrapped in {"webhook": …} and lists are cursor-paged.
VERSIONS = {"2022-01": False, "2025-06": True, "2026-01": True}
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 250  # documented for `limit` (2022-01); assumed for `page_size`
TIME_FILTERS = ("created_at_min", "created_at_max", "updated_at_min", "updated_at_max")

# The emulator accepts the catalog the client checks against (one source: shoplazza/topics.py).
# Verbatim as the docs quote it: the list leaves out `app/subscriptions_update`, which is accepted anyway.
TOPIC_NOT_ALLOWED = "Topic is not allowed, allowed topic are: " + ",".join(sorted(LISTED_IN_422))
TOPIC_TAKEN = "Topic already exists"
NOT_FOUND = "record not found!"

_PREFIX = re.compile(r"^/(?P<shop>[A-Za-z0-9][A-Za-z0-9-]{0,62})/openapi/(?P<version>[^/]+)(?P<rest>/.*)$")
_ONE = re.compile(r"^/webhooks/(?P<id>[^/]+)$")


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    address: str
    topic: str
    created_at: str
    updated_at: str
    format: str = "json"
    seq: int  # creation order: what lists are sorted by and cursors point at; never on the wire

    def public(self) -> dict[str, Any]:
        return self.model_dump(exclude={"seq"})


class ShoplazzaState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    next_seq: int = 1
    shops: dict[str, list[Webhook]] = {}


class ShoplazzaPlatform(Platform):
    name = "shoplazza"
    url_template = "/shoplazza/{shop}"
    # 2 requests/s per app and shop; the docs' bucket "can hold, say, 60 marbles".
    rate = 2.0
    burst = 60.0

    def __init__(self) -> None:
        super().__init__()
        self.next_seq = 1
        self.shops: dict[str, dict[str, Webhook]] = {}  # shop -> id -> webhook, in creation order

    # -- state ---------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.next_seq = 1
            self.shops = {}

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            shops = {shop: [w.model_dump() for w in hooks.values()] for shop, hooks in self.shops.items()}
            return {"next_seq": self.next_seq, "shops": shops}

    def load(self, data: Mapping[str, Any]) -> None:
        state = ShoplazzaState.model_validate(data)
        with self.lock:
            self.next_seq = max([state.next_seq, *(w.seq + 1 for ws in state.shops.values() for w in ws)])
            self.shops = {
                shop: {w.id: w for w in sorted(ws, key=lambda w: w.seq)} for shop, ws in state.shops.items()
            }

    # -- shared behaviour ----------------------------------------------------------------------

    def error(self, status: int, message: str) -> SandboxResponse:
        return json_response(status, {"errors": [message]})

    def rate_key(self, req: SandboxRequest, sub_path: str) -> str | None:
        match = _PREFIX.match(sub_path)
        if match is None:
            return None
        # Limits are per app and shop; the token stands for the app. Hashed: keys must not hold tokens.
        app = hashlib.sha256(_token(req).encode()).hexdigest()[:16]
        return f"{match['shop'].lower()}/{app}"

    def rate_limited(self) -> SandboxResponse:
        return self.error(429, "Too Many Requests")

    def response_headers(self, req: SandboxRequest) -> dict[str, str]:
        return {"X-Request-Id": str(uuid.uuid4())}

    # -- API -----------------------------------------------------------------------------------

    def handle(self, req: SandboxRequest, sub_path: str) -> SandboxResponse:
        match = _PREFIX.match(sub_path)
        if match is None or match["version"] not in VERSIONS:
            return _page_not_found()
        token = _token(req)
        if not token or (self.settings.token is not None and token != self.settings.token):
            return json_response(401, {"error": "Unauthorized"})
        shop, rest, method = match["shop"].lower(), match["rest"], req.method
        wrapped = VERSIONS[match["version"]]
        if rest == "/webhooks" and method == "GET":
            return self._list(shop, req.query, cursor_paging=wrapped)
        if rest == "/webhooks" and method == "POST":
            return self._create(shop, _fields(req, wrapped=wrapped))
        if rest == "/webhooks/count" and method == "GET":
            problems: dict[str, list[str]] = {}
            with self.lock:
                found = _filtered(self.shops.get(shop, {}).values(), req.query, problems)
            _fail_on(problems)
            return json_response(200, {"count": len(found)})
        one = _ONE.match(rest)
        if one is not None and method in ("GET", "PUT", "DELETE"):
            return self._one(shop, one["id"], req, wrapped=wrapped)
        return _page_not_found()

    def _list(self, shop: str, query: Mapping[str, list[str]], *, cursor_paging: bool) -> SandboxResponse:
        size_name = "page_size" if cursor_paging else "limit"
        problems: dict[str, list[str]] = {}
        size = _int_param(query, size_name, DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, problems)
        page = 1 if cursor_paging else _int_param(query, "page", 1, 1, None, problems)
        after = _decode_cursor(_param(query, "cursor"), problems) if cursor_paging else 0
        with self.lock:
            found = _filtered(self.shops.get(shop, {}).values(), query, problems)
            _fail_on(problems)
            if cursor_paging:
                rest = [w for w in found if w.seq > after]
                chunk = rest[:size]
                cursor = _encode_cursor(chunk[-1].seq) if chunk else ""
                body = {
                    "webhooks": [w.public() for w in chunk],
                    "cursor": cursor,
                    "has_more": len(rest) > size,
                }
                return json_response(200, body)
            chunk = found[(page - 1) * size : page * size]
            return json_response(200, {"webhooks": [w.public() for w in chunk]})

    def _create(self, shop: str, fields: Mapping[str, str]) -> SandboxResponse:
        address, topic = fields.get("address"), fields.get("topic")
        problems = {"address": _address_problem(address), "topic": ["can't be blank"] if not topic else []}
        _fail_on({k: v for k, v in problems.items() if v})
        assert isinstance(address, str) and isinstance(topic, str)
        if topic not in TOPICS:
            raise Reject(self.error(422, TOPIC_NOT_ALLOWED))
        with self.lock:
            hooks = self.shops.setdefault(shop, {})
            if any(w.topic == topic for w in hooks.values()):
                raise Reject(self.error(422, TOPIC_TAKEN))
            now = _now()
            hook = Webhook(
                id=str(uuid.uuid4()),
                address=address,
                topic=topic,
                created_at=now,
                updated_at=now,
                seq=self.next_seq,
            )
            self.next_seq += 1
            hooks[hook.id] = hook
            return json_response(200, {"webhook": hook.public()}, wrote=True)

    def _one(self, shop: str, hook_id: str, req: SandboxRequest, *, wrapped: bool) -> SandboxResponse:
        fields = _fields(req, wrapped=wrapped) if req.method == "PUT" else {}
        with self.lock:
            hooks = self.shops.get(shop, {})
            hook = hooks.get(hook_id)
            if hook is None:
                return self.error(404, NOT_FOUND)
            if req.method == "GET":
                return json_response(200, {"webhook": hook.public()})
            if req.method == "DELETE":
                del hooks[hook_id]
                return json_response(200, {}, wrote=True)
            # PUT: address and/or topic; each must be non-empty when present.
            if not fields:
                _fail_on({"address": ["can't be blank"], "topic": ["can't be blank"]})
            problems = {
                "address": _address_problem(fields["address"]) if "address" in fields else [],
                "topic": ["can't be blank"] if "topic" in fields and not fields["topic"] else [],
            }
            _fail_on({k: v for k, v in problems.items() if v})
            topic = fields.get("topic", hook.topic)
            if topic not in TOPICS:
                raise Reject(self.error(422, TOPIC_NOT_ALLOWED))
            if any(w.topic == topic and w.id != hook_id for w in hooks.values()):
                raise Reject(self.error(422, TOPIC_TAKEN))
            update = {**fields, "updated_at": _now()}
            hook = hooks[hook_id] = hook.model_copy(update=update)
            return json_response(200, {"webhook": hook.public()}, wrote=True)


# -- helpers -----------------------------------------------------------------------------------


def _token(req: SandboxRequest) -> str:
    return req.headers.get("access-token", "").strip()


def _page_not_found() -> SandboxResponse:
    return json_response(404, {"error": "page not found"})


def _fail_on(problems: Mapping[str, list[str]]) -> None:
    if problems:
        raise Reject(json_response(422, {"errors": dict(problems)}))


def _bad_request(message: str) -> Reject:
    return Reject(json_response(400, {"errors": [message]}))


def _fields(req: SandboxRequest, *, wrapped: bool) -> dict[str, str]:
    """`address` and `topic` from a JSON body: flat (2022-01) or inside `webhook` (2025-06 and later)."""
    if not req.headers.get("content-type", "").lower().startswith("application/json"):
        raise _bad_request("Content-Type must be application/json")
    try:
        data = req.json()
    except ValueError:
        raise _bad_request("Bad Request: the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _bad_request("Bad Request: the body must be a JSON object")
    hook = data.get("webhook") if wrapped else data
    if not isinstance(hook, dict):
        raise Reject(json_response(422, {"errors": {"webhook": ["can't be blank"]}}))
    wrong = [k for k in ("address", "topic") if k in hook and not isinstance(hook[k], str)]
    if wrong:
        raise _bad_request(f"Bad Request: {', '.join(wrong)} must be a string")
    return {k: hook[k] for k in ("address", "topic") if k in hook}


def _address_problem(address: str | None) -> list[str]:
    if not address:
        return ["can't be blank"]
    try:
        url = urlsplit(address)
        host = url.hostname
    except ValueError:
        return ["is invalid"]
    if url.scheme != "https" or not host or any(c.isspace() for c in address):
        return ["is invalid"]
    return []


def _param(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _int_param(
    query: Mapping[str, list[str]],
    name: str,
    default: int,
    least: int,
    most: int | None,
    problems: dict[str, list[str]],
) -> int:
    raw = _param(query, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        problems[name] = ["is not a number"]
        return default
    if value < least:
        problems[name] = [f"must be greater than or equal to {least}"]
    elif most is not None and value > most:
        problems[name] = [f"must be less than or equal to {most}"]
    return value


def _filtered(
    hooks: Iterable[Webhook], query: Mapping[str, list[str]], problems: dict[str, list[str]]
) -> list[Webhook]:
    """The webhooks matching the documented filters, in creation order; bad filters go to `problems`."""
    tests: list[Callable[[Webhook], bool]] = []
    address = _param(query, "address")
    if address:
        tests.append(lambda w: w.address == address)
    topic = _param(query, "topic")
    if topic:
        wanted = {t.strip() for t in topic.split(",") if t.strip()}
        tests.append(lambda w: w.topic in wanted)
    for name in TIME_FILTERS:
        raw = _param(query, name)
        if not raw:
            continue
        bound = _parse_time(raw)
        if bound is None:
            problems[name] = ["is invalid"]
        else:
            field, edge = name.rsplit("_", 1)
            tests.append(_time_test(field, bound, at_least=edge == "min"))
    return sorted((w for w in hooks if all(test(w) for test in tests)), key=lambda w: w.seq)


def _time_test(field: str, bound: datetime, *, at_least: bool) -> Callable[[Webhook], bool]:
    def test(hook: Webhook) -> bool:
        when = _parse_time(getattr(hook, field))
        assert when is not None
        return when >= bound if at_least else when <= bound

    return test


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"seq": seq}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, problems: dict[str, list[str]]) -> int:
    if not cursor:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        seq = data["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise TypeError(seq)
    except (binascii.Error, ValueError, KeyError, TypeError):
        problems["cursor"] = ["is invalid"]
        return 0
    return seq


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
