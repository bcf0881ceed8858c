"""The CJdropshipping webhook-settings provider: schema, configure, create, read, update, delete.

One resource per CJ account. Id ``cjdropshipping-webhook-settings``: constant, because the account is
the one the credentials belong to and its only other name, the openId, is the key CJ signs deliveries
with (ids are never secret). Nothing replaces; every callback URL updates in place. Create and update
are ``POST /webhook/set`` with all four groups (a missing URL is sent as CANCEL); delete cancels every
group. Refresh reads the ``callback`` block of ``GET /setting/get``.

The module path and class name are written into every stack's state: never rename or move them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pulumi.dynamic import CheckResult

from pulumi_webhooks._core import settings
from pulumi_webhooks._core.errors import ConfigurationError
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks._core.provider import ADOPT, InputField, WebhookProvider, is_unknown
from pulumi_webhooks._core.redact import get_logger
from pulumi_webhooks._core.tokens import credential_key
from pulumi_webhooks._core.urls import api_base_url_problem, callback_url_problem
from pulumi_webhooks.cjdropshipping.topics import GROUPS, URL_FIELDS

if TYPE_CHECKING:  # the API client (httpx, pydantic) loads at the first call: a program never needs it
    from pulumi_webhooks.cjdropshipping.api import CallbackSettings, CjApi

log = get_logger("pulumi_webhooks.cjdropshipping")

# -- schema ------------------------------------------------------------------------------------------
API_KEY = settings.Setting("cjdropshipping:apiKey", "CJ_API_KEY", secret=True)
ACCESS_TOKEN = settings.Setting("cjdropshipping:accessToken", "CJ_ACCESS_TOKEN", secret=True)
BASE_URL = settings.Setting(
    "cjdropshipping:baseUrl", "CJ_BASE_URL", default="https://developers.cjdropshipping.com/api2.0/v1"
)
QPS = settings.Setting("cjdropshipping:qps", "CJ_QPS", default="1")
settings.declare(API_KEY, ACCESS_TOKEN, BASE_URL, QPS)

RESOURCE_ID = "cjdropshipping-webhook-settings"
# The docs' table gives 200 as the length of each group object and of `type`, and no separate limit for
# the URL; we hold the URL to 200 characters (an inference, see docs/cjdropshipping.md).
MAX_URL_LENGTH = 200
MAX_API_KEY_LENGTH = 200  # getAccessToken: apiKey is a string of at most 200 characters
MAX_QPS = 1000.0
# Pace a little under the account's QPS: the platform counts arrivals, and arrivals jitter.
PACE_FACTOR = 0.9

CredentialKind = Literal["api_key", "access_token"]


def url_problem(url: str) -> str | None:
    return callback_url_problem(url, max_length=MAX_URL_LENGTH)


def api_key_problem(key: str) -> str | None:
    if len(key) > MAX_API_KEY_LENGTH:
        return f"must be at most {MAX_API_KEY_LENGTH} characters (CJ's limit for apiKey)"
    return None


FIELDS = (
    *(InputField(URL_FIELDS[group], rule=url_problem) for group in GROUPS),
    InputField("api_key", secret=True, state_only=True, rule=api_key_problem),
    InputField("access_token", secret=True, state_only=True),
    ADOPT,
)


def credentials(inputs: Mapping[str, Any]) -> tuple[CredentialKind, str] | None:
    """Which credential to use. An `api_key` or `access_token` input wins (in that order); otherwise an
    API key from the stack config or environment is preferred to an access token: it can renew itself."""
    for kind in ("api_key", "access_token"):
        value = inputs.get(kind)
        if isinstance(value, str) and value:
            return kind, value
    api_key = settings.lookup(API_KEY)
    if api_key:
        return "api_key", api_key
    token = settings.lookup(ACCESS_TOKEN)
    if token:
        return "access_token", token
    return None


MISSING_CREDENTIALS = (
    "no CJdropshipping credentials: set the `api_key` input, "
    f"{API_KEY.names}, or an access token: the `access_token` input, {ACCESS_TOKEN.names}"
)


def qps_problem(raw: str | None) -> str | None:
    try:
        value = float(raw or "")
    except ValueError:
        return f"must be a number of requests per second, got {raw!r}"
    if not 0 < value <= MAX_QPS:
        return f"must be more than 0 and at most {MAX_QPS:g}, got {raw!r}"
    return None


def declared_urls(inputs: Mapping[str, Any]) -> dict[str, str | None]:
    """Group -> declared callback URL, None for a group to CANCEL."""
    return {group: inputs.get(URL_FIELDS[group]) or None for group in GROUPS}


class CjWebhookSettingsProvider(WebhookProvider["CjApi", "CallbackSettings"]):
    """Manages the webhook settings (four callback groups) of one CJdropshipping account."""

    platform = "CJdropshipping"
    fields = FIELDS
    natural_key = "account"
    computed_outputs = ("open_id",)

    # -- configure / check --------------------------------------------------------------------------
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        for name in URL_FIELDS.values():  # an empty URL means "no URL": the group is cancelled
            if result.inputs.get(name) == "":
                del result.inputs[name]
        return result

    def _field_problem(self, field: InputField, value: Any) -> str | None:
        if field.name in URL_FIELDS.values() and isinstance(value, (list, tuple)):
            return "takes one callback URL, not a list: CJ supports exactly one URL per message group"
        return super()._field_problem(field, value)

    def check_settings(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures: list[tuple[str, str]] = []
        if not any(is_unknown(inputs.get(k)) for k in ("api_key", "access_token")) and not credentials(
            inputs
        ):
            failures.append(("api_key", MISSING_CREDENTIALS))
        problem = api_base_url_problem(settings.lookup(BASE_URL) or "")
        if problem:
            failures.append(("", f"{BASE_URL.names} {problem}"))
        problem = qps_problem(settings.lookup(QPS))
        if problem:
            failures.append(("", f"{QPS.names} {problem}"))
        return failures

    def connect(self, inputs: Mapping[str, Any], *, resource_id: str | None = None) -> CjApi:
        from pulumi_webhooks.cjdropshipping.api import CjApi
        from pulumi_webhooks.cjdropshipping.auth import AccessTokenAuth, ApiKeyAuth

        found = credentials(inputs)
        if found is None:
            raise ConfigurationError(MISSING_CREDENTIALS)
        base_url = (settings.lookup(BASE_URL) or "").rstrip("/")
        problem = api_base_url_problem(base_url)
        if problem:
            raise ConfigurationError(f"{BASE_URL.names} {problem}")
        raw_qps = settings.lookup(QPS)
        problem = qps_problem(raw_qps)
        if problem:
            raise ConfigurationError(f"{QPS.names} {problem}")
        kind, secret = found
        auth = ApiKeyAuth(base_url, secret) if kind == "api_key" else AccessTokenAuth(secret)
        # One bucket per account (credential) and endpoint, shared by every resource of the process.
        pace_key = f"cjdropshipping {credential_key(base_url, secret)}"
        rate = RatePolicy(per_second=float(raw_qps or 1) * PACE_FACTOR, burst=1)
        return CjApi(base_url, auth=auth, pace_key=pace_key, rate=rate)

    # -- create -------------------------------------------------------------------------------------
    def resource_id(self, inputs: Mapping[str, Any], remote: CallbackSettings) -> str:
        return RESOURCE_ID

    def find_existing(self, api: CjApi, inputs: Mapping[str, Any]) -> CallbackSettings | None:
        """The account's settings when they matter before a write: identical to the declaration (take
        them over without a write) or enabling a group with another URL (adopt or fail). None when
        there is nothing to protect (only groups to switch on) or CJ shows no callback block."""
        from pulumi_webhooks.cjdropshipping.api import CallbackSettings, parse_callback

        account = api.get_settings()
        groups = parse_callback(account.callback)
        if groups is None:
            return None
        declared = declared_urls(inputs)
        conflicts = tuple(g for g in GROUPS if groups.get(g) is not None and groups[g] != declared[g])
        remote = CallbackSettings(account.open_id, groups, conflicts)
        if conflicts or self.same_as_declared(remote, inputs):
            return remote
        return None

    def same_as_declared(self, remote: CallbackSettings, inputs: Mapping[str, Any]) -> bool:
        declared = declared_urls(inputs)
        groups = remote.groups
        return groups is not None and all(g in groups and groups[g] == declared[g] for g in GROUPS)

    def describe(self, remote: CallbackSettings) -> str:
        # Group names only: never the openId, and not the URLs (they may carry the receiver's secret).
        names = " and ".join(remote.conflicts) or "some groups"
        return f"the account's callback settings enable {names} with other URLs than declared"

    def adopt(self, api: CjApi, existing: CallbackSettings, inputs: Mapping[str, Any]) -> CallbackSettings:
        log.info("CJdropshipping create: taking over the account's callback settings (adopt=True)")
        return self._set(api, inputs, open_id=existing.open_id)

    def api_create(self, api: CjApi, inputs: Mapping[str, Any]) -> CallbackSettings:
        return self._set(api, inputs)

    # -- read / update / delete ---------------------------------------------------------------------
    def api_read(self, api: CjApi, id_: str, inputs: Mapping[str, Any]) -> CallbackSettings | None:
        # The settings object always exists: a group switched off out of band is drift (its URL
        # disappears), not a deletion. Without a callback block there is nothing to compare: the
        # stored URLs are kept (remote_outputs adds only the openId).
        from pulumi_webhooks.cjdropshipping.api import CallbackSettings, parse_callback

        account = api.get_settings()
        groups = parse_callback(account.callback)
        if groups is None:
            log.info("CJdropshipping read: setting/get has no callback block; keeping the stored URLs")
        return CallbackSettings(account.open_id or api.open_id(), groups)

    def api_update(
        self, api: CjApi, id_: str, olds: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> CallbackSettings:
        return self._set(api, inputs, open_id=olds.get("open_id"))

    def api_delete(self, api: CjApi, id_: str, inputs: Mapping[str, Any]) -> None:
        api.set_callbacks(dict.fromkeys(GROUPS))  # every group CANCEL, declared here or not

    def remote_outputs(self, remote: CallbackSettings) -> dict[str, Any]:
        # A group CJ reports as cancelled maps to None, which drops its URL; a group it does not
        # mention is absent here, so the stored URL stays.
        outs: dict[str, Any] = {URL_FIELDS[g]: url for g, url in (remote.groups or {}).items()}
        outs["open_id"] = remote.open_id
        return outs

    # -- helpers ------------------------------------------------------------------------------------
    def _set(self, api: CjApi, inputs: Mapping[str, Any], *, open_id: str | None = None) -> CallbackSettings:
        from pulumi_webhooks.cjdropshipping.api import CallbackSettings

        declared = declared_urls(inputs)
        api.set_callbacks(declared)
        return CallbackSettings(open_id or api.open_id(), declared)
