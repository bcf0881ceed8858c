"""UP42 credentials and endpoints: the settings, the regions, and access tokens that renew themselves.

UP42 access tokens come from a Keycloak password grant and live five minutes. One token serves every
resource of the process (single flight through ``_core.tokens``), is renewed 30 s before it expires
(as UP42's own SDK does), and is renewed once more when the API rejects it mid-run. A failed grant is
tried again once per kind of failure, at most 3 failed grants per process run (``_core.tokens``), and
never again by the API request that needed it. A given access token
(``access_token`` input, ``up42:accessToken``, ``UP42_ACCESS_TOKEN``) is used as is; when the API rejects
it and a username and password are configured, the password grant takes over for the rest of the process.

Nothing here is kept on a provider instance: credentials are looked up per operation and tokens are
cached at module level, keyed by a hash of the credentials. The grant itself (``api.request_token``) is
an HTTP call like the others and lives in api.py: this module declares settings, so the provider imports
it at once, and a program that only declares resources never loads the HTTP client.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from pulumi_webhooks._core import errors, settings
from pulumi_webhooks._core.redact import get_logger
from pulumi_webhooks._core.tokens import Token, credential_key, failed_token_requests, tokens
from pulumi_webhooks._core.urls import api_base_url_problem

log = get_logger("pulumi_webhooks.up42")

PLATFORM = "UP42"
CLIENT_ID = "up42-api"  # the client id of UP42's authentication docs (the SDK uses up42-sdk)
RENEW_MARGIN = 30.0  # seconds before expiry a token is replaced (UP42's SDK does the same)
TOKEN_OPERATION = "token request"  # noqa: S105 (an operation name, not a password)
REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id")

USERNAME = settings.Setting("up42:username", "UP42_USERNAME")
PASSWORD = settings.Setting("up42:password", "UP42_PASSWORD", secret=True)
ACCESS_TOKEN = settings.Setting("up42:accessToken", "UP42_ACCESS_TOKEN", secret=True)
BASE_URL = settings.Setting("up42:baseUrl", "UP42_BASE_URL")
AUTH_URL = settings.Setting("up42:authUrl", "UP42_AUTH_URL")
REGION = settings.Setting("up42:region", "UP42_REGION", default="eu")
settings.declare(USERNAME, PASSWORD, ACCESS_TOKEN, BASE_URL, AUTH_URL, REGION)

_OIDC_PATH = "/realms/public/protocol/openid-connect/token"
REGIONS: dict[str, tuple[str, str]] = {
    "eu": ("https://api.up42.com", f"https://auth.up42.com{_OIDC_PATH}"),
    "sa": ("https://api.sa.up42.com", f"https://auth.sa.up42.com{_OIDC_PATH}"),
}


def credentials_hint() -> str:
    """What to check when UP42 refuses the credentials, naming the settings where they are read."""
    return (
        f"Check the UP42 credentials: {USERNAME.names}, and {PASSWORD.names}; or an access token (the "
        f"`access_token` input, {ACCESS_TOKEN.names}; tokens live 5 minutes); and that the account may "
        "manage webhooks of this workspace"
    )


# -- endpoints ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoints:
    """The API root and the token URL to use."""

    api: str
    token: str


def endpoint_problems(
    *, base_url: str | None = None, auth_url: str | None = None, region: str | None = None
) -> list[str]:
    """Why the configured region or URLs cannot be used (empty when they can); no network."""
    problems: list[str] = []
    chosen = (region or settings.lookup(REGION) or "eu").lower()
    if chosen not in REGIONS:
        problems.append(f"{REGION.names} must be one of {', '.join(REGIONS)}, got {chosen!r}")
    for setting, explicit in ((BASE_URL, base_url), (AUTH_URL, auth_url)):
        value = settings.lookup(setting, explicit)
        problem = api_base_url_problem(value) if value else None
        if problem:
            problems.append(f"{setting.names} {problem}")
    return problems


def endpoints(
    *, base_url: str | None = None, auth_url: str | None = None, region: str | None = None
) -> Endpoints:
    """The endpoints from explicit values, else the settings, else the region's defaults."""
    problems = endpoint_problems(base_url=base_url, auth_url=auth_url, region=region)
    if problems:
        raise errors.ConfigurationError(problems[0])
    api_default, token_default = REGIONS[(region or settings.lookup(REGION) or "eu").lower()]
    return Endpoints(
        api=(settings.lookup(BASE_URL, base_url) or api_default).rstrip("/"),
        token=settings.lookup(AUTH_URL, auth_url) or token_default,
    )


# -- credentials -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Credentials:
    """What the provider may authenticate with; ``repr`` never shows the secrets."""

    access_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def can_sign_in(self) -> bool:
        return bool(self.username and self.password)

    def missing(self) -> str | None:
        """Why these credentials cannot work (naming every place to set them), or None."""
        if self.access_token or self.can_sign_in:
            return None
        token_sources = f"an access token: the `access_token` input, {ACCESS_TOKEN.names}"
        if self.username and not self.password:
            return (
                f"no UP42 password for the configured username: set {PASSWORD.names}, or give {token_sources}"
            )
        if self.password and not self.username:
            return (
                f"no UP42 username for the configured password: set {USERNAME.names}, or give {token_sources}"
            )
        return f"no UP42 credentials: set {USERNAME.names}, and {PASSWORD.names}; or give {token_sources}"


def credentials(
    access_token: object = None, *, username: str | None = None, password: str | None = None
) -> Credentials:
    """The credentials from explicit values (a resource input), else stack config, else environment."""
    return Credentials(
        access_token=settings.lookup(ACCESS_TOKEN, access_token),
        username=settings.lookup(USERNAME, username),
        password=settings.lookup(PASSWORD, password),
    )


# -- tokens ------------------------------------------------------------------------------------------
_rejected_lock = threading.Lock()
_rejected_given_tokens: set[str] = set()  # hashes of given access tokens the API refused


class Up42Auth:
    """Bearer headers for :class:`~pulumi_webhooks.up42.api.Up42Api`, renewed when the API refuses them
    (implements ``_core.http.Auth``). One object per operation; the tokens themselves are process-wide."""

    def __init__(self, creds: Credentials, token_url: str) -> None:
        self._creds = creds
        self._token_url = token_url
        self._key = credential_key(token_url, creds.username or "", creds.password or "")
        self._given_key = credential_key("given", creds.access_token) if creds.access_token else None
        self._sent: str | None = None

    def __repr__(self) -> str:
        return f"Up42Auth({self._token_url!r})"

    def headers(self) -> Mapping[str, str]:
        self._sent = None  # a failed token request must not be "renewed" by the API client
        token = self._token()
        self._sent = token
        return {"Authorization": f"Bearer {token}"}

    def renew(self) -> bool:
        sent, self._sent = self._sent, None
        if sent is None:
            return False
        if sent == self._creds.access_token:
            with _rejected_lock:
                _rejected_given_tokens.add(str(self._given_key))
            log.info("UP42: the given access token was refused; signing in with username and password")
            return self._creds.can_sign_in
        tokens.invalidate(self._key, sent)
        log.info("UP42: the access token was refused before its expiry; requesting a new one")
        return True

    def _token(self) -> str:
        given = self._creds.access_token
        if given and (not self._creds.can_sign_in or not _was_rejected(self._given_key)):
            return given
        if not self._creds.can_sign_in:
            raise errors.ConfigurationError(self._creds.missing() or "no UP42 credentials")
        return tokens.get(self._key, self._fetch, margin=0.0).value

    def _fetch(self, _previous: Token | None) -> Token:
        from pulumi_webhooks.up42.api import request_token  # the HTTP client loads when first needed

        return request_token(
            self._token_url,
            str(self._creds.username),
            str(self._creds.password),
            budget=failed_token_requests.budget(self._key),
        )


def _was_rejected(key: str | None) -> bool:
    with _rejected_lock:
        return key in _rejected_given_tokens
