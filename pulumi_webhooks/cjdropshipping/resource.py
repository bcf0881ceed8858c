"""``pulumi_webhooks.cjdropshipping.WebhookSettings``: a CJ account's webhook settings in a Pulumi program."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, overload

import pulumi
import pulumi.dynamic

from pulumi_webhooks._core.resource import dynamic_resource_inputs, existing_resource, masked_repr
from pulumi_webhooks.cjdropshipping.provider import CjWebhookSettingsProvider

_COMPUTED = ("open_id",)
_SECRETS = ("api_key", "access_token")
# The openId is the key CJ signs deliveries with: secret although no input of that name is.


@masked_repr(*_SECRETS)
@dataclass(frozen=True, kw_only=True)
class WebhookSettingsArgs:
    """Inputs of :class:`WebhookSettings`. Every one is optional.

    :param product_url: the https:// callback URL for PRODUCT (and VARIANT) messages; None cancels the group.
    :param stock_url: the callback URL for STOCK messages; None cancels the group.
    :param order_url: the callback URL for ORDER messages; None cancels the group.
    :param logistics_url: the callback URL for LOGISTIC messages; None cancels the group.
    :param makeup_url: the callback URL for MAKEUP messages (the optional ``makeup`` group). Never set:
        the group is not sent and stays as the account has it; removed after being set: cancelled.
    :param private_order_url: the callback URL for PRIVATE_ORDER messages (the optional
        ``privateOrder`` group); never set or removed, as for ``makeup_url``.
        Each URL: https:// on a public host, at most 200 characters, one per group; it must answer
        HTTP 200 when CJ probes it at set time. Updated in place.
    :param api_key: the CJ API key (secret); defaults to stack config ``cjdropshipping:apiKey`` or
        ``CJ_API_KEY``. Access tokens are fetched with it and cached.
    :param access_token: an access token to use as is (secret), instead of an API key; defaults to
        ``cjdropshipping:accessToken`` or ``CJ_ACCESS_TOKEN``.
    :param adopt: what to do when the account's settings already switch groups on (someone else's).
        Unset: take them over with a warning, and refuse when a group would get another URL. ``True``:
        take them over anyway. ``False``: refuse any (strict mode).
    """

    product_url: pulumi.Input[str] | None = None
    stock_url: pulumi.Input[str] | None = None
    order_url: pulumi.Input[str] | None = None
    logistics_url: pulumi.Input[str] | None = None
    makeup_url: pulumi.Input[str] | None = None
    private_order_url: pulumi.Input[str] | None = None
    api_key: pulumi.Input[str] | None = None
    access_token: pulumi.Input[str] | None = None
    adopt: pulumi.Input[bool] | None = None


class WebhookSettings(pulumi.dynamic.Resource, module="cjdropshipping", name="WebhookSettings"):
    """The webhook settings of one CJdropshipping account (``POST /api2.0/v1/webhook/set``).

    One per account: id ``cjdropshipping-webhook-settings``. Every URL is updated in place; a required
    group (product, stock, order, logistics) without a URL is cancelled, an optional one (makeup,
    privateOrder) is left alone unless it was set; destroying the resource cancels the required groups
    and the optional ones it set. ``open_id`` (secret) is
    the key CJ signs deliveries with (``sign`` header: base64 HMAC-SHA256 of the raw body).

    Example::

        import pulumi
        import pulumi_webhooks.cjdropshipping as cj

        account = cj.WebhookSettings(
            "cj-webhooks",
            order_url="https://hooks.example.com/cj/orders",
            logistics_url="https://hooks.example.com/cj/logistics",
        )  # product and stock have no URL, so they are switched off (CANCEL)
        pulumi.export("cj_signing_key", account.open_id)  # secret: CJ signs deliveries with it
    """

    product_url: pulumi.Output[str | None]
    stock_url: pulumi.Output[str | None]
    order_url: pulumi.Output[str | None]
    logistics_url: pulumi.Output[str | None]
    makeup_url: pulumi.Output[str | None]
    private_order_url: pulumi.Output[str | None]
    api_key: pulumi.Output[str | None]
    access_token: pulumi.Output[str | None]
    adopt: pulumi.Output[bool]
    open_id: pulumi.Output[str]

    @overload
    def __init__(
        self, resource_name: str, args: WebhookSettingsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None: ...

    @overload
    def __init__(
        self,
        resource_name: str,
        opts: pulumi.ResourceOptions | None = None,
        *,
        product_url: pulumi.Input[str] | None = None,
        stock_url: pulumi.Input[str] | None = None,
        order_url: pulumi.Input[str] | None = None,
        logistics_url: pulumi.Input[str] | None = None,
        makeup_url: pulumi.Input[str] | None = None,
        private_order_url: pulumi.Input[str] | None = None,
        api_key: pulumi.Input[str] | None = None,
        access_token: pulumi.Input[str] | None = None,
        adopt: pulumi.Input[bool] | None = None,
    ) -> None: ...

    def __init__(self, resource_name: str, *args: Any, **kwargs: Any) -> None:
        props, opts = dynamic_resource_inputs(
            resource_name,
            args,
            kwargs,
            WebhookSettingsArgs,
            secret_inputs=_SECRETS,
            computed=_COMPUTED,
            secret_outputs=("open_id",),
        )
        super().__init__(CjWebhookSettingsProvider(), resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> WebhookSettings:
        """The account's webhook settings with this id (``cjdropshipping-webhook-settings``),
        read through the same provider. The program does not manage it: ``pulumi refresh`` reads it
        again, ``pulumi destroy`` leaves it alone."""
        return existing_resource(WebhookSettings, CjWebhookSettingsProvider(), resource_name, id, opts)
