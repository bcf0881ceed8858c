"""CJdropshipping API 2.0 (reference/platforms.md §1): tokens, ``webhook/set`` and ``setting/get``.

Mounted at `/cjdropshipping/api2.0/v1/...`, so a client's base URL is
`http://127.0.0.1:PORT/cjdropshipping/api2.0/v1`. What it emulates:

- the envelope `{code, result, message, data, requestId, success}`; errors are HTTP 200 with
  `result: false` and CJ's code, as the docs describe;
- `authentication/getAccessToken` (API key -> openId, access token 15 days, refresh token 180 days;
  once per `token_interval` seconds per API key, else 1600200: 300 by default, the older limits page's
  "once every 5 minutes", 1 for the current auth page's QPS 1), `refreshAccessToken` (5 a minute per
  refresh token), `logout`; both token calls return the account's same tokens again within
  `token_cache_window` seconds (24 h, the current auth page) while they are valid (a logout, an
  expiry or `expire-tokens` ends that; the sandbox keeps them in memory only, so a restart does too); the `CJ-Access-Token` header (1600002 missing, 1600001 unknown or expired);
- one account per CJ user: the part of the API key before `@api@` (`CJ1234567@api@...`), so two keys
  of one user share the account's settings (a sandbox convenience: scripts can change settings "out of
  band" without tripping the per-key token limit);
- `webhook/set`: the four groups required and `makeup`/`privateOrder` optional (an omitted optional group
  is left as it was), `type` ENABLE/CANCEL, exactly one URL for either type (an empty list: 16900403), https (1607002), no
  localhost/loopback/private host (1607001), a host ending with `unreachable_suffix` fails the
  reachability probe (1607003; the real platform calls the URL, the sandbox never touches the network);
- `setting/get` with the `callback` block spelled `urls` (as the docs show), `callbackUrls`, or absent;
- the account's QPS (1 by default, the lowest level): exceeding it answers 1600200 inside HTTP 200;
- an unknown interface answers 1600101 "Interface not found" inside HTTP 200, like every other error.

Its own admin API, next to the sandbox's: `GET/POST /cjdropshipping/_sandbox/settings` (the switches of
`Options`), `GET /cjdropshipping/_sandbox/stats` (calls per endpoint, token requests included) and
`POST /cjdropshipping/_sandbox/expire-tokens` (every access token expires now; refresh tokens stay).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._core import Platform, Reject, SandboxRequest, SandboxResponse, json_response

API_PREFIX = "/api2.0/v1"
ADMIN_PREFIX = "/_sandbox"
TZ = timezone(timedelta(hours=8))  # CJ answers in UTC+8
GROUPS = ("product", "stock", "order", "logistics")
OPTIONAL_GROUPS = ("makeup", "privateOrder")  # in the current .cn example; optional
MAX_URL = 200  # our reading of the docs' length column (see docs/cjdropshipping.md)
MAX_API_KEY = 200
REFRESH_PER_MINUTE = 5
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}

MESSAGES = {
    1600001: "Invalid API key or access token",
    1600002: "access token cannot be empty",
    1600003: "Invalid Refresh token",
    1600101: "Interface not found",
    1600200: "Too much request",
    1600300: "Param error",
    1607001: "Please do not use domain names such as localhost, 127.0.0.1",
    1607002: "Webhook url error, Please ensure URL starts with https://",
    1607003: "Webhook url error, Http Status must be 200",
    16900202: "Request method '{param}' not supported",
    16900203: "Content type not supported[{param}]",
    16900205: "The request parameter is not in a correct JSON format",
    16900403: "{param} can not be empty",
}


class Options(BaseModel):
    """The platform's switches (`/cjdropshipping/_sandbox/settings`); `reset` restores the defaults."""

    model_config = ConfigDict(extra="forbid")

    callback_spelling: Literal["urls", "callbackUrls", "absent"] = "urls"
    account_qps: int = Field(default=1, ge=1, le=1000)
    access_token_ttl: float = Field(default=15 * 86400.0, gt=0)
    refresh_token_ttl: float = Field(default=180 * 86400.0, gt=0)
    token_interval: float = Field(default=300.0, ge=0)  # seconds between two getAccessToken of one API key
    token_cache_window: float = Field(default=86400.0, ge=0)  # repeat grants return the same tokens
    unreachable_suffix: str = Field(default=".unreachable.example", min_length=1)


class OptionsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    callback_spelling: Literal["urls", "callbackUrls", "absent"] | None = None
    account_qps: int | None = Field(default=None, ge=1, le=1000)
    access_token_ttl: float | None = Field(default=None, gt=0)
    refresh_token_ttl: float | None = Field(default=None, gt=0)
    token_interval: float | None = Field(default=None, ge=0)
    token_cache_window: float | None = Field(default=None, ge=0)
    unreachable_suffix: str | None = Field(default=None, min_length=1)


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["ENABLE", "CANCEL"]
    urls: list[str] = []


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid")

    open_id: int
    callback: dict[str, Group] = {}  # only groups that were ever set, as setting/get shows them


class Issued(BaseModel):
    """A token the sandbox handed out, stored under its hash (the state file holds no usable token)."""

    model_config = ConfigDict(extra="forbid")

    account: str
    expires_at: float  # wall clock, so that a state file survives restarts


class CjState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accounts: dict[str, Account] = {}
    access_tokens: dict[str, Issued] = {}
    refresh_tokens: dict[str, Issued] = {}
    last_grant: dict[str, float] = {}  # API key hash -> when getAccessToken last answered


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, TZ).isoformat(timespec="seconds")


def account_of(api_key: str) -> str:
    """The account an API key belongs to: its user number (`CJ1234567@api@...`), or a hash of a key
    without one (never the key itself: it ends up in the state file)."""
    user, sep, _ = api_key.partition("@api@")
    return user if sep and user else f"key-{_digest(api_key)[:16]}"


def open_id_of(account: str) -> int:
    """A stable, Long-sized openId per account (15 digits: exact in JSON numbers everywhere)."""
    return 10**14 + int(_digest(f"openId:{account}"), 16) % (9 * 10**14)


class CjdropshippingPlatform(Platform):
    name = "cjdropshipping"
    url_template = "/cjdropshipping/api2.0/v1"
    rate = 1.0  # per account; see limits()
    burst = 1.0

    def __init__(self) -> None:
        super().__init__()
        self.options = Options()
        self.state = CjState()
        self.counters: dict[str, int] = {}
        self._refresh_times: dict[str, deque[float]] = {}
        self._grants: dict[str, tuple[float, dict[str, Any]]] = {}  # account -> (issued at, answer)
        self._counter_lock = threading.Lock()

    # -- state ---------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.options = Options()
            self.state = CjState()
            self._refresh_times = {}
            self._grants = {}
        with self._counter_lock:
            self.counters = {}

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return self.state.model_dump()

    def load(self, data: Mapping[str, Any]) -> None:
        state = CjState.model_validate(data)
        with self.lock:
            self.state = state

    # -- shared behaviour ----------------------------------------------------------------------

    def rate_key(self, req: SandboxRequest, sub_path: str) -> str | None:
        # The account QPS applies to the calls made with an access token; the token endpoints have
        # their own limits (handled below).
        if not sub_path.startswith(API_PREFIX + "/") or sub_path.startswith(API_PREFIX + "/authentication/"):
            return None
        with self.lock:
            issued = self._valid(self.state.access_tokens, req.headers.get("cj-access-token", ""))
            return None if issued is None else f"account:{issued.account}"

    def limits(self, key: str) -> tuple[float, float]:
        qps = float(self.options.account_qps)
        return qps, qps

    def error(self, status: int, message: str) -> SandboxResponse:
        return self._envelope(status, status, message, None)

    def rate_limited(self) -> SandboxResponse:
        self._count("rate_limited")
        return self._fail(1600200, "Too much request, QPS limit exceeded")

    # -- routing -------------------------------------------------------------------------------

    def handle(self, req: SandboxRequest, sub_path: str) -> SandboxResponse:
        if sub_path == ADMIN_PREFIX or sub_path.startswith(ADMIN_PREFIX + "/"):
            return self._admin(req, sub_path[len(ADMIN_PREFIX) :].rstrip("/") or "/")
        # An unknown interface is an error like any other: HTTP 200, code 1600101 (§1.5: errors come
        # back as HTTP 200 with result false and the code; 1600101 "Interface not found").
        if not sub_path.startswith(API_PREFIX + "/"):
            return self._fail(1600101, MESSAGES[1600101])
        route = sub_path[len(API_PREFIX) :]
        routes = {
            "/authentication/getAccessToken": ("POST", self._get_access_token),
            "/authentication/refreshAccessToken": ("POST", self._refresh_access_token),
            "/authentication/logout": ("POST", self._logout),
            "/webhook/set": ("POST", self._webhook_set),
            "/setting/get": ("GET", self._setting_get),
        }
        if route not in routes:
            return self._fail(1600101, MESSAGES[1600101])
        method, handler = routes[route]
        if req.method != method:
            return self._fail(16900202, MESSAGES[16900202].replace("{param}", req.method))
        return handler(req)

    # -- tokens --------------------------------------------------------------------------------

    def _get_access_token(self, req: SandboxRequest) -> SandboxResponse:
        self._count("get_access_token")
        body = self._json_body(req)
        api_key = body.get("apiKey")
        if not isinstance(api_key, str) or not api_key.strip():
            return self._fail(16900403, MESSAGES[16900403].replace("{param}", "apiKey"))
        if len(api_key) > MAX_API_KEY:
            return self._fail(1600300, "Param error: apiKey is longer than 200 characters")
        if self.settings.token is not None and api_key != self.settings.token:
            return self._fail(1600001, MESSAGES[1600001])
        now = time.time()
        key_hash = _digest(api_key)
        with self.lock:
            last = self.state.last_grant.get(key_hash)
            if last is not None and now - last < self.options.token_interval:
                self._count("token_rate_limited")
                limit = "QPS limit exceeded"
                if self.options.token_interval >= 60:
                    limit = f"getAccessToken can only be called once every {self.options.token_interval / 60:g} minutes"
                return self._fail(1600200, f"Too much request, {limit}")
            account = account_of(api_key)
            found = self.state.accounts.setdefault(account, Account(open_id=open_id_of(account)))
            self.state.last_grant[key_hash] = now
            data = self._cached_grant(account, now) or self._issue(account, now, refresh_token=None)
            data = {"openId": found.open_id, **data}
        self._count("tokens_issued")
        return self._ok(data, wrote=True)

    def _refresh_access_token(self, req: SandboxRequest) -> SandboxResponse:
        self._count("refresh_access_token")
        body = self._json_body(req)
        refresh_token = body.get("refreshToken")
        if not isinstance(refresh_token, str) or not refresh_token:
            return self._fail(16900403, MESSAGES[16900403].replace("{param}", "refreshToken"))
        now = time.time()
        with self.lock:
            issued = self._valid(self.state.refresh_tokens, refresh_token)
            if issued is None:
                return self._fail(1600003, MESSAGES[1600003])
            recent = self._refresh_times.setdefault(_digest(refresh_token), deque())
            while recent and now - recent[0] > 60:
                recent.popleft()
            if len(recent) >= REFRESH_PER_MINUTE:
                return self._fail(1600200, "Too much request, refreshAccessToken: 5 calls per minute")
            recent.append(now)
            data = self._cached_grant(issued.account, now) or self._issue(
                issued.account, now, refresh_token=refresh_token
            )
        self._count("tokens_issued")
        return self._ok(data, wrote=True)

    def _logout(self, req: SandboxRequest) -> SandboxResponse:
        with self.lock:
            account = self._authorized(req)
            # Both the access token and the refresh token expire (every grant of the account).
            for table in (self.state.access_tokens, self.state.refresh_tokens):
                for digest in [d for d, t in table.items() if t.account == account]:
                    del table[digest]
        return self._ok(True, wrote=True)

    def _cached_grant(self, account: str, now: float) -> dict[str, Any] | None:
        """The account's last answer again, when it is recent (`token_cache_window`) and its access
        token still valid ("the returned accessToken and refreshToken remain consistent")."""
        issued_at, data = self._grants.get(account, (0.0, {}))
        if not data or now - issued_at >= self.options.token_cache_window:
            return None
        if self._valid(self.state.access_tokens, data["accessToken"]) is None:
            return None
        if self._valid(self.state.refresh_tokens, data["refreshToken"]) is None:
            return None
        self._count("same_tokens_again")
        return dict(data)

    def _issue(self, account: str, now: float, *, refresh_token: str | None) -> dict[str, Any]:
        """A new access token (and refresh token, unless refreshing: the refresh token stays)."""
        access = secrets.token_hex(16)
        access_expires = now + self.options.access_token_ttl
        self.state.access_tokens[_digest(access)] = Issued(account=account, expires_at=access_expires)
        if refresh_token is None:
            refresh_token = secrets.token_hex(16)
            refresh_expires = now + self.options.refresh_token_ttl
            self.state.refresh_tokens[_digest(refresh_token)] = Issued(
                account=account, expires_at=refresh_expires
            )
        else:
            refresh_expires = self.state.refresh_tokens[_digest(refresh_token)].expires_at
        self._drop_expired(now)
        data = {
            "accessToken": access,
            "accessTokenExpiryDate": _iso(access_expires),
            "refreshToken": refresh_token,
            "refreshTokenExpiryDate": _iso(refresh_expires),
            "createDate": _iso(now),
        }
        self._grants[account] = (now, data)
        return dict(data)

    def _drop_expired(self, now: float) -> None:
        for table in (self.state.access_tokens, self.state.refresh_tokens):
            for digest in [d for d, t in table.items() if t.expires_at <= now - 86400]:
                del table[digest]  # a day after expiry: bounded state for long-running sandboxes

    @staticmethod
    def _valid(table: Mapping[str, Issued], token: str) -> Issued | None:
        issued = table.get(_digest(token)) if token else None
        return issued if issued is not None and issued.expires_at > time.time() else None

    def _authorized(self, req: SandboxRequest) -> str:
        """The account of the request's access token (1600002 without one, 1600001 when unknown)."""
        token = req.headers.get("cj-access-token", "").strip()
        if not token:
            raise Reject(self._fail(1600002, MESSAGES[1600002]))
        issued = self._valid(self.state.access_tokens, token)
        if issued is None:
            self._count("rejected_tokens")
            raise Reject(self._fail(1600001, MESSAGES[1600001]))
        return issued.account

    # -- settings ------------------------------------------------------------------------------

    def _webhook_set(self, req: SandboxRequest) -> SandboxResponse:
        self._count("webhook_set")
        with self.lock:
            account = self._authorized(req)
        body = self._json_body(req)
        groups: dict[str, Group] = {}
        for name in (*GROUPS, *OPTIONAL_GROUPS):
            entry = body.get(name)
            if entry is None and name in OPTIONAL_GROUPS:
                continue
            groups[name] = self._group(name, entry)
        with self.lock:
            found = self.state.accounts.setdefault(account, Account(open_id=open_id_of(account)))
            found.callback.update(groups)
        return self._ok(True, wrote=True)

    def _group(self, name: str, entry: Any) -> Group:
        """One group of a `webhook/set` body, validated as CJ documents it."""
        if entry is None:
            raise Reject(self._fail(16900403, MESSAGES[16900403].replace("{param}", name)))
        if not isinstance(entry, dict):
            raise Reject(self._fail(1600300, f"Param error: {name} must be an object"))
        kind = entry.get("type")
        if kind not in ("ENABLE", "CANCEL"):
            raise Reject(self._fail(1600300, f"Param error: {name}.type must be ENABLE or CANCEL"))
        urls = entry.get("callbackUrls")
        if urls is None:
            raise Reject(self._fail(16900403, MESSAGES[16900403].replace("{param}", f"{name}.callbackUrls")))
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise Reject(self._fail(1600300, f"Param error: {name}.callbackUrls must be a list of strings"))
        if len(urls) > 1:
            raise Reject(self._fail(1600300, "Param error: only one callback URL is supported"))
        # `callbackUrls` is required with one element for either type (webhook.html's table, seed
        # 000_01eea84b9c132086.txt); no example shows CANCEL with an empty list.
        if not urls or not urls[0]:
            raise Reject(self._fail(16900403, MESSAGES[16900403].replace("{param}", f"{name}.callbackUrls")))
        if kind == "CANCEL":
            # The URL must still be a public https:// one; the reachability probe (1607003) is left out
            # (an assumption): a receiver that is gone must stay cancellable.
            self._check_url(urls[0], probe=False)
            return Group(type="CANCEL", urls=[])  # as setting/get shows a cancelled group
        self._check_url(urls[0])
        return Group(type="ENABLE", urls=[urls[0]])

    def _check_url(self, url: str, *, probe: bool = True) -> None:
        if len(url) > MAX_URL:
            raise Reject(
                self._fail(1600300, f"Param error: callback URL is longer than {MAX_URL} characters")
            )
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").rstrip(".").lower()
        except ValueError:
            host, parts = "", None
        if parts is None or parts.scheme.lower() != "https" or not host:
            raise Reject(self._fail(1607002, MESSAGES[1607002]))
        if _is_local(host):
            raise Reject(self._fail(1607001, MESSAGES[1607001]))
        suffix = self.options.unreachable_suffix.lower()
        if probe and (host == suffix.lstrip(".") or host.endswith(suffix)):
            raise Reject(self._fail(1607003, MESSAGES[1607003]))

    def _setting_get(self, req: SandboxRequest) -> SandboxResponse:
        self._count("setting_get")
        with self.lock:
            account_name = self._authorized(req)
            account = self.state.accounts.setdefault(account_name, Account(open_id=open_id_of(account_name)))
            data: dict[str, Any] = {
                "openId": account.open_id,
                "openName": f"Sandbox {account_name}",
                "openEmail": "sandbox@example.com",
                "setting": {"quotaLimits": [], "qpsLimit": self.options.account_qps},
            }
            spelling = self.options.callback_spelling
            if spelling != "absent":
                data["callback"] = {
                    name: {"type": group.type, spelling: list(group.urls)}
                    for name, group in account.callback.items()
                }
        data |= {"root": "GENERAL", "isSandbox": True}
        return self._ok(data)

    # -- admin ---------------------------------------------------------------------------------

    def _admin(self, req: SandboxRequest, path: str) -> SandboxResponse:
        route = (req.method, path)
        if route == ("GET", "/settings"):
            return json_response(200, self.options.model_dump())
        if route == ("POST", "/settings"):
            try:
                patch = OptionsPatch.model_validate(req.json() if req.body else {})
            except (ValueError, ValidationError) as exc:
                return json_response(400, {"error": str(exc).splitlines()[0]})
            with self.lock:
                values = {
                    k: getattr(patch, k) for k in patch.model_fields_set if getattr(patch, k) is not None
                }
                self.options = self.options.model_copy(update=values)
                return json_response(200, self.options.model_dump())
        if route == ("GET", "/stats"):
            with self._counter_lock:
                return json_response(200, dict(self.counters))
        if route == ("POST", "/expire-tokens"):
            with self.lock:
                for digest, issued in self.state.access_tokens.items():
                    self.state.access_tokens[digest] = issued.model_copy(update={"expires_at": 0.0})
            return json_response(200, {"expired": len(self.state.access_tokens)}, wrote=True)
        return json_response(404, {"error": f"no admin endpoint {req.method} /cjdropshipping/_sandbox{path}"})

    # -- helpers -------------------------------------------------------------------------------

    def _json_body(self, req: SandboxRequest) -> dict[str, Any]:
        content_type = req.headers.get("content-type", "")
        if not content_type.lower().startswith("application/json"):
            raise Reject(self._fail(16900203, MESSAGES[16900203].replace("{param}", content_type or "none")))
        try:
            body = req.json()
        except ValueError:
            raise Reject(self._fail(16900205, MESSAGES[16900205])) from None
        if not isinstance(body, dict):
            raise Reject(self._fail(16900205, MESSAGES[16900205]))
        return body

    def _count(self, what: str) -> None:
        with self._counter_lock:
            self.counters[what] = self.counters.get(what, 0) + 1

    def _ok(self, data: Any, *, wrote: bool = False) -> SandboxResponse:
        resp = self._envelope(200, 200, "Success", data)
        resp.wrote = wrote
        return resp

    def _fail(self, code: int, message: str) -> SandboxResponse:
        return self._envelope(200, code, message, None)

    @staticmethod
    def _envelope(status: int, code: int, message: str, data: Any) -> SandboxResponse:
        ok = code == 200
        body = {
            "code": code,
            "result": ok,
            "message": message,
            "data": data,
            "requestId": str(uuid.uuid4()),
            "success": ok,
        }
        return json_response(status, body)


def _is_local(host: str) -> bool:
    """localhost, loopback, private, link-local and reserved addresses (what 1607001 stands for)."""
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global
