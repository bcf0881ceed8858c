"""Where a setting comes from: the resource input, then the stack config, then the environment.

The stack config reaches the provider host once, through ``configure()``; it is kept here, in the
process (never on a provider instance, which is pickled into state), for every resource to read.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pulumi_webhooks._core.errors import ConfigurationError
from pulumi_webhooks._core.redact import register_secret


@dataclass(frozen=True)
class Setting:
    """One user-facing setting: its stack config key, its environment variable, and its default."""

    config_key: str
    env_var: str
    secret: bool = False
    default: str | None = None

    @property
    def names(self) -> str:
        """How the message of a missing setting names it."""
        return f"stack config `{self.config_key}` or environment variable `{self.env_var}`"


class _ConfigSource(Protocol):
    def get(self, key: str) -> Any: ...


OPERATION_TIMEOUT = Setting(
    "pulumi-webhooks:operationTimeout", "PULUMI_WEBHOOKS_OPERATION_TIMEOUT", default="300"
)

REQUEST_TIMEOUT = Setting("pulumi-webhooks:requestTimeout", "PULUMI_WEBHOOKS_REQUEST_TIMEOUT", default="30")

_known: dict[str, Setting] = {s.config_key: s for s in (OPERATION_TIMEOUT, REQUEST_TIMEOUT)}
_stack_config: dict[str, str] = {}
_lock = threading.Lock()


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
    if isinstance(input_value, str) and input_value != "":
        value: str | None = input_value
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


def setting_problem(setting: Setting, rule: Callable[[str], str | None]) -> str | None:
    """Why the setting's current value (empty when unset) breaks ``rule``, naming where it is set."""
    reason = rule(lookup(setting) or "")
    return None if reason is None else f"{setting.names} {reason}"


def checked(setting: Setting, rule: Callable[[str], str | None]) -> str:
    """The setting's current value; a :class:`ConfigurationError` when it breaks ``rule``."""
    problem = setting_problem(setting, rule)
    if problem is not None:
        raise ConfigurationError(problem)
    return lookup(setting) or ""


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
        raise ConfigurationError(f"{setting.names} must be a positive number of seconds, got {raw!r}")
    return seconds
