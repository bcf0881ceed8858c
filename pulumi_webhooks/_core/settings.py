"""Where a setting comes from: the resource input, then the stack config, then the environment.

The stack config reaches the provider host once, through ``configure()``; it is kept here, in the
process (never on a provider instance, which is pickled into state), for every resource to read.
The native plugin runs each operation inside its provider's :class:`ConfigScope` instead, so two
explicit providers (two stores, two accounts) each see their own configuration.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pulumi_webhooks._core.errors import ConfigurationError
from pulumi_webhooks._core.redact import excerpt, register_secret
from pulumi_webhooks._core.scopes import scoped


@dataclass(frozen=True)
class Setting:
    """One user-facing setting: its stack config key, its environment variable, and its default."""

    config_key: str
    env_var: str
    secret: bool = False
    default: str | None = None

    @property
    def names(self) -> str:
        """How the message of a missing setting names it (in a provider's scope: its config key)."""
        scope = _scope.get()
        where = scope.describe(self) if scope is not None else f"stack config `{self.config_key}`"
        return f"{where} or environment variable `{self.env_var}`"


class _ConfigSource(Protocol):
    def get(self, key: str) -> Any: ...


OPERATION_TIMEOUT = Setting(
    "pulumi-webhooks:operationTimeout", "PULUMI_WEBHOOKS_OPERATION_TIMEOUT", default="300"
)

REQUEST_TIMEOUT = Setting("pulumi-webhooks:requestTimeout", "PULUMI_WEBHOOKS_REQUEST_TIMEOUT", default="30")

_known: dict[str, Setting] = {s.config_key: s for s in (OPERATION_TIMEOUT, REQUEST_TIMEOUT)}
_stack_config: dict[str, str] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ConfigScope:
    """One provider instance's configuration (the native plugin's explicit providers): while it is in
    scope it takes the place of the process-wide stack config; the environment still backs it."""

    values: Mapping[str, str]  # config_key -> value, secrets included: never printed
    describe: Callable[[Setting], str]  # how messages name a setting's key in this configuration

    def __repr__(self) -> str:
        return f"ConfigScope(keys={sorted(self.values)})"


_scope: contextvars.ContextVar[ConfigScope | None] = contextvars.ContextVar(
    "pulumi_webhooks_config_scope", default=None
)


def config_scope(scope: ConfigScope) -> contextlib.AbstractContextManager[ConfigScope | None]:
    """Look settings up in ``scope`` instead of the stack config for the block (this context only)."""
    return scoped(_scope, scope)


def declared() -> tuple[Setting, ...]:
    """Every declared setting (importing a platform's provider module declares its own)."""
    with _lock:
        return tuple(_known.values())


def declare(*settings: Setting) -> None:
    """Make settings known so that ``load_stack_config`` picks them up from ``configure()``."""
    with _lock:
        for setting in settings:
            _known[setting.config_key] = setting


def load_stack_config(config: _ConfigSource) -> None:
    """Keep the stack config values of every declared setting (called from ``configure()``)."""
    with _lock:
        settings = list(_known.values())
    values: dict[str, str] = {}
    for setting in settings:
        value = config.get(setting.config_key)
        if value is not None and str(value) != "":
            values[setting.config_key] = str(value)
            if setting.secret:
                register_secret(str(value))
    with _lock:
        _stack_config.update(values)


def lookup(setting: Setting, input_value: object = None) -> str | None:
    """The setting's value: the resource input, else stack config, else environment, else default."""
    scope = _scope.get()
    if isinstance(input_value, str) and input_value != "":
        value: str | None = input_value
    elif scope is not None:
        value = scope.values.get(setting.config_key)
    else:
        with _lock:
            value = _stack_config.get(setting.config_key)
    if value is None:
        value = os.environ.get(setting.env_var) or None
    if value is None:
        return setting.default
    if setting.secret:
        register_secret(value)
    return value


def require(setting: Setting, input_value: object = None, *, what: str, field: str | None = None) -> str:
    """Like :func:`lookup`, but a missing value is a :class:`ConfigurationError` naming every source."""
    value = lookup(setting, input_value)
    if value is None:
        source = f"the `{field}` input, " if field else ""
        raise ConfigurationError(f"no {what}: set {source}{setting.names}")
    return value


# -- credentials --------------------------------------------------------------------------------------
# Characters no input or credential may hold: C0 and C1 controls, DEL, and the Unicode line and
# paragraph separators (a trailing newline from `echo` into a secret store is the common case).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def control_character_problem(value: str) -> str | None:
    """Why a string cannot be used as is: it holds a line break or another control character (it
    would split a log line or a header). Names the position, never the value."""
    control = _CONTROL.search(value)
    if control is None:
        return None
    return (
        "must not contain line breaks or control characters "
        f"(character {control.start() + 1} of {len(value)} is U+{ord(control.group()):04X})"
    )


def credential_text_problem(value: str) -> str | None:
    """Why a credential's value cannot be right, never quoting it: no control characters or line
    breaks, no whitespace around it."""
    problem = control_character_problem(value)
    if problem is None and value != value.strip():
        problem = "must not begin or end with whitespace (often left by a copy-paste)"
    return problem


def header_credential_problem(value: str) -> str | None:
    """:func:`credential_text_problem`, and what an HTTP header value (``Authorization: Bearer …``)
    can carry: visible ASCII characters without spaces."""
    problem = credential_text_problem(value)
    if problem is not None:
        return problem
    for position, char in enumerate(value, 1):
        if not "!" <= char <= "~":
            return (
                "must be visible ASCII characters without spaces: it is sent in an HTTP header "
                f"(character {position} of {len(value)} is not)"
            )
    return None


def source_of(setting: Setting, input_value: object = None, *, field: str | None = None) -> str | None:
    """Where the setting's value comes from (the input, the stack config key or the environment
    variable), None when it is set nowhere (a default is not a source)."""
    if isinstance(input_value, str) and input_value != "":
        return f"the `{field}` input" if field else "the resource input"
    scope = _scope.get()
    if scope is not None:
        if scope.values.get(setting.config_key) is not None:
            return scope.describe(setting)
    else:
        with _lock:
            if _stack_config.get(setting.config_key) is not None:
                return f"stack config `{setting.config_key}`"
    if os.environ.get(setting.env_var):
        return f"environment variable `{setting.env_var}`"
    return None


def credential_problem(
    setting: Setting,
    input_value: object = None,
    *,
    field: str | None = None,
    rule: Callable[[str], str | None] = credential_text_problem,
) -> str | None:
    """Why the credential's value (input, else stack config, else environment) breaks ``rule``,
    naming where it was set and never quoting it; None when it passes or is set nowhere."""
    source = source_of(setting, input_value, field=field)
    value = lookup(setting, input_value)
    if source is None or value is None:
        return None
    reason = rule(value)
    return None if reason is None else f"{source} {reason}"


def setting_problem(setting: Setting, rule: Callable[[str], str | None]) -> str | None:
    """Why the setting's current value (empty when unset) breaks ``rule``, naming where it is set."""
    return _broken(setting, rule, lookup(setting) or "")


def checked(setting: Setting, rule: Callable[[str], str | None]) -> str:
    """The setting's current value; a :class:`ConfigurationError` when it breaks ``rule``."""
    value = lookup(setting) or ""
    problem = _broken(setting, rule, value)
    if problem is not None:
        raise ConfigurationError(problem)
    return value


def _broken(setting: Setting, rule: Callable[[str], str | None], value: str) -> str | None:
    reason = rule(value)
    return None if reason is None else f"{setting.names} {reason}"


def operation_timeout() -> float:
    """The total time one provider operation may take, retries included (seconds)."""
    return _seconds(OPERATION_TIMEOUT)


def request_timeout() -> float:
    """How long one request may wait for the platform's answer (seconds)."""
    return _seconds(REQUEST_TIMEOUT)


def _seconds(setting: Setting) -> float:
    raw = lookup(setting)
    try:
        seconds = float(raw if raw is not None else "nan")
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigurationError(f"{setting.names} must be a positive number of seconds, got {excerpt(raw)}")
    return seconds
