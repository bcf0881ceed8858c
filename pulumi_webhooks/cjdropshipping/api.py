"""What to call on CJdropshipping API 2.0: the token endpoints, ``webhook/set`` and ``setting/get``.

Base URL ``https://developers.cjdropshipping.com/api2.0/v1`` (reference/platforms.md §1). Every answer is
the envelope ``{code, result, message, data, requestId[, success]}``, and errors usually arrive as
HTTP 200 with ``result: false``: :meth:`CjClient.check_body` turns them into the shared error tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import httpx

from pulumi_webhooks._core import errors
from pulumi_webhooks._core.http import ApiClient, Auth
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks._core.redact import clip, get_logger, register_secret
from pulumi_webhooks.cjdropshipping.topics import CANCEL, ENABLE, GROUPS

if TYPE_CHECKING:
    from pulumi_webhooks.cjdropshipping import models as wire
    from pulumi_webhooks.cjdropshipping.models import AccountSettings, TokenGrant
else:
    from pulumi_webhooks._core.lazy import LazyModule

    wire = LazyModule("pulumi_webhooks.cjdropshipping.models")

PLATFORM = "CJdropshipping"
log = get_logger("pulumi_webhooks.cjdropshipping")
AUTH_HEADER = "CJ-Access-Token"

# CJ's own codes (global error-code table, §1.5).
SUCCESS = 200
BUSY = 1600000  # "System busy": retried, at most 3 times (the table says so)
MAX_BUSY_RETRIES = 3
AUTH_CODES = frozenset({1600001, 1600002, 1600003, 1601000})
TOO_MANY_REQUESTS = 1600200
QUOTA_USED_UP = 1600201
PARAM_ERROR = 1600300
INTERFACE_OFFLINE, INTERFACE_NOT_FOUND = 1600100, 1600101  # answered inside HTTP 200 like the others
NOT_SERVED = frozenset({INTERFACE_OFFLINE, INTERFACE_NOT_FOUND})
URL_HINTS = {
    1607001: "CJ refuses localhost and loopback addresses: use a public https:// URL",
    1607002: "CJ accepts only https:// callback URLs",
    1607003: "CJ calls the URL when it is set and needs HTTP 200 from it: deploy the receiver first and "
    "make it answer POST with 200 within 3 seconds",
}
REQUIREMENTS_HINT = (
    "The receiver must accept POST with Content-Type application/json over HTTPS and answer 200 within "
    "3 seconds"
)


def is_validation_code(code: int) -> bool:
    """1606xxx/1607xxx (webhook settings), 1600300 (param error), 16900xxx (malformed request)."""
    return code // 1000 in (1606, 1607) or code == PARAM_ERROR or code // 1000 == 16900


@dataclass(frozen=True)
class CallbackSettings:
    """An account's callback settings as we know them.

    ``groups`` maps a group to its URL when enabled and to None when cancelled; a group CJ did not
    mention is left out (unknown), and ``groups`` is None when ``setting/get`` had no ``callback`` block.
    ``conflicts`` names enabled groups whose URL differs from a declaration (set while adopting)."""

    open_id: str | None = field(repr=False)  # the delivery signing key
    groups: Mapping[str, str | None] | None
    conflicts: tuple[str, ...] = ()


def parse_callback(block: Any) -> dict[str, str | None] | None:
    """The groups of a ``callback`` block, in any spelling the docs have shown:
    ``{"product": {"type": "ENABLE", "urls": [...]}}`` (current), ``callbackUrls`` instead of ``urls``
    (as ``webhook/set`` spells it), or the oldest flat ``{"productType": "ALL", "productCallbackUrls":
    [...]}``. Returns None when there is no block; missing groups are left out."""
    if not isinstance(block, dict):
        return None
    groups: dict[str, str | None] = {}
    for group in GROUPS:
        entry = block.get(group)
        if isinstance(entry, dict):
            kind, urls = entry.get("type"), _first_list(entry, "urls", "callbackUrls")
        elif f"{group}Type" in block:
            kind, urls = block.get(f"{group}Type"), _first_list(block, f"{group}CallbackUrls", f"{group}Urls")
        else:
            continue
        # "ALL" is the old spelling of ENABLE. An enabled group without a URL delivers nothing.
        enabled = isinstance(kind, str) and kind.upper() in (ENABLE, "ALL")
        url = next((u for u in urls if isinstance(u, str) and u), None)
        groups[group] = url if enabled else None
    return groups


def _first_list(entry: Mapping[str, Any], *keys: str) -> list[Any]:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, list):
            return value
        if isinstance(value, str) and value:  # a single URL where a list was expected
            return [value]
    return []


def set_body(
    urls: Mapping[str, str | None], current: Mapping[str, str | None] | None = None
) -> dict[str, Any] | None:
    """The ``webhook/set`` body for the groups in ``urls`` (the caller passes every required group): a
    URL is ENABLE, None is CANCEL. ``callbackUrls`` is required with one element (webhook.html, seed
    000_01eea84b9c132086.txt), so CANCEL carries the group's current URL (``current``), or, for a group
    that never had one, another URL of the same call. None when no URL is known at all: nothing is
    switched on, and there is nothing to send."""
    known = current or {}
    fallback = next((u for u in (*urls.values(), *known.values()) if u), None)
    body: dict[str, Any] = {}
    for group in GROUPS:
        if group not in urls:
            continue  # an optional group the resource does not manage: left as the account has it
        url = urls[group]
        cancel_url = known.get(group) or fallback
        if url:
            body[group] = {"type": ENABLE, "callbackUrls": [url]}
        elif cancel_url:
            body[group] = {"type": CANCEL, "callbackUrls": [cancel_url]}
        else:
            return None
    return body


# -- clients ----------------------------------------------------------------------------------------
class CjClient(ApiClient):
    """What every CJ call shares: the envelope, CJ's codes, and the request id from the body."""

    platform = PLATFORM
    wire_module = wire.__name__
    request_id_headers = ()  # CJ puts `requestId` in the body: see _request_id
    rate_limit_hint: ClassVar[str | None] = None

    def credentials_hint(self) -> str:
        from pulumi_webhooks.cjdropshipping.provider import ACCESS_TOKEN, API_KEY  # the provider loads us

        return (
            f"Check the API key (the `api_key` input, {API_KEY.names}) or the access token (the "
            f"`access_token` input, {ACCESS_TOKEN.names})"
        )

    def check_body(self, operation: str, response: httpx.Response, body: Any, request_id: str | None) -> None:
        """CJ's errors arrive inside 2xx answers. The platform did answer, so a write may have gone
        through: unless CJ's code says the request was refused (credentials, throttling, validation, an
        endpoint it does not serve), the error says ``may_have_committed``, as a 5xx would."""
        if not isinstance(body, dict):
            return  # the model validation says what is wrong with the shape
        try:
            code = _code(body.get("code"))
        except ValueError:
            raise self._bad_body(operation, response, request_id, "`code` is not an integer") from None
        failed = (
            (code is not None and code != SUCCESS)
            or body.get("result") is False
            or body.get("success") is False
        )
        if failed:
            error = self.cj_error(operation, response.status_code, code, body.get("message"), request_id)
            # Busy (1600000) or a code we do not know may have committed; a refusal did not.
            error.may_have_committed = not (isinstance(error, errors.REFUSED) or code in NOT_SERVED)
            raise error

    def error_detail(self, response: httpx.Response) -> tuple[str | None, str | None]:
        try:
            body = response.json()
        except ValueError:
            return super().error_detail(response)
        if isinstance(body, dict) and ("code" in body or "message" in body):
            try:
                code = _code(body.get("code"))
            except ValueError:  # an error answer all the same: its status says what failed
                code = None
            message = body.get("message")
            return (str(code) if code is not None else None), _message(message)
        return super().error_detail(response)

    def cj_error(
        self, operation: str, status: int, code: int | None, message: Any, request_id: str | None
    ) -> errors.ApiError:
        """The error for a CJ code reported inside a (usually 200) answer."""
        cls: type[errors.ApiError] = errors.ApiError
        hint: str | None = None
        if code in AUTH_CODES:
            cls, hint = errors.AuthenticationError, self.credentials_hint()
        elif code == TOO_MANY_REQUESTS:
            cls, hint = errors.RateLimitedError, self.rate_limit_hint
        elif code == QUOTA_USED_UP:
            cls = errors.RateLimitedError
            hint = "The account's daily API points are used up; they reset at 00:00 UTC"
        elif code == BUSY:
            cls = errors.ServerError
        elif code in NOT_SERVED:
            # Not retried: the path is wrong (a base URL without /api2.0/v1) or CJ took the endpoint down.
            hint = (
                "CJ does not serve this endpoint: check that cjdropshipping:baseUrl (CJ_BASE_URL) ends with "
                "/api2.0/v1"
            )
        elif code is not None and is_validation_code(code):
            cls = errors.ApiValidationError
            hint = URL_HINTS.get(code, REQUIREMENTS_HINT if code in (1606001, 1607000) else None)
        error = cls(
            platform=self.platform,
            operation=operation,
            status=status,
            code=str(code) if code is not None else None,
            detail=_message(message) or "result: false",
            request_id=request_id,
            hint=hint,
        )
        if code == BUSY:
            error.max_retries = MAX_BUSY_RETRIES  # "System busy": retry, at most 3 times (error-code docs)
        elif code == QUOTA_USED_UP:
            error.max_retries = 0  # nothing changes before 00:00 UTC
        return error

    def _request_id(self, response: httpx.Response) -> str | None:
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("requestId"), str) and body["requestId"]:
            return clip(str(body["requestId"]), 64)
        return super()._request_id(response)


class CjAuthApi(CjClient):
    """The token endpoints (no access token header). getAccessToken is rate limited per API key (once
    per 5 minutes in the 2026-02 docs, QPS 1 on the current auth page), so each kind of failure is tried
    again once (``_core/tokens.py``) and a throttled answer (1600200) not at all."""

    max_attempts = 3
    retry_each_failure_once = True
    rate_limit_hint = (
        "CJ allows one getAccessToken call per API key every 5 minutes. pulumi-webhooks caches the token "
        "on disk (see docs/cjdropshipping.md); wait a few minutes and run again, or set "
        "`cjdropshipping:accessToken`"
    )

    def get_access_token(self, api_key: str) -> TokenGrant:
        # Safe to repeat: CJ hands out the same token again within 24 hours.
        _, envelope = self.request(
            "get access token",
            "POST",
            "authentication/getAccessToken",
            json={"apiKey": api_key},
            model=lambda: wire.TokenEnvelope,
            idempotent=True,
        )
        assert envelope is not None
        return _registered(envelope.data)

    def refresh_access_token(self, refresh_token: str) -> TokenGrant:
        _, envelope = self.request(
            "refresh access token",
            "POST",
            "authentication/refreshAccessToken",
            json={"refreshToken": refresh_token},
            model=lambda: wire.TokenEnvelope,
            idempotent=True,
        )
        assert envelope is not None
        return _registered(envelope.data)

    def cj_error(
        self, operation: str, status: int, code: int | None, message: Any, request_id: str | None
    ) -> errors.ApiError:
        error = super().cj_error(operation, status, code, message, request_id)
        if code == TOO_MANY_REQUESTS:
            error.max_retries = 0  # the older rule counts in minutes: asking again is refused again
        return error


class CjAuth(Auth, Protocol):
    """``_core.http.Auth`` plus the openId the token answer carried (None when unknown)."""

    @property
    def open_id(self) -> str | None: ...


class CjApi(CjClient):
    """The settings calls of one account, paced under its QPS."""

    def __init__(self, base_url: str, *, auth: CjAuth, pace_key: str, rate: RatePolicy) -> None:
        super().__init__(base_url, pace_key=pace_key, rate=rate, auth=auth)
        self.auth = auth
        self.seen_open_id: str | None = None
        self.last_settings: AccountSettings | None = None  # this operation's last setting/get answer

    def open_id(self) -> str | None:
        """The account's openId: from the token answer, an earlier read, or one more read."""
        return self.auth.open_id or self.seen_open_id or self.get_settings().open_id

    def get_settings(self) -> AccountSettings:
        _, envelope = self.request("read settings", "GET", "setting/get", model=lambda: wire.SettingsEnvelope)
        assert envelope is not None
        if envelope.data.open_id:
            register_secret(envelope.data.open_id)
            self.seen_open_id = envelope.data.open_id
        self.last_settings = envelope.data
        return envelope.data

    def set_callbacks(
        self, urls: Mapping[str, str | None], *, current: Mapping[str, str | None] | None = None
    ) -> None:
        """``POST /webhook/set`` with the given groups (CANCEL with the ``current`` URLs, see
        :func:`set_body`). The full settings are sent every time, so repeating the call after a lost
        answer is safe (idempotent)."""
        body = set_body(urls, current)
        if body is None:
            log.info("CJdropshipping set webhooks: no group has a URL, now or before; nothing to switch off")
            return
        self.request("set webhooks", "POST", "webhook/set", json=body, idempotent=True)
        self.last_settings = None  # stale now


def _registered(grant: TokenGrant) -> TokenGrant:
    for value in (grant.access_token, grant.refresh_token, grant.open_id):
        register_secret(value)
    return grant


def _code(value: Any) -> int | None:
    """CJ's ``code`` as an int; None when there is none (absent, null, a boolean or a string that is not
    a number). Raises ValueError for a number that is not an integer (``1e999`` is valid JSON and reads
    as infinity, ``200.5``): such an answer is not one CJ sends, and no code can be read from it."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        if not value.is_integer():  # inf, nan, 200.5
            raise ValueError(f"not an integer: {value!r}")
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _message(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return clip(str(value), 300)  # redacted before it is cut
