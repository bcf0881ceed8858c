"""Property values between the engine's wire form and the shared lifecycle's plain dicts.

The engine speaks camelCase ``PropertyValue`` maps (secrets and unknowns marked on each value); the
``WebhookProvider`` lifecycle speaks snake_case plain values, with the dynamic host's unknown sentinel
(:data:`UNKNOWN`). Everything crosses here, in both directions, and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue

from pulumi_webhooks._core.provider import UNKNOWN, is_unknown
from pulumi_webhooks._core.redact import register_secret

_UPPER = re.compile(r"[A-Z]")


def camel(name: str) -> str:
    """``api_version`` -> ``apiVersion`` (the schema's property names)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """``apiVersion`` -> ``api_version`` (the lifecycle's input names)."""
    return _UPPER.sub(lambda m: "_" + m[0].lower(), name)


def plain(value: PropertyValue) -> Any:
    """The plain Python value: secrets unwrapped (and registered for redaction), unknowns as the
    sentinel the lifecycle skips, numbers that are whole as ints."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if value.is_secret and isinstance(inner, str):
        register_secret(inner)
    if isinstance(inner, Mapping):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, (list, tuple)):
        return [plain(v) for v in inner]
    if isinstance(inner, float) and inner.is_integer():
        return int(inner)
    return inner


def wire(value: Any, *, secret: bool = False) -> PropertyValue:
    """A plain value as a ``PropertyValue``. An unknown stays the engine's sentinel string: that is
    what the engine sends and reads, and the SDK cannot marshal its own ``Computed`` (pulumi 3.272)."""
    if is_unknown(value) and not isinstance(value, list):
        unknown = PropertyValue(UNKNOWN)
        return unknown.with_secret(True) if secret else unknown
    if isinstance(value, Mapping):
        converted: PropertyValue = PropertyValue({k: wire(v) for k, v in value.items()})
    elif isinstance(value, (list, tuple)):
        converted = PropertyValue([wire(v) for v in value])
    elif isinstance(value, int) and not isinstance(value, bool):
        converted = PropertyValue(float(value))
    else:
        converted = PropertyValue(value)
    return converted.with_secret(True) if secret else converted


def from_engine(props: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """camelCase wire properties -> snake_case plain inputs."""
    return {snake(key): plain(value) for key, value in props.items()}


def secret_keys(props: Mapping[str, PropertyValue]) -> frozenset[str]:
    """The snake_case names of the properties the engine sent as (or containing) secrets."""
    return frozenset(snake(key) for key, value in props.items() if value.contains_secret())


def to_engine(values: Mapping[str, Any], secrets: Collection[str]) -> dict[str, PropertyValue]:
    """snake_case plain values -> camelCase wire properties, ``secrets`` (snake_case) marked secret.
    None values are left out, as the lifecycle leaves them out of its outputs."""
    return {
        camel(key): wire(value, secret=key in secrets) for key, value in values.items() if value is not None
    }
