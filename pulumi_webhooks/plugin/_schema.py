"""The package schema of the ``webhooks`` plugin, generated from what the dynamic resources declare.

Types, required inputs, secrets, replace-on-change and defaults come from each platform's
``InputField`` definitions (``<platform>/provider.py``); property descriptions from the ``:param:``
lines of the resource's ``XArgs`` docstring and the resource's own docstring; provider configuration
from every declared :class:`~pulumi_webhooks._core.settings.Setting`. Nothing is written twice: a new
input or setting appears in the schema by being declared where the dynamic resources get it.
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Any

from pulumi.provider.experimental.analyzer import PropertyType
from pulumi.provider.experimental.schema import PackageSpec, Property, Resource

import pulumi_webhooks
from pulumi_webhooks._core import settings
from pulumi_webhooks._core.provider import InputField, WebhookProvider
from pulumi_webhooks.cjdropshipping.provider import CjWebhookSettingsProvider
from pulumi_webhooks.plugin._convert import camel
from pulumi_webhooks.shoplazza.provider import ShoplazzaWebhookProvider
from pulumi_webhooks.shopline.provider import ShoplineWebhookProvider
from pulumi_webhooks.up42.provider import Up42WebhookProvider

PACKAGE = "webhooks"
VERSION = pulumi_webhooks.__version__
# The dynamic resources' settings without a platform (operation and request timeouts) live under this
# namespace; in the plugin they are plain `webhooks:operationTimeout`, `webhooks:requestTimeout`.
GENERAL_NAMESPACE = "pulumi-webhooks"


@dataclass(frozen=True)
class ResourceKind:
    """One resource the plugin serves: its type token, the lifecycle, and where its docs live."""

    token: str
    provider: type[WebhookProvider[Any, Any]]
    module: str  # the dynamic resource's module: its XArgs and X docstrings describe the properties
    class_name: str

    @property
    def fields(self) -> tuple[InputField, ...]:
        return self.provider.fields


RESOURCES: tuple[ResourceKind, ...] = (
    ResourceKind(
        "webhooks:shopline:Webhook", ShoplineWebhookProvider, "pulumi_webhooks.shopline.resource", "Webhook"
    ),
    ResourceKind(
        "webhooks:shoplazza:Webhook",
        ShoplazzaWebhookProvider,
        "pulumi_webhooks.shoplazza.resource",
        "Webhook",
    ),
    ResourceKind("webhooks:up42:Webhook", Up42WebhookProvider, "pulumi_webhooks.up42.resource", "Webhook"),
    ResourceKind(
        "webhooks:cjdropshipping:WebhookSettings",
        CjWebhookSettingsProvider,
        "pulumi_webhooks.cjdropshipping.resource",
        "WebhookSettings",
    ),
)

COMPUTED_DESCRIPTIONS = {
    "webhook_id": "The platform's id of the subscription.",
    "created_at": "When the platform created the subscription, as it reports it.",
    "updated_at": "When the platform last changed the subscription, as it reports it.",
    "open_id": "The account's openId, the key CJdropshipping signs deliveries with (secret).",
}

_KINDS = {str: PropertyType.STRING, bool: PropertyType.BOOLEAN, list: PropertyType.ARRAY}
_PARAM = re.compile(r":param (\w+):\s*(.*)")


# -- provider configuration ---------------------------------------------------------------------------
def config_name(setting: settings.Setting) -> str:
    """The plugin's config key of a setting: ``shopline:accessToken`` -> ``shoplineAccessToken`` (set
    as ``webhooks:shoplineAccessToken``); ``pulumi-webhooks:operationTimeout`` -> ``operationTimeout``."""
    namespace, _, name = setting.config_key.partition(":")
    if namespace == GENERAL_NAMESPACE:
        return name
    return namespace + name[:1].upper() + name[1:]


def describe_setting(setting: settings.Setting) -> str:
    """How the plugin's messages name a setting (see ``Setting.names``)."""
    return f"provider config `{PACKAGE}:{config_name(setting)}`"


def config_settings() -> dict[str, settings.Setting]:
    """Plugin config key -> setting, for every declared setting."""
    return {config_name(s): s for s in settings.declared()}


def _setting_spec(setting: settings.Setting) -> dict[str, Any]:
    default = f"; otherwise `{setting.default}`" if setting.default is not None else ""
    spec: dict[str, Any] = {
        "type": "string",
        "description": (
            f"The dynamic resources' stack config `{setting.config_key}`. When unset: the environment "
            f"variable `{setting.env_var}`{default}."
        ),
    }
    if setting.secret:
        spec["secret"] = True
    return spec


# -- resources ----------------------------------------------------------------------------------------
def _markdown(text: str) -> str:
    """A docstring's text for the schema: its reStructuredText markup as Markdown, and the stack config
    keys it names as the plugin's own config keys."""
    text = re.sub(r":\w+:`([^`]+)`", r"`\1`", text).replace("``", "`")
    for name, setting in config_settings().items():
        text = text.replace(f"`{setting.config_key}`", f"`{PACKAGE}:{name}`")
    text = text.replace("stack config", "provider config")
    return text[:1].upper() + text[1:]


def param_docs(docstring: str | None) -> dict[str, str]:
    """``:param name: text`` entries (with their indented continuation lines) of a docstring."""
    docs: dict[str, str] = {}
    current: str | None = None
    for line in inspect.cleandoc(docstring or "").splitlines():
        match = _PARAM.match(line)
        if match:
            current = match[1]
            docs[current] = match[2].strip()
        elif current is not None and line.startswith(" ") and line.strip():
            docs[current] += " " + line.strip()
        else:
            current = None
    return {name: _markdown(text) for name, text in docs.items()}


def _summary(docstring: str | None) -> str:
    """A resource docstring without its Python example."""
    text = inspect.cleandoc(docstring or "").split("Example::", 1)[0].strip()
    return _markdown(text)


def _property(kind: type, description: str | None, *, replaces: bool = False) -> Property:
    items = None
    if kind is list:
        items = Property(PropertyType.STRING, None, None, None, None, None)
    return Property(
        type=_KINDS[kind],
        will_replace_on_changes=replaces or None,
        items=items,
        additional_properties=None,
        ref=None,
        plain=None,
        description=description,
    )


def _resource(kind: ResourceKind) -> tuple[Resource, dict[str, dict[str, Any]]]:
    """The SDK's resource spec, plus the property keys its types have no field for (secret, default)."""
    module = importlib.import_module(kind.module)
    resource_class = getattr(module, kind.class_name)
    docs = param_docs(getattr(module, f"{kind.class_name}Args").__doc__)
    inputs: dict[str, Property] = {}
    extras: dict[str, dict[str, Any]] = {}
    for field in kind.fields:
        name = camel(field.name)
        inputs[name] = _property(field.kind, docs.get(field.name), replaces=field.replaces)
        extra: dict[str, Any] = {}
        if field.secret:
            extra["secret"] = True
        if field.default is not None and not callable(field.default):
            extra["default"] = field.default
        extras[name] = extra
    outputs = dict(inputs)
    for output in kind.provider.computed_outputs:
        outputs[camel(output)] = _property(str, COMPUTED_DESCRIPTIONS[output])
        extras[camel(output)] = {"secret": True} if output in kind.provider.secret_outputs else {}
    required_inputs = [
        camel(f.name) for f in kind.fields if f.required and f.name not in kind.provider.named_after_resource
    ]
    required_outputs = [camel(f.name) for f in kind.fields if f.required] + [
        camel(c) for c in kind.provider.computed_outputs if c == "webhook_id"
    ]
    resource = Resource(
        type=PropertyType.OBJECT,
        properties=outputs,
        required=required_outputs,
        is_component=False,
        input_properties=inputs,
        required_inputs=required_inputs,
        description=_summary(resource_class.__doc__),
    )
    return resource, extras


def package_schema() -> dict[str, Any]:
    """The package schema (a JSON-ready dict), valid against Pulumi's package meta-schema."""
    resources: dict[str, Resource] = {}
    extras: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in RESOURCES:
        resources[kind.token], extras[kind.token] = _resource(kind)
    spec = PackageSpec(
        name=PACKAGE,
        version=VERSION,
        displayName="Webhooks",
        namespace=None,
        resources=resources,
        types={},
        language={},
        dependencies=None,
    ).to_json()
    for token, by_property in extras.items():
        for section in ("inputProperties", "properties"):
            for name, property_spec in spec["resources"][token][section].items():
                property_spec.update(by_property.get(name, {}))
    variables = {name: _setting_spec(setting) for name, setting in sorted(config_settings().items())}
    spec["description"] = (
        "Webhook subscriptions on SHOPLINE, Shoplazza, UP42 and CJdropshipping: the pulumi-webhooks "
        "resources for every Pulumi language."
    )
    spec["keywords"] = ["webhooks", "shopline", "shoplazza", "up42", "cjdropshipping", "category/utility"]
    spec["license"] = "Apache-2.0"
    spec["config"] = {"variables": variables}
    spec["provider"] = {
        "description": "The webhooks provider: the credentials and settings of the four platforms. Declare "
        "one per store or account to manage several from one program.",
        "type": "object",
        "inputProperties": variables,
        "properties": {},
    }
    return spec
