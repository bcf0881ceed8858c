"""What to call on UP42: the workspace webhook endpoints, the event catalog and the token endpoint.

API root ``https://api.up42.com`` (EU) or ``https://api.sa.up42.com`` (SA); the webhook paths are not
under ``/v2`` (docs and the old SDK agree). Every answer is wrapped as ``{"data": …, "error": …}``.
``PUT`` replaces the whole webhook, so every write sends every declared field (an absent secret is left
out, never sent as null: ``models.WebhookWrite``).

Also the two plain functions for programs and scripts, :func:`get_webhook_events` and
:func:`run_webhook_tests`, which read the same settings as the provider (environment, explicit values).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx

from pulumi_webhooks._core import errors, settings
from pulumi_webhooks._core.deadline import deadline_scope
from pulumi_webhooks._core.http import ApiClient, AttemptBudget, Auth, error_class_for
from pulumi_webhooks._core.listing import RunListing
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks._core.redact import clip, get_logger
from pulumi_webhooks._core.tokens import Token
from pulumi_webhooks.up42 import auth

if TYPE_CHECKING:
    from pulumi_webhooks.up42 import models as wire
    from pulumi_webhooks.up42.models import Up42Webhook, WebhookEvent, WebhookTestResult
else:
    from pulumi_webhooks._core.lazy import LazyModule

    wire = LazyModule("pulumi_webhooks.up42.models")

log = get_logger("pulumi_webhooks.up42")

# UP42 publishes no number, only that it answers 429. A modest pace keeps a large stack clear of it;
# the client still honours 429 + Retry-After when the platform's limit is lower.
RATE = RatePolicy(per_second=10.0, burst=20)


# One listing per workspace per run, shared by look-ups and refresh reads.
_listing: RunListing[Up42Webhook] = RunListing(lambda webhook: webhook.id)


class Up42Client(ApiClient):
    """What the API and the token endpoint share: the platform's name, request ids, wire shapes and
    what to check when the credentials are refused."""

    platform = auth.PLATFORM
    wire_module = wire.__name__
    request_id_headers = auth.REQUEST_ID_HEADERS

    def credentials_hint(self) -> str:
        return auth.credentials_hint()


class Up42Api(Up42Client):
    """The webhook calls of the UP42 API."""

    def __init__(self, base_url: str, authentication: Auth | None, *, paced: bool = True) -> None:
        super().__init__(
            base_url,
            headers={"Accept": "application/json"},
            pace_key=f"up42 {base_url}" if paced else None,
            rate=RATE,
            auth=authentication,
        )

    # -- the wire format ----------------------------------------------------------------------------
    def error_detail(self, response: httpx.Response) -> tuple[str | None, str | None]:
        """``{"data": null, "error": {"code", "message", "details"}}``; also RFC 7807 and OAuth bodies."""
        try:
            body = response.json()
        except ValueError:
            return None, (clip(response.text.strip(), 200) or response.reason_phrase)
        if not isinstance(body, dict):
            return super().error_detail(response)
        error = body.get("error")
        if isinstance(error, dict):
            code, message, details = error.get("code"), error.get("message"), error.get("details")
            text = "; ".join(str(p) for p in (message, details) if p not in (None, "", {}, []))
            shown_code = None if code in (None, "", response.status_code, str(response.status_code)) else code
            shown_text = clip(text, 300) or response.reason_phrase
            return (None if shown_code is None else str(shown_code)), shown_text
        if isinstance(error, str):
            return token_error(response)
        if "title" in body or "detail" in body:  # RFC 7807 problem details
            text = "; ".join(str(body[k]) for k in ("title", "detail") if body.get(k))
            return None, clip(text, 300) or response.reason_phrase
        return super().error_detail(response)

    def check_body(self, operation: str, response: httpx.Response, body: Any, request_id: str | None) -> None:
        """An envelope with an error and no data is a failure even inside a 2xx answer. The platform
        did answer 2xx, so a write may have gone through: unless the error's code says the request was
        refused (credentials, validation, not found, conflict, rate limit), the error says
        ``may_have_committed`` and a create is not sent again before the provider has looked."""
        if not isinstance(body, dict) or body.get("data") is not None:
            return
        error = body.get("error")
        if isinstance(error, dict) and (error.get("message") or error.get("code")):
            code = error.get("code")
            status = code if isinstance(code, int) and 400 <= code <= 599 else None
            cls = error_class_for(status) if status else errors.ServerError
            failure = cls(
                platform=self.platform,
                operation=operation,
                status=response.status_code,
                code=None if code is None else str(code),
                detail=clip(str(error.get("message") or "error in a successful answer"), 300),
                request_id=request_id,
            )
            failure.may_have_committed = not issubclass(cls, errors.REFUSED)
            raise failure

    # -- the calls ----------------------------------------------------------------------------------
    def list_events(self) -> list[WebhookEvent]:
        _, envelope = self.request(
            "get webhook events", "GET", "webhooks/events", model=lambda: wire.EventListEnvelope
        )
        assert envelope is not None
        return envelope.data

    def list_webhooks(self, workspace_id: str) -> list[Up42Webhook]:
        _, envelope = self.request(
            "list webhooks",
            "GET",
            f"workspaces/{workspace_id}/webhooks",
            model=lambda: wire.WebhookListEnvelope,
        )
        assert envelope is not None
        return envelope.data

    def webhooks(self, workspace_id: str) -> list[Up42Webhook]:
        """The workspace's webhooks, from this run's listing (one list request per run and workspace)."""
        return _listing.get(self._key(workspace_id), lambda: self.list_webhooks(workspace_id))

    def find_webhook(self, workspace_id: str, webhook_id: str) -> Up42Webhook | None:
        """One webhook from this run's listing, or None when the workspace does not hold it."""
        return next((w for w in self.webhooks(workspace_id) if w.id == webhook_id), None)

    def create_webhook(self, workspace_id: str, body: dict[str, Any]) -> Up42Webhook:
        with _listing.writing(self._key(workspace_id)):
            _, envelope = self.request(
                "create webhook",
                "POST",
                f"workspaces/{workspace_id}/webhooks",
                json=body,
                model=lambda: wire.WebhookEnvelope,
            )
        assert envelope is not None
        _listing.put(self._key(workspace_id), envelope.data)
        return envelope.data

    def update_webhook(self, workspace_id: str, webhook_id: str, body: dict[str, Any]) -> Up42Webhook:
        with _listing.writing(self._key(workspace_id)):
            _, envelope = self.request(
                "update webhook",
                "PUT",
                f"workspaces/{workspace_id}/webhooks/{webhook_id}",
                json=body,
                model=lambda: wire.WebhookEnvelope,
            )
        assert envelope is not None
        _listing.put(self._key(workspace_id), envelope.data)
        return envelope.data

    def delete_webhook(self, workspace_id: str, webhook_id: str) -> None:
        """Delete (200 or 204, no body). A 404 raises NotFoundError: the provider checks with a new
        listing that it is gone."""
        with _listing.writing(self._key(workspace_id)):
            self.request("delete webhook", "DELETE", f"workspaces/{workspace_id}/webhooks/{webhook_id}")
        _listing.remove(self._key(workspace_id), webhook_id)

    def _key(self, workspace_id: str) -> str:
        return f"{self.base_url} {workspace_id}"

    def run_tests(self, workspace_id: str, webhook_id: str) -> WebhookTestResult:
        """Send UP42's test deliveries for every subscribed event (``runWebhookTests``)."""
        _, envelope = self.request(
            "test webhook",
            "POST",
            f"workspaces/{workspace_id}/webhooks/{webhook_id}/tests",
            model=lambda: wire.TestResultEnvelope,
        )
        assert envelope is not None
        return envelope.data


def webhook_body(inputs: Any) -> dict[str, Any]:
    """The body of a create or update: every field the declaration has, always (PUT replaces the
    webhook, so what is left out takes UP42's default: no secret)."""
    return wire.WebhookWrite(
        events=sorted(set(inputs["events"])),
        name=inputs["name"],
        url=inputs["url"],
        secret=inputs.get("secret") or None,
        active=bool(inputs.get("active", True)),
    ).wire()


class CatalogClient(Up42Api):
    """The event catalog read at preview time: anonymous, one try, no pacing."""

    max_attempts = 1

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url, None, paced=False)


# -- plain functions for programs and scripts --------------------------------------------------------
def get_webhook_events(*, base_url: str | None = None, region: str | None = None) -> list[WebhookEvent]:
    """UP42's webhook event catalog (``GET /webhooks/events``; needs no credentials).

    The API root comes from ``base_url``, else ``UP42_BASE_URL``, else the region (``region``,
    ``UP42_REGION``, default ``eu``)."""
    ends = auth.endpoints(base_url=base_url, region=region)
    with deadline_scope(settings.operation_timeout()):
        return Up42Api(ends.api, None).list_events()


def run_webhook_tests(
    workspace_id: str,
    webhook_id: str,
    *,
    access_token: str | None = None,
    username: str | None = None,
    password: str | None = None,
    base_url: str | None = None,
    auth_url: str | None = None,
    region: str | None = None,
) -> WebhookTestResult:
    """Run UP42's test deliveries for one webhook and return the counts (``result.ok``, ``result.failed``).

    Credentials and endpoints come from the arguments, else the environment (``UP42_ACCESS_TOKEN`` or
    ``UP42_USERNAME``/``UP42_PASSWORD``, ``UP42_BASE_URL``, ``UP42_AUTH_URL``, ``UP42_REGION``): stack
    config is read only inside the provider. ``webhook_id`` may also be the resource id
    ``{workspace_id}/{webhook_id}``."""
    webhook_id = webhook_id.rpartition("/")[2]
    creds = auth.credentials(access_token, username=username, password=password)
    reason = creds.missing()
    if reason:
        raise errors.ConfigurationError(reason)
    ends = auth.endpoints(base_url=base_url, auth_url=auth_url, region=region)
    with deadline_scope(settings.operation_timeout()):
        return Up42Api(ends.api, auth.Up42Auth(creds, ends.token)).run_tests(workspace_id, webhook_id)


# -- the token endpoint (UP42's Keycloak password grant; the renewal policy lives in auth.py) -----------
def _renew_at(issued: float, lifetime: float) -> float:
    """When to stop using a token: RENEW_MARGIN before expiry, or half-way for very short lifetimes."""
    return issued + lifetime - min(auth.RENEW_MARGIN, lifetime / 2)


class TokenClient(Up42Client):
    """The token endpoint. The one layer of retries of a token request (``_core/tokens.py``): each kind
    of failure is tried again once; the API request that needed the token does not repeat it."""

    max_attempts = 3
    retry_each_failure_once = True

    def error_detail(self, response: httpx.Response) -> tuple[str | None, str | None]:
        return token_error(response)

    def error_class(self, status: int) -> type[errors.ApiError]:
        # Keycloak answers 401 invalid_grant for a wrong password and 400 for a bad client or grant.
        return errors.AuthenticationError if status in (400, 401) else super().error_class(status)


def request_token(
    token_url: str, username: str, password: str, *, budget: AttemptBudget | None = None
) -> Token:
    """One password grant (``client_id=up42-api``); ``budget`` bounds the failed ones per process."""
    form = {"grant_type": "password", "client_id": auth.CLIENT_ID, "username": username, "password": password}
    issued = time.time()
    _, answer = TokenClient(token_url, headers={"Accept": "application/json"}, budget=budget).request(
        auth.TOKEN_OPERATION, "POST", "", data=form, model=lambda: wire.TokenAnswer, idempotent=True
    )
    assert answer is not None
    log.debug("UP42: new access token, valid for %.0f s", answer.expires_in)
    return Token(answer.access_token, expires_at=_renew_at(issued, answer.expires_in))


def token_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """The OAuth error code and description (``{"error": "invalid_grant", "error_description": …}``)."""
    try:
        body = response.json()
    except ValueError:
        return None, response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        return body["error"], description if isinstance(description, str) else None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):  # the API's own envelope
        inner = body["error"]
        return _str_or_none(inner.get("code")), _str_or_none(inner.get("message"))
    return None, response.reason_phrase


def _str_or_none(value: object) -> str | None:
    return None if value is None or value == "" else clip(str(value), 200)
