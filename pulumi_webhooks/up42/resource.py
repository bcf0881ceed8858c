"""``pulumi_webhooks.up42.Webhook``: one UP42 webhook in a Pulumi program."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import pulumi
import pulumi.dynamic

from pulumi_webhooks._core.resource import dynamic_resource_inputs, existing_resource, masked_repr
from pulumi_webhooks.up42.provider import Up42WebhookProvider

_COMPUTED = ("webhook_id", "created_at", "updated_at")
_SECRETS = ("secret", "access_token")


@masked_repr(*_SECRETS)
@dataclass(frozen=True, kw_only=True)
class WebhookArgs:
    """Inputs of :class:`Webhook`.

    :param workspace_id: the UP42 workspace id (a UUID). Changing it replaces the webhook.
    :param url: the https:// receiver on a public host. Updated in place.
    :param events: the events to deliver, e.g. ``["job.status", "order.status"]`` (checked against UP42's
        catalog; order and duplicates do not matter). Updated in place.
    :param name: the display name; defaults to the resource name. Updated in place.
    :param secret: the signing secret UP42 uses for the ``Signature`` header (secret; without one,
        deliveries are unsigned). Updated in place; a secret changed on the platform is put back.
    :param active: whether UP42 delivers to the webhook. Default ``True``, a deliberate difference from
        UP42's own default (``false``): a declared webhook is meant to deliver. Always sent.
    :param access_token: a UP42 access token (secret; they live 5 minutes). Defaults to stack config
        ``up42:accessToken`` / ``UP42_ACCESS_TOKEN``; usually ``up42:username``/``up42:password`` are set instead.
    :param verify: after a create or update, run UP42's test deliveries and fail the step when any fails
        (a create that fails verification deletes the webhook again).
    :param adopt: what to do with an existing webhook with the same url that this deployment did not
        create. Unset: take an identical one over (with a warning), refuse a different one. ``True``: also
        take a different one over and update it. ``False``: refuse any (strict mode).
    """

    workspace_id: pulumi.Input[str]
    url: pulumi.Input[str]
    events: pulumi.Input[Sequence[pulumi.Input[str]]]
    name: pulumi.Input[str] | None = None
    secret: pulumi.Input[str] | None = None
    active: pulumi.Input[bool] | None = None
    access_token: pulumi.Input[str] | None = None
    verify: pulumi.Input[bool] | None = None
    adopt: pulumi.Input[bool] | None = None


class Webhook(pulumi.dynamic.Resource, module="up42", name="Webhook"):
    """A UP42 webhook (``POST /workspaces/{workspace_id}/webhooks``).

    Id ``{workspace_id}/{webhook_id}``. ``url``, ``events``, ``name``, ``secret`` and ``active`` are updated
    in place; ``workspace_id`` replaces the webhook. An identical webhook with the same url that already
    exists is taken over rather than duplicated. ``secret`` is always stored as a secret.

    Example::

        import pulumi
        import pulumi_webhooks.up42 as up42

        jobs = up42.Webhook(
            "job-status",
            workspace_id="0cb1eaa0-89a3-11ec-a8a3-0242ac120002",
            url="https://hooks.example.com/up42/jobs",
            events=["job.status", "order.status"],
            secret=pulumi.Config().require_secret("up42WebhookSecret"),
            verify=True,
        )
        pulumi.export("webhook_id", jobs.webhook_id)
    """

    workspace_id: pulumi.Output[str]
    url: pulumi.Output[str]
    events: pulumi.Output[list[str]]
    name: pulumi.Output[str]
    secret: pulumi.Output[str | None]
    active: pulumi.Output[bool]
    access_token: pulumi.Output[str | None]
    verify: pulumi.Output[bool]
    adopt: pulumi.Output[bool]
    webhook_id: pulumi.Output[str]
    created_at: pulumi.Output[str | None]
    updated_at: pulumi.Output[str | None]

    @overload
    def __init__(
        self, resource_name: str, args: WebhookArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None: ...

    @overload
    def __init__(
        self,
        resource_name: str,
        opts: pulumi.ResourceOptions | None = None,
        *,
        workspace_id: pulumi.Input[str],
        url: pulumi.Input[str],
        events: pulumi.Input[Sequence[pulumi.Input[str]]],
        name: pulumi.Input[str] | None = None,
        secret: pulumi.Input[str] | None = None,
        active: pulumi.Input[bool] | None = None,
        access_token: pulumi.Input[str] | None = None,
        verify: pulumi.Input[bool] | None = None,
        adopt: pulumi.Input[bool] | None = None,
    ) -> None: ...

    def __init__(self, resource_name: str, *args: Any, **kwargs: Any) -> None:
        props, opts = dynamic_resource_inputs(
            resource_name,
            args,
            kwargs,
            WebhookArgs,
            secret_inputs=_SECRETS,
            computed=_COMPUTED,
            defaults={"name": resource_name},
        )
        super().__init__(Up42WebhookProvider(), resource_name, props, opts)

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> Webhook:
        """The existing UP42 webhook with this id (``{workspace_id}/{webhook_id}``),
        read through the same provider. The program does not manage it: ``pulumi refresh`` reads it
        again, ``pulumi destroy`` leaves it alone."""
        return existing_resource(Webhook, Up42WebhookProvider(), resource_name, id, opts)
