"""The CJdropshipping webhook-settings provider: schema, configure, create, read, update, delete.

One resource per CJ account. Id ``cjdropshipping-webhook-settings``: constant, because the account is
the one the credentials belong to and its only other name, the openId, is the key CJ signs deliveries
with (ids are never secret). Nothing replaces; every callback URL updates in place. Create and update
are ``POST /webhook/set`` with the four required groups (a missing URL is sent as CANCEL) and the optional
``makeup``/``privateOrder`` groups only when declared, now or before; delete cancels the required groups and
the optional ones the resource set. CANCEL carries the group's current URL (``callbackUrls`` requires one).
Refresh reads the ``callback`` block of ``GET /setting/get``.

The module path and class name are written into every stack's state: never rename or move them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pulumi.dynamic import CheckResult

from pulumi_webhooks._core import settings
from pulumi_webhooks._core.errors import ConfigurationError, InputValidationError
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks._core.provider import ADOPT, Credential, InputField, WebhookProvider, is_unknown
from pulumi_webhooks._core.redact import excerpt, get_logger
from pulumi_webhooks._core.tokens import credential_key
from pulumi_webhooks._core.urls import api_base_url_problem, callback_url_problem
from pulumi_webhooks.cjdropshipping.topics import GROUPS, OPTIONAL_GROUPS, REQUIRED_GROUPS, URL_FIELDS

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
    return settings.header_credential_problem(key)  # CJ's keys are visible ASCII (CJ123@api@…)


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


def missing_credentials() -> str:
    """The message of a declaration with no credential, naming the settings where they are read (in
    the native plugin, its provider's config)."""
    return (
        "no CJdropshipping credentials: set the `api_key` input, "
        f"{API_KEY.names}, or an access token: the `access_token` input, {ACCESS_TOKEN.names}"
    )


def qps_problem(raw: str | None) -> str | None:
    try:
        value = float(raw or "")
    except ValueError:
        return f"must be a number of requests per second, got {excerpt(raw)}"
    if not 0 < value <= MAX_QPS:
        return f"must be more than 0 and at most {MAX_QPS:g}, got {excerpt(raw)}"
    return None


def declared_urls(inputs: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> dict[str, str | None]:
    """Group -> declared callback URL, None for a group to CANCEL: every required group, and an optional
    group only when it is declared now or had a URL before (then it is switched off). A stack that never
    sets an optional group never sends it, so whatever the account has there stays as it is."""
    managed = [g for g in OPTIONAL_GROUPS if inputs.get(URL_FIELDS[g]) or (olds or {}).get(URL_FIELDS[g])]
    return {group: inputs.get(URL_FIELDS[group]) or None for group in (*REQUIRED_GROUPS, *managed)}


class CjWebhookSettingsProvider(WebhookProvider["CjApi", "CallbackSettings"]):
    """Manages the webhook settings (four required and two optional callback groups) of one CJ account."""

    platform = "CJdropshipping"
    fields = FIELDS
    natural_key = "account"
    credential_settings = (
        Credential("api_key", API_KEY, api_key_problem),
        Credential("access_token", ACCESS_TOKEN, settings.header_credential_problem),
    )
    computed_outputs = ("open_id",)
    secret_outputs = ("open_id",)  # the key CJ signs deliveries with

    def inputs_from_id(self, id_: str) -> dict[str, Any]:
        if id_ != RESOURCE_ID:  # one settings object per account: its id is a constant
            raise InputValidationError("id", f"must be {RESOURCE_ID!r}, got {id_!r}")
        return {}

    def owner_key(self, id_: str, inputs: Mapping[str, Any]) -> tuple[str, str, str]:
        # The id is the same for every account: the credential tells the accounts apart.
        found = credentials(inputs)
        return (self.platform, id_, credential_key(*found) if found else "")

    def replacement_collides(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        # One settings object per account: a replacement (`pulumi up --replace`) of the same account's can
        # only follow the old one's delete, or it would take them over and the delete would cancel them.
        return credentials(olds) == credentials(news)

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
            failures.append(("api_key", missing_credentials()))
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
            raise ConfigurationError(missing_credentials())
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
        """The account's settings when someone already configured them (a group is switched on): taken
        over as they are when identical, updated when the declaration only switches more groups on,
        refused without adopt=True when a group would get another URL (``overrides``). None when there is
        nothing to take over (every group off) or CJ shows no callback block."""
        from pulumi_webhooks.cjdropshipping.api import CallbackSettings, parse_callback

        account = api.get_settings()
        declared = declared_urls(inputs)
        groups = _managed(parse_callback(account.callback), declared)
        if groups is None or all(url is None for url in groups.values()):
            return None
        conflicts = tuple(g for g in declared if groups.get(g) is not None and groups[g] != declared[g])
        return CallbackSettings(account.open_id, groups, conflicts)

    def overrides(self, remote: CallbackSettings, inputs: Mapping[str, Any]) -> bool:
        return bool(remote.conflicts)  # switching more groups on changes nothing that works today

    def same_as_declared(self, remote: CallbackSettings, inputs: Mapping[str, Any]) -> bool:
        declared = declared_urls(inputs)
        groups = remote.groups
        return groups is not None and all(g in groups and groups[g] == declared[g] for g in declared)

    def describe(self, remote: CallbackSettings) -> str:
        # Group names only: never the openId, and not the URLs (they may carry the receiver's secret).
        if remote.conflicts:
            names = " and ".join(remote.conflicts)
            return f"id {RESOURCE_ID}: the account's callback settings enable {names} with other URLs than declared"
        enabled = " and ".join(g for g in GROUPS if (remote.groups or {}).get(g) is not None) or "no group"
        return f"id {RESOURCE_ID}: the account's callback settings, which enable {enabled}"

    def adopt(self, api: CjApi, existing: CallbackSettings, inputs: Mapping[str, Any]) -> CallbackSettings:
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
        groups = _managed(parse_callback(account.callback), declared_urls(inputs))
        if groups is None:
            log.info("CJdropshipping read: setting/get has no callback block; keeping the stored URLs")
        return CallbackSettings(account.open_id or api.open_id(), groups)

    def api_update(
        self, api: CjApi, id_: str, olds: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> CallbackSettings:
        return self._set(api, inputs, olds=olds, open_id=olds.get("open_id"))

    def api_delete(self, api: CjApi, id_: str, inputs: Mapping[str, Any]) -> None:
        # Every required group CANCEL, declared here or not, and the optional groups this resource set.
        groups = declared_urls({}, inputs)
        api.set_callbacks(dict.fromkeys(groups), current=_current_urls(api, groups, inputs))

    def remote_outputs(self, remote: CallbackSettings) -> dict[str, Any]:
        # A group CJ reports as cancelled maps to None, which drops its URL; a group it does not
        # mention is absent here, so the stored URL stays.
        outs: dict[str, Any] = {URL_FIELDS[g]: url for g, url in (remote.groups or {}).items()}
        outs["open_id"] = remote.open_id
        return outs

    # -- helpers ------------------------------------------------------------------------------------
    def _set(
        self,
        api: CjApi,
        inputs: Mapping[str, Any],
        *,
        olds: Mapping[str, Any] | None = None,
        open_id: str | None = None,
    ) -> CallbackSettings:
        from pulumi_webhooks.cjdropshipping.api import CallbackSettings

        declared = declared_urls(inputs, olds)
        api.set_callbacks(declared, current=_current_urls(api, declared, olds or {}))
        return CallbackSettings(open_id or api.open_id(), declared)


def _managed(
    groups: dict[str, str | None] | None, declared: Mapping[str, Any]
) -> dict[str, str | None] | None:
    """The groups CJ reports, less the optional ones the resource does not manage (someone else's)."""
    if groups is None:
        return None
    return {g: url for g, url in groups.items() if g in REQUIRED_GROUPS or g in declared}


def _current_urls(
    api: CjApi, groups: Mapping[str, str | None], stored: Mapping[str, Any]
) -> dict[str, str | None]:
    """The URL each group to CANCEL has now, which ``webhook/set`` wants in ``callbackUrls``: the one this
    resource set (state), else the one CJ showed earlier in this operation (create reads the account
    first). ``set_body`` falls back to another URL of the call; only when none is known anywhere is the
    account read (``setting/get``) to find one."""
    from pulumi_webhooks.cjdropshipping.api import parse_callback

    current: dict[str, str | None] = {g: stored.get(URL_FIELDS[g]) or None for g in groups}
    known = api.last_settings
    if known is None and not any((*groups.values(), *current.values())):
        known = api.get_settings()
    shown = parse_callback(known.callback) if known is not None else None
    return {g: current[g] or (shown or {}).get(g) for g in groups}
