"""The UP42 webhook provider: schema, configure, create, read, update, delete.

Id ``{workspace_id}/{webhook_id}``. ``url``, ``events``, ``name``, ``secret`` and ``active`` update in place
with a full-body ``PUT``; ``workspace_id`` replaces. The natural key is ``url`` within the workspace (the
older UP42 guide asks for a unique URL). ``verify=True`` runs UP42's test deliveries after a create or an
update and fails the step with the counts when any test fails; a create that fails verification deletes
the webhook it made, because a failed create must leave nothing behind.

The module path and class name are written into every stack's state: never rename or move them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import CreateResult

from pulumi_webhooks._core import errors, settings
from pulumi_webhooks._core.catalog import unknown_name_reason
from pulumi_webhooks._core.errors import with_note
from pulumi_webhooks._core.provider import (
    ADOPT,
    Credential,
    InputField,
    WebhookProvider,
    is_unknown,
    operation,
    was_taken_over,
)
from pulumi_webhooks._core.redact import excerpt
from pulumi_webhooks._core.urls import callback_url_problem
from pulumi_webhooks.up42 import auth
from pulumi_webhooks.up42.topics import EVENTS, event_catalog

if TYPE_CHECKING:  # the API client (httpx, pydantic) loads at the first call: a program never needs it
    from pulumi_webhooks.up42.api import Up42Api
    from pulumi_webhooks.up42.models import Up42Webhook

# -- schema ------------------------------------------------------------------------------------------
# UP42 publishes no limits; these are ours, generous enough for any real receiver and display name.
MAX_URL_LENGTH = 2048
MAX_NAME_LENGTH = 255
# UP42 documents no rule for the signing secret; its own example has 16 characters. A shorter one is a
# weak HMAC key, and a secret too short to be told from ordinary words cannot be kept out of logs.
MIN_SECRET_LENGTH = 16


def workspace_problem(workspace_id: str) -> str | None:
    try:
        parsed = uuid.UUID(workspace_id)
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != workspace_id.lower():
        return (
            "must be the workspace id, a UUID like 0cb1eaa0-89a3-11ec-a8a3-0242ac120002 "
            f"(UP42 console: My profile > Workspace ID), got {excerpt(workspace_id)}"
        )
    return None


def url_problem(url: str) -> str | None:
    return callback_url_problem(url, max_length=MAX_URL_LENGTH)


def events_problem(events: list[str]) -> str | None:
    if not events:
        return f"must name at least one event (for example {', '.join(sorted(EVENTS))})"
    for event in events:
        if "," in event or event != event.strip() or " " in event:
            parts = ", ".join(excerpt(e.strip()) for e in event.split(",")[:5] if e.strip())
            return f"each event is one list element: write [{parts}], not [{excerpt(event)}]"
    return None


def signing_secret_problem(secret: str) -> str | None:
    problem = settings.credential_text_problem(secret)
    if problem is None and len(secret) < MIN_SECRET_LENGTH:
        problem = f"must be at least {MIN_SECRET_LENGTH} characters (got {len(secret)})"
    return problem


def name_problem(name: str) -> str | None:
    if not name.strip():
        return "must not be blank"
    if len(name) > MAX_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters (got {len(name)})"
    return None


FIELDS = (
    InputField("workspace_id", required=True, replaces=True, rule=workspace_problem),
    InputField("url", required=True, rule=url_problem),
    InputField("events", list, required=True, as_set=True, rule=events_problem),
    InputField("name", required=True, rule=name_problem),
    InputField("secret", secret=True, rule=signing_secret_problem),
    InputField("active", bool, default=True),
    InputField("access_token", secret=True, state_only=True),
    InputField("verify", bool, state_only=True, default=False),
    ADOPT,
)


def _split_id(id_: str) -> tuple[str, str]:
    workspace_id, sep, webhook_id = id_.partition("/")
    if not sep or not workspace_id or not webhook_id or "/" in webhook_id:
        raise errors.InputValidationError(
            "id", f"must look like {{workspace_id}}/{{webhook_id}}, got {id_!r}"
        )
    return workspace_id, webhook_id


def _secret(value: Any) -> str | None:
    """UP42 spells "no secret" as ``""``; we spell it as absent."""
    return value or None


class Up42WebhookProvider(WebhookProvider["Up42Api", "Up42Webhook"]):
    """Manages one UP42 webhook."""

    platform = "UP42"
    fields = FIELDS
    natural_key = "url"
    named_after_resource = ("name",)
    credential_settings = (
        Credential("access_token", auth.ACCESS_TOKEN, settings.header_credential_problem),
        Credential("", auth.USERNAME),
        Credential("", auth.PASSWORD),
    )

    # -- configure / check --------------------------------------------------------------------------
    def check_settings(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = [("", problem) for problem in auth.endpoint_problems()]
        events = inputs.get("events")
        well_formed = isinstance(events, list) and all(isinstance(e, str) for e in events)
        if well_formed and events and not is_unknown(events) and events_problem(events) is None:
            catalog = event_catalog(auth.endpoints().api) if not failures else None
            names, where = (catalog.names, catalog.where) if catalog else (EVENTS, "UP42")
            unknown = [e for e in events if e not in names]
            if unknown:
                reasons = [unknown_name_reason(e, names, what="event", where=where) for e in unknown]
                failures.append(("events", "; ".join(reasons)))
        token = inputs.get("access_token")
        if not is_unknown(token):
            missing = auth.credentials(token).missing()
            if missing:
                failures.append(("access_token", missing))
        return failures

    def connect(self, inputs: Mapping[str, Any], *, resource_id: str | None = None) -> Up42Api:
        from pulumi_webhooks.up42.api import Up42Api

        creds = auth.credentials(inputs.get("access_token"))
        missing = creds.missing()
        if missing:
            raise errors.ConfigurationError(missing)
        ends = auth.endpoints()
        return Up42Api(ends.api, auth.Up42Auth(creds, ends.token))

    def inputs_from_id(self, id_: str) -> dict[str, Any]:
        return {"workspace_id": _split_id(id_)[0]}

    def replacement_collides(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        # A workspace holds one webhook per url (a second is refused with 409): a replacement in the same
        # workspace with the same url (`pulumi up --replace`, replaceOnChanges) must delete the old first.
        return all(olds.get(k) == news.get(k) for k in ("workspace_id", "url"))

    # -- diff ---------------------------------------------------------------------------------------
    def _normal(self, field: InputField, value: Any) -> Any:
        if field.name == "secret":  # "" and absent both mean "no secret"
            return _secret(value)
        return super()._normal(field, value)

    # -- create -------------------------------------------------------------------------------------
    @operation("create")
    def create(self, props: dict[str, Any]) -> CreateResult:
        # The base flow (look, adopt, create once), then the optional verification, which must undo a
        # webhook this operation created: a create that raises may leave nothing behind.
        inputs = self._inputs(props)
        api = self.connect(inputs)
        remote = self._create_once(api, inputs)
        resource_id = self.resource_id(inputs, remote)
        if inputs.get("verify"):
            # Only a webhook this create wrote is its own to delete again: one it took over is not.
            created = not was_taken_over(self.owner_key(resource_id, inputs))
            self._verify(api, inputs["workspace_id"], remote, created=created)
        return CreateResult(resource_id, self._outputs(inputs, remote))

    def resource_id(self, inputs: Mapping[str, Any], remote: Up42Webhook) -> str:
        return f"{inputs['workspace_id']}/{remote.id}"

    def find_existing(self, api: Up42Api, inputs: Mapping[str, Any]) -> Up42Webhook | None:
        same_url = [w for w in api.webhooks(inputs["workspace_id"]) if w.url == inputs["url"]]
        identical = [w for w in same_url if self.same_as_declared(w, inputs)]
        candidates = identical or same_url
        return candidates[0] if candidates else None

    def same_as_declared(self, remote: Up42Webhook, inputs: Mapping[str, Any]) -> bool:
        from pulumi_webhooks.up42.api import webhook_body

        return webhook_body(self.remote_outputs(remote)) == webhook_body(inputs)

    def describe(self, remote: Up42Webhook) -> str:
        state = "active" if remote.active else "inactive"
        return f"id {remote.id}, name {remote.name!r}, events {', '.join(sorted(remote.events))}, {state}"

    def adopt(self, api: Up42Api, existing: Up42Webhook, inputs: Mapping[str, Any]) -> Up42Webhook:
        from pulumi_webhooks.up42.api import webhook_body

        return api.update_webhook(inputs["workspace_id"], existing.id, webhook_body(inputs))

    def api_create(self, api: Up42Api, inputs: Mapping[str, Any]) -> Up42Webhook:
        from pulumi_webhooks.up42.api import webhook_body

        return api.create_webhook(inputs["workspace_id"], webhook_body(inputs))

    # -- verify -------------------------------------------------------------------------------------
    def _verify(self, api: Up42Api, workspace_id: str, remote: Up42Webhook, *, created: bool) -> None:
        """Run UP42's test deliveries; raise with the counts when any fails. ``created``: this operation
        made the webhook, so it is deleted again before raising (a failed create leaves nothing)."""
        try:
            result = api.run_tests(workspace_id, remote.id)
            if result.ok:
                return
            inactive = "" if remote.active else "; the webhook is inactive (active=False)"
            failure: errors.WebhookError = errors.ApiValidationError(
                platform=self.platform,
                operation="verify webhook",
                detail=f"{result.failed} of {result.tests_run} test deliveries failed ({result.summary()}){inactive}",
                hint="Check that the receiver at `url` is reachable from UP42 and answers 2xx quickly, and that "
                "the webhook is active; or set verify=False",
            )
        except errors.WebhookError as exc:
            if not created:
                raise
            failure = exc
        if created:
            failure = self._undo_create(api, workspace_id, remote, failure)
        raise failure

    def _undo_create(
        self, api: Up42Api, workspace_id: str, remote: Up42Webhook, failure: errors.WebhookError
    ) -> errors.WebhookError:
        try:
            api.delete_webhook(workspace_id, remote.id)
        except errors.WebhookError as exc:
            note = (
                f"the webhook {remote.id} could not be deleted again ({exc.message}); the next `pulumi up` "
                "finds it by its url and takes it over (with adopt=False it refuses: delete it first)"
            )
        else:
            note = f"the webhook {remote.id} created by this step was deleted again"
        return with_note(failure, note)

    # -- read / update / delete ---------------------------------------------------------------------
    def api_read(self, api: Up42Api, id_: str, inputs: Mapping[str, Any]) -> Up42Webhook | None:
        return api.find_webhook(*_split_id(id_))

    def api_update(
        self, api: Up42Api, id_: str, olds: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> Up42Webhook:
        from pulumi_webhooks.up42.api import webhook_body

        workspace_id, webhook_id = _split_id(id_)
        remote = api.update_webhook(workspace_id, webhook_id, webhook_body(inputs))
        if inputs.get("verify"):
            # The update has happened; on failure the step fails and the stored state stays the old
            # one, so the next `up` sends the update again and verifies again.
            self._verify(api, workspace_id, remote, created=False)
        return remote

    def api_delete(self, api: Up42Api, id_: str, inputs: Mapping[str, Any]) -> None:
        api.delete_webhook(*_split_id(id_))

    def remote_outputs(self, remote: Up42Webhook) -> dict[str, Any]:
        return {
            "url": remote.url,
            "name": remote.name,
            "events": sorted(set(remote.events)),
            "active": remote.active,
            "secret": _secret(remote.secret),
            "webhook_id": remote.id,
            "created_at": remote.created_at,
            "updated_at": remote.updated_at,
        }
