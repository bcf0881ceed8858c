"""The program side shared by every resource: both constructor forms, and secrets kept secret."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import pulumi
import pulumi.dynamic

if TYPE_CHECKING:
    from pulumi_webhooks._core.provider import WebhookProvider

ArgsType = TypeVar("ArgsType", bound=type)
HIDDEN = "<secret>"  # what a repr shows for a set secret field


def masked_repr(*secret_fields: str) -> Callable[[ArgsType], ArgsType]:
    """A class decorator for an ``XArgs`` dataclass: its ``repr`` shows ``<secret>`` for every set
    secret field (a token in an ``XArgs`` printed by a program or a debugger stays hidden). Put it
    above ``@dataclass``, which would otherwise write its own ``repr`` over this one."""

    def decorate(cls: ArgsType) -> ArgsType:
        unknown = set(secret_fields) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"{cls.__name__} has no fields {sorted(unknown)}")

        def __repr__(self: Any) -> str:
            shown = []
            for f in dataclasses.fields(self):
                value = getattr(self, f.name)
                hidden = f.name in secret_fields and value is not None
                shown.append(f"{f.name}={HIDDEN if hidden else repr(value)}")
            return f"{type(self).__qualname__}({', '.join(shown)})"

        cls.__repr__ = __repr__  # type: ignore[assignment]
        return cls

    return decorate


def resource_props(
    resource_name: str,
    args_type: type[Any],
    args: Any,
    kwargs: Mapping[str, Any],
    *,
    secret_inputs: Iterable[str],
    computed: Iterable[str],
    defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The property bag for ``pulumi.dynamic.Resource``: the ``XArgs`` object *or* keyword inputs,
    ``defaults`` for inputs left out, secret inputs wrapped in ``pulumi.Output.secret`` (a plain string
    given for a token must not land in state in clear), and the computed outputs declared as ``None``
    so their attributes exist."""
    if args is not None and not isinstance(args, args_type):
        raise TypeError(f"{resource_name}: expected {args_type.__name__} as the second argument")
    if args is not None and kwargs:
        raise TypeError(f"{resource_name}: pass either {args_type.__name__} or keyword inputs, not both")
    if args is None:
        args = args_type(**kwargs)
    # Field by field, not dataclasses.asdict: that deep-copies values, and an Output cannot be copied.
    props: dict[str, Any] = {f.name: getattr(args, f.name) for f in dataclasses.fields(args)}
    for name, value in (defaults or {}).items():
        if props.get(name) is None:
            props[name] = value
    for name, value in props.items():
        if isinstance(value, tuple):
            props[name] = list(value)
    for name in secret_inputs:
        if props.get(name) is not None:
            props[name] = pulumi.Output.secret(props[name])
    for name in computed:
        props.setdefault(name, None)
    return props


def secret_options(
    opts: pulumi.ResourceOptions | None, secret_outputs: Iterable[str]
) -> pulumi.ResourceOptions:
    """``opts`` with ``additional_secret_outputs`` merged in (the pulumi-random pattern)."""
    extra = pulumi.ResourceOptions(additional_secret_outputs=list(secret_outputs))
    return pulumi.ResourceOptions.merge(opts, extra)


def split_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, pulumi.ResourceOptions | None]:
    """Sort the positional arguments of both constructor forms into (``XArgs`` or None, options);
    ``opts``, and ``args`` (the form generated SDKs accept: ``X("n", args=XArgs(...))``), given by
    keyword are taken out of ``kwargs``."""
    opts = kwargs.pop("opts", None)
    args_obj = kwargs.pop("args", None)
    for value in args:
        if isinstance(value, pulumi.ResourceOptions):
            opts = value
        else:
            args_obj = value
    return args_obj, opts


def dynamic_resource_inputs(
    resource_name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    args_type: type[Any],
    *,
    secret_inputs: Iterable[str],
    computed: Iterable[str],
    secret_outputs: Iterable[str] = (),
    defaults: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], pulumi.ResourceOptions]:
    """What every ``X.__init__(resource_name, *args, **kwargs)`` hands to ``pulumi.dynamic.Resource``:
    the property bag (:func:`resource_props`) and the options with every secret input, and
    ``secret_outputs`` besides, listed in ``additional_secret_outputs``."""
    secret_inputs = tuple(secret_inputs)
    args_obj, opts = split_args(args, kwargs)
    props = resource_props(
        resource_name,
        args_type,
        args_obj,
        kwargs,
        secret_inputs=secret_inputs,
        computed=computed,
        defaults=defaults,
    )
    return props, secret_options(opts, (*secret_inputs, *secret_outputs))


ResourceType = TypeVar("ResourceType", bound=pulumi.dynamic.Resource)


def existing_resource(
    cls: type[ResourceType],
    provider: WebhookProvider[Any, Any],
    resource_name: str,
    id_: pulumi.Input[str],
    opts: pulumi.ResourceOptions | None = None,
) -> ResourceType:
    """``X.get(resource_name, id)``: the existing resource, read by id through the same provider (the
    engine's Read, with only the id), without managing it: nothing is created, changed or deleted.
    Every input and computed output is an attribute; secret ones stay secret."""
    resource = cls.__new__(cls)
    props: dict[str, Any] = dict.fromkeys([*(f.name for f in provider.fields), *provider.computed_outputs])
    secrets = [*(f.name for f in provider.fields if f.secret), *provider.secret_outputs]
    options = secret_options(pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id_)), secrets)
    pulumi.dynamic.Resource.__init__(resource, provider, resource_name, props, options)
    return resource
