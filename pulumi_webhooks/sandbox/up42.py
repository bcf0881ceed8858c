"""UP42 webhook API and its token endpoint (reference/platforms.md §3), one state per workspace.

Mounted at `/up42`:
- API root `/up42/api` (a client's `UP42_BASE_URL`): `GET /webhooks/events` (no auth),
  `GET|POST /workspaces/{ws}/webhooks`, `GET|PUT|DELETE /workspaces/{ws}/webhooks/{id}`,
  `POST /workspaces/{ws}/webhooks/{id}/tests`; answers wrapped as `{"data": …, "error": …}`;
- token endpoint `/up42/auth/realms/public/protocol/openid-connect/token` (`UP42_AUTH_URL`): Keycloak's
  password grant, issuing opaque tokens that expire (300 s unless the admin setting says otherwise);
- platform admin under `/up42/_admin/`: `GET|POST settings` (`token_lifetime`, an `account` whose
  credentials alone are accepted, the event `catalog`, `unreachable_hosts` whose test deliveries fail,
  `rate_limit` `{"per_second", "burst"}` per caller: UP42 publishes no number, so tests choose one)
  and `POST revoke-tokens` (every issued token stops working: a token that dies mid-run).

Guesses where UP42 documents nothing: create answers 201 and delete 204 (no body, as the docs say);
errors are `{"data": null, "error": {"code": <status>, "message", "details"}}`; a URL is unique per
workspace (409, as the older guide's "Unique URL" suggests); a test delivery fails when the webhook is
inactive or its host is in `unreachable_hosts` (the sandbox never calls out).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._core import Platform, Reject, SandboxRequest, SandboxResponse, empty_response, json_response

TOKEN_PATH = "/auth/realms/public/protocol/openid-connect/token"  # noqa: S105 (a path, not a password)
CLIENT_IDS = frozenset({"up42-api", "up42-sdk"})  # the docs' client and the SDK's
DEFAULT_LIFETIME = 300  # seconds: UP42 access tokens live 5 minutes
MAX_URL = 2048
MAX_NAME = 255
DOCS = "https://docs.up42.com/developers/api-webhooks"

DEFAULT_CATALOG: tuple[dict[str, str], ...] = (
    {
        "name": "job.status",
        "title": "Job Status Updates",
        "category": "job",
        "description": "Sent when job/task status is updated",
        "documentation": DOCS,
    },
    {
        "name": "order.status",
        "title": "Order Status Updates",
        "category": "order",
        "description": "Sent when order status is updated",
        "documentation": DOCS,
    },
)

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_LIST = re.compile(rf"^/api/workspaces/(?P<ws>{_UUID})/webhooks$")
_ONE = re.compile(rf"^/api/workspaces/(?P<ws>{_UUID})/webhooks/(?P<id>[^/]+)$")
_TESTS = re.compile(rf"^/api/workspaces/(?P<ws>{_UUID})/webhooks/(?P<id>[^/]+)/tests$")


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    url: str
    name: str
    active: bool
    events: list[str]
    createdAt: str
    updatedAt: str
    secret: str


class Up42State(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workspaces: dict[str, list[Webhook]] = {}


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1)
    password: str = Field(min_length=1)


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_second: float = Field(gt=0, le=10000)
    burst: float = Field(ge=1, le=10000)


class AdminPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token_lifetime: int | None = Field(None, ge=1, le=86400)
    rate_limit: RateLimit | None = None
    account: Account | None = None  # an explicit null: any username and password are accepted again
    catalog: list[str] | None = Field(None, min_length=1)
    unreachable_hosts: list[str] | None = None


class Up42Platform(Platform):
    name = "up42"
    url_template = "/up42/api"
    rate = 10.0  # UP42 publishes no number: this one (per caller) only shows that 429 exists
    burst = 40.0

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    # -- state ---------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.workspaces: dict[str, dict[str, Webhook]] = {}
            self.tokens: dict[str, float] = {}  # token -> expiry (time.monotonic); never persisted
            self.token_lifetime = DEFAULT_LIFETIME
            self.account: Account | None = None
            self.catalog: list[dict[str, str]] = [dict(e) for e in DEFAULT_CATALOG]
            self.unreachable_hosts: set[str] = set()
            self.tokens_issued = 0
            self.rate_limit = RateLimit(per_second=type(self).rate, burst=type(self).burst)

    def snapshot(self) -> dict[str, Any]:
        # Webhooks only (their secrets are the platform's data); tokens and the account never.
        with self.lock:
            return {
                "workspaces": {
                    ws: [w.model_dump() for w in hooks.values()] for ws, hooks in self.workspaces.items()
                }
            }

    def load(self, data: Mapping[str, Any]) -> None:
        state = Up42State.model_validate(data)
        with self.lock:
            self.workspaces = {ws.lower(): {w.id: w for w in hooks} for ws, hooks in state.workspaces.items()}

    # -- shared behaviour ----------------------------------------------------------------------

    def error(self, status: int, message: str, details: Any = "") -> SandboxResponse:
        return json_response(
            status, {"data": None, "error": {"code": status, "message": message, "details": details}}
        )

    def rate_limited(self) -> SandboxResponse:
        resp = self.error(429, "Too many requests, check the rate limits")
        resp.headers["Retry-After"] = "1"
        return resp

    def rate_key(self, req: SandboxRequest, sub_path: str) -> str | None:
        if not sub_path.startswith("/api/"):
            return None  # the token endpoint and the admin API are not charged
        # Hashed: rate keys must not hold tokens.
        return hashlib.sha256(_bearer(req).encode()).hexdigest()[:16]

    def limits(self, key: str) -> tuple[float, float]:
        with self.lock:
            return self.rate_limit.per_second, self.rate_limit.burst

    def response_headers(self, req: SandboxRequest) -> dict[str, str]:
        return {"X-Request-Id": str(uuid.uuid4())}

    # -- routing -------------------------------------------------------------------------------

    def handle(self, req: SandboxRequest, sub_path: str) -> SandboxResponse:
        method = req.method
        if sub_path.startswith("/_admin/"):
            return self._admin(req, sub_path.removeprefix("/_admin").rstrip("/"))
        if sub_path == TOKEN_PATH:
            if method != "POST":
                return json_response(
                    405, {"error": "invalid_request", "error_description": "HTTP 405 Method Not Allowed"}
                )
            return self._token(req)
        if sub_path == "/api/webhooks/events" and method == "GET":
            with self.lock:
                return self._data(200, [dict(e) for e in self.catalog])
        if not sub_path.startswith("/api/"):
            return self.error(404, "Not Found")
        self._authenticate(req)
        if (match := _LIST.match(sub_path)) is not None:
            if method == "GET":
                with self.lock:
                    hooks = self.workspaces.get(match["ws"].lower(), {})
                    return self._data(200, [w.model_dump() for w in hooks.values()])
            if method == "POST":
                return self._create(match["ws"].lower(), self._body(req))
        elif (match := _ONE.match(sub_path)) is not None and method in ("GET", "PUT", "DELETE"):
            return self._one(match["ws"].lower(), match["id"], req)
        elif (match := _TESTS.match(sub_path)) is not None and method == "POST":
            return self._run_tests(match["ws"].lower(), match["id"], req)
        return self.error(404, "Not Found")

    # -- tokens --------------------------------------------------------------------------------

    def _token(self, req: SandboxRequest) -> SandboxResponse:
        if not req.headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
            return _oauth_error(
                400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded"
            )
        form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        if form.get("client_id") not in CLIENT_IDS:
            return _oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
        if form.get("grant_type") != "password":
            return _oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
        username, password = form.get("username"), form.get("password")
        if not username or not password:
            return _oauth_error(401, "invalid_grant", "Invalid user credentials")
        with self.lock:
            account = self.account
            if account is not None and (username, password) != (account.username, account.password):
                return _oauth_error(401, "invalid_grant", "Invalid user credentials")
            token = "sbx-up42." + secrets.token_urlsafe(32)
            now = time.monotonic()
            self.tokens = {t: exp for t, exp in self.tokens.items() if exp > now}  # forget dead ones
            self.tokens[token] = now + self.token_lifetime
            self.tokens_issued += 1
            lifetime = self.token_lifetime
        return json_response(
            200,
            {
                "access_token": token,
                "expires_in": lifetime,
                "refresh_expires_in": 1800,
                "refresh_token": "sbx-up42-refresh." + secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "not-before-policy": 0,
                "session_state": str(uuid.uuid4()),
                "scope": "ACCOUNT_ADMIN USER",
            },
            {"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def _authenticate(self, req: SandboxRequest) -> None:
        token = _bearer(req)
        if token and self.settings.token is not None and secrets.compare_digest(token, self.settings.token):
            return  # a token handed to the client directly (the sandbox's --token)
        with self.lock:
            expiry = self.tokens.get(token)
        if expiry is None or expiry <= time.monotonic():
            raise Reject(self.error(401, "Unauthorized", "The access token is missing, invalid or expired"))

    # -- webhooks ------------------------------------------------------------------------------

    def _create(self, ws: str, body: dict[str, Any]) -> SandboxResponse:
        fields = self._validated(body)
        with self.lock:
            hooks = self.workspaces.setdefault(ws, {})
            self._unique_url(hooks, fields["url"], None)
            now = _now()
            hook = Webhook(id=str(uuid.uuid4()), createdAt=now, updatedAt=now, **fields)
            hooks[hook.id] = hook
            return self._data(201, hook.model_dump(), wrote=True)

    def _one(self, ws: str, hook_id: str, req: SandboxRequest) -> SandboxResponse:
        fields = self._validated(self._body(req)) if req.method == "PUT" else {}
        with self.lock:
            hooks = self.workspaces.get(ws, {})
            hook = hooks.get(hook_id)
            if hook is None:
                return self.error(404, "Webhook not found")
            if req.method == "GET":
                return self._data(200, hook.model_dump())
            if req.method == "DELETE":
                del hooks[hook_id]
                return empty_response(204, wrote=True)
            # PUT replaces every field: what the body leaves out takes its default (no secret, inactive).
            self._unique_url(hooks, fields["url"], hook_id)
            hook = hooks[hook_id] = hook.model_copy(update={**fields, "updatedAt": _now()})
            return self._data(200, hook.model_dump(), wrote=True)

    def _run_tests(self, ws: str, hook_id: str, req: SandboxRequest) -> SandboxResponse:
        only = None
        if req.body.strip():
            body = self._body(req)
            only = body.get("event")
            if only is not None and not isinstance(only, str):
                return self.error(400, "Invalid request", {"event": "must be a string"})
        with self.lock:
            hook = self.workspaces.get(ws, {}).get(hook_id)
            if hook is None:
                return self.error(404, "Webhook not found")
            if only is not None and only not in hook.events:
                return self.error(400, "Invalid request", {"event": f"{only} is not subscribed"})
            host = (urlsplit(hook.url).hostname or "").lower()
            reachable = host not in self.unreachable_hosts
            started = _now()
        tests: list[dict[str, Any]] = []
        for event in [only] if only else hook.events:
            outcome: dict[str, Any]
            if not hook.active:
                outcome = {"success": False, "statusCode": None, "message": "Webhook is inactive"}
            elif not reachable:
                outcome = {"success": False, "statusCode": None, "message": "Connection refused"}
            else:
                outcome = {"success": True, "statusCode": 200, "message": "OK"}
            tests.append({"event": event, **outcome})
        succeeded = sum(1 for t in tests if t["success"])
        return self._data(
            200,
            {
                "startedAt": started,
                "testsRun": len(tests),
                "testsSucceeded": succeeded,
                "testsFailed": len(tests) - succeeded,
                "tests": tests,
            },
        )

    # -- admin ---------------------------------------------------------------------------------

    def _admin(self, req: SandboxRequest, path: str) -> SandboxResponse:
        if (req.method, path) == ("GET", "/settings"):
            return json_response(200, self._admin_view())
        if (req.method, path) == ("POST", "/settings"):
            try:
                patch = AdminPatch.model_validate(req.json())
            except (ValueError, ValidationError) as exc:
                return json_response(400, {"error": f"invalid settings: {exc}"})
            with self.lock:
                if patch.token_lifetime is not None:
                    self.token_lifetime = patch.token_lifetime
                if "account" in patch.model_fields_set:
                    self.account = patch.account
                if patch.catalog is not None:
                    known = {e["name"]: e for e in DEFAULT_CATALOG}
                    self.catalog = [
                        dict(known.get(n, {"name": n, "title": n, "category": n.split(".")[0]}))
                        for n in patch.catalog
                    ]
                if patch.unreachable_hosts is not None:
                    self.unreachable_hosts = {h.lower() for h in patch.unreachable_hosts}
                if patch.rate_limit is not None:
                    self.rate_limit = patch.rate_limit
            return json_response(200, self._admin_view())
        if (req.method, path) == ("POST", "/revoke-tokens"):
            with self.lock:
                revoked = len(self.tokens)
                self.tokens.clear()
            return json_response(200, {"revoked": revoked})
        return json_response(404, {"error": f"no admin endpoint {req.method} /up42/_admin{path}"})

    def _admin_view(self) -> dict[str, Any]:
        # Never the account's password or any token: only whether they are set and how many.
        with self.lock:
            now = time.monotonic()
            return {
                "token_lifetime": self.token_lifetime,
                "account_set": self.account is not None,
                "tokens_issued": self.tokens_issued,
                "tokens_valid": sum(1 for exp in self.tokens.values() if exp > now),
                "catalog": [e["name"] for e in self.catalog],
                "unreachable_hosts": sorted(self.unreachable_hosts),
                "rate_limit": self.rate_limit.model_dump(),
            }

    # -- helpers -------------------------------------------------------------------------------

    def _body(self, req: SandboxRequest) -> dict[str, Any]:
        if not req.headers.get("content-type", "").lower().startswith("application/json"):
            raise Reject(self.error(400, "Invalid request", "Content-Type must be application/json"))
        try:
            data = req.json()
        except ValueError:
            raise Reject(self.error(400, "Invalid request", "The body is not valid JSON")) from None
        if not isinstance(data, dict):
            raise Reject(self.error(400, "Invalid request", "The body must be a JSON object"))
        return data

    def _validated(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The five webhook fields, checked as a create or a full replacement; 400 with every problem."""
        problems: dict[str, str] = {}
        url, name, events = body.get("url"), body.get("name"), body.get("events")
        secret, active = body.get("secret"), body.get("active", False)
        if not isinstance(url, str) or not url:
            problems["url"] = "is required"
        elif len(url) > MAX_URL:
            problems["url"] = f"must be at most {MAX_URL} characters"
        elif urlsplit(url).scheme != "https" or not urlsplit(url).hostname or any(c.isspace() for c in url):
            problems["url"] = "must be a valid https URL"
        if not isinstance(name, str) or not name.strip():
            problems["name"] = "is required"
        elif len(name) > MAX_NAME:
            problems["name"] = f"must be at most {MAX_NAME} characters"
        with self.lock:
            catalog = {e["name"] for e in self.catalog}
        if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
            problems["events"] = "must be a non-empty list of event names"
        elif unknown := [e for e in events if e not in catalog]:
            problems["events"] = f"unknown events: {', '.join(unknown)}"
        # An optional string (the reference shows no null): leave it out for "no secret"; null is refused,
        # so a client that sends `"secret": null` is caught here.
        if "secret" in body and not isinstance(secret, str):
            problems["secret"] = "must be a string"  # noqa: S105 (a message, not a password)
        if not isinstance(active, bool):
            problems["active"] = "must be a boolean"
        if problems:
            raise Reject(self.error(400, "Invalid request", problems))
        assert isinstance(url, str) and isinstance(name, str) and isinstance(events, list)
        return {
            "url": url,
            "name": name,
            "events": list(dict.fromkeys(events)),  # duplicates collapse; the order is kept
            "secret": secret or "",
            "active": active,
        }

    def _unique_url(self, hooks: Mapping[str, Webhook], url: str, own_id: str | None) -> None:
        taken = next((w for w in hooks.values() if w.url == url and w.id != own_id), None)
        if taken is not None:
            raise Reject(self.error(409, "A webhook with this URL already exists", {"url": url}))

    def _data(self, status: int, data: Any, *, wrote: bool = False) -> SandboxResponse:
        return json_response(status, {"data": data, "error": None}, wrote=wrote)


def _oauth_error(status: int, error: str, description: str) -> SandboxResponse:
    return json_response(status, {"error": error, "error_description": description})


def _bearer(req: SandboxRequest) -> str:
    scheme, _, token = req.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
