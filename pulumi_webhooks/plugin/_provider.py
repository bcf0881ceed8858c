"""The ``webhooks`` provider: the engine's requests, served by the same ``WebhookProvider`` lifecycle as
the dynamic resources.

Each request is converted (``_convert``), handed to the platform's provider (check, diff, create with
adopt, read, update, delete: deadlines, retries and redaction included) on a worker thread, inside this
provider's own configuration (:class:`~pulumi_webhooks._core.settings.ConfigScope`), and its answer
converted back. The handlers are async and the blocking HTTP runs on a pool larger than the dynamic
host's 4 workers, so the engine's ``--parallel`` operations run at once; each platform's process-wide
pacing (``_core/pacing``) still bounds the requests a store or account receives.

The configuration given to ``configure`` is kept on this object: unlike a dynamic provider (pickled
into every resource's state) a plugin's provider is never serialized, and the CLI starts one plugin
process per provider resource, so this object *is* that provider. Its repr never shows a value.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from pulumi_webhooks._core import engine_log, errors, settings
from pulumi_webhooks._core.catalog import unknown_name_reason
from pulumi_webhooks._core.deadline import deadline_scope
from pulumi_webhooks._core.provider import WebhookProvider, is_unknown
from pulumi_webhooks._core.redact import redact, register_secret
from pulumi_webhooks.plugin._convert import camel, from_engine, plain, secret_keys, snake, to_engine
from pulumi_webhooks.plugin._schema import (
    PACKAGE,
    RESOURCES,
    config_settings,
    describe_setting,
    package_schema,
)

# Operations in flight at once (each mostly waits on HTTP). The engine's default --parallel is larger
# than the dynamic host's fixed 4 workers; pacing per store/account still applies underneath.
MAX_CONCURRENT_OPERATIONS = 32
# Config keys the engine itself may add to a provider's inputs.
ENGINE_CONFIG_KEYS = frozenset({"version", "pluginDownloadURL"})

T = TypeVar("T")
_SNAKE_IN_BACKTICKS = re.compile(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`")


def _plugin_names(text: str) -> str:
    """A lifecycle message with the inputs it names in backticks spelled as the schema spells them
    (`access_token` -> `accessToken`)."""
    return _SNAKE_IN_BACKTICKS.sub(lambda m: f"`{camel(m[1])}`", text)


def _urn_parts(urn: str) -> tuple[str, str]:
    """The type token and the resource name of a URN, ``urn:pulumi:stack::project::type::name`` (a
    child's type is prefixed by its parent's: ``parent$token``; the name may itself contain ``::``)."""
    parts = urn.split("::", 3)
    return (parts[2].rsplit("$", 1)[-1], parts[3]) if len(parts) > 3 else ("", "")


def _config_text(value: PropertyValue) -> str | None:
    """A config value as the settings keep it (a string), None when unset or not known yet."""
    raw = plain(value)
    if raw is None or is_unknown(raw) or raw == "":
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


class WebhooksProvider(Provider):
    """The native provider of the four webhook resources."""

    def __init__(self, *, max_workers: int = MAX_CONCURRENT_OPERATIONS) -> None:
        self._scope = settings.ConfigScope({}, describe_setting)
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="webhooks-op")
        self._lifecycles: dict[str, WebhookProvider[Any, Any]] = {r.token: r.provider() for r in RESOURCES}

    def __repr__(self) -> str:
        return f"WebhooksProvider(configured={sorted(self._scope.values)})"

    # -- running the lifecycle ------------------------------------------------------------------------
    async def _run(self, call: Callable[..., T], *args: Any, urn: str, timeout: float = 0.0) -> T:
        """``call(*args)`` on a worker thread, in this provider's configuration (and within the engine's
        custom timeout, when the program set one), its engine log lines shown with resource ``urn``;
        lifecycle errors name inputs as the schema does."""
        scope = self._scope

        def in_scope() -> T:
            with (
                settings.config_scope(scope),
                engine_log.about(urn),
                deadline_scope(timeout) if timeout > 0 else contextlib.nullcontext(),
            ):
                return call(*args)

        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, in_scope)
        except errors.WebhookError as exc:
            raise errors.WebhookError(_plugin_names(str(exc))) from None

    def _lifecycle(self, urn: str) -> WebhookProvider[Any, Any]:
        token = _urn_parts(urn)[0]
        lifecycle = self._lifecycles.get(token)
        if lifecycle is None:
            raise errors.WebhookError(
                f"{PACKAGE}: unknown resource type {token!r}; this provider serves {', '.join(self._lifecycles)}"
            )
        return lifecycle

    @staticmethod
    def _secrets(lifecycle: WebhookProvider[Any, Any], sent_as_secret: Collection[str]) -> frozenset[str]:
        """What goes back secret: secret inputs, secret outputs, and whatever the program sent secret."""
        declared = {f.name for f in lifecycle.fields if f.secret}
        return frozenset({*declared, *lifecycle.secret_outputs, *sent_as_secret})

    # -- schema and provider configuration ------------------------------------------------------------
    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(json.dumps(package_schema()))

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        known = config_settings()
        failures: list[CheckFailure] = []
        inputs: dict[str, PropertyValue] = {}
        for key, value in request.new_inputs.items():
            setting = known.get(key)
            if setting is None:
                if key not in ENGINE_CONFIG_KEYS:
                    failures.append(
                        CheckFailure(
                            key, unknown_name_reason(key, known, what="setting", where=f"{PACKAGE} providers")
                        )
                    )
                inputs[key] = value
                continue
            raw = plain(value)
            if not (raw is None or is_unknown(raw) or isinstance(raw, (str, int, float, bool))):
                failures.append(CheckFailure(key, f"must be a string, got {type(raw).__name__}"))
            if setting.secret and isinstance(raw, str):
                register_secret(raw)
            inputs[key] = value.with_secret(True) if setting.secret else value
        return CheckResponse(inputs=inputs, failures=failures)

    async def diff_config(self, request: DiffRequest) -> DiffResponse:
        keys = (request.old_state.keys() | request.new_inputs.keys()) - ENGINE_CONFIG_KEYS
        changed = sorted(k for k in keys if request.old_state.get(k) != request.new_inputs.get(k))
        return DiffResponse(
            changes=bool(changed),
            diffs=changed,
            detailed_diff={k: PropertyDiff(PropertyDiffKind.UPDATE, True) for k in changed},
        )

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        values: dict[str, str] = {}
        for name, setting in config_settings().items():
            given = request.args.get(name)
            text = (
                _config_text(given)
                if given is not None
                else request.variables.get(f"{PACKAGE}:{name}") or None
            )
            if text is None:
                continue
            values[setting.config_key] = text
            if setting.secret:
                register_secret(text)
        self._scope = settings.ConfigScope(values, describe_setting)
        engine_log.attach()  # the CLI started this process with the engine's address
        # Previews need no platform call: the engine shows unknown outputs for what a create computes.
        return ConfigureResponse(accept_secrets=True, supports_preview=False)

    # -- resources ------------------------------------------------------------------------------------
    async def check(self, request: CheckRequest) -> CheckResponse:
        lifecycle = self._lifecycle(request.urn)
        news = from_engine(request.new_inputs)
        for name in lifecycle.named_after_resource:
            if news.get(name) is None:
                news[name] = _urn_parts(request.urn)[1]
        result = await self._run(lifecycle.check, from_engine(request.old_inputs), news, urn=request.urn)
        failures = [
            CheckFailure(camel(f.property) if f.property else "", _plugin_names(f.reason))
            for f in result.failures
        ]
        # Properties are camelCase: `workspace_id` is not taken for `workspaceId` (nor one of the two
        # spellings silently preferred when both are sent).
        failures += [
            CheckFailure(
                key, f"is not a property of {_urn_parts(request.urn)[0]}; did you mean {camel(key)!r}?"
            )
            for key in request.new_inputs
            if camel(snake(key)) != key
        ]
        secrets = self._secrets(lifecycle, secret_keys(request.new_inputs))
        return CheckResponse(inputs=to_engine(result.inputs, secrets), failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        lifecycle = self._lifecycle(request.urn)
        olds, news = from_engine(request.old_state), from_engine(request.new_inputs)
        ignored = {snake(name) for name in request.ignore_changes}
        result = await self._run(lifecycle.diff, request.resource_id, olds, news, urn=request.urn)
        changed = [
            name
            for name in await self._run(lifecycle.changed_inputs, olds, news, urn=request.urn)
            if name not in ignored
        ]
        replaces = [name for name in result.replaces or [] if name not in ignored]
        detailed = {
            camel(name): _property_diff(olds.get(name), news.get(name), name in replaces) for name in changed
        }
        return DiffResponse(
            changes=bool(changed),
            replaces=[camel(name) for name in replaces],
            delete_before_replace=bool(result.delete_before_replace),
            diffs=sorted(detailed),
            detailed_diff=detailed,
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        lifecycle = self._lifecycle(request.urn)
        props = from_engine(request.properties)
        secrets = self._secrets(lifecycle, secret_keys(request.properties))
        if request.preview:  # not asked for (supports_preview=False); answered without a call anyway
            return CreateResponse(None, to_engine(props, secrets))
        result = await self._run(lifecycle.create, props, urn=request.urn, timeout=request.timeout)
        return CreateResponse(str(result.id), to_engine(result.outs or {}, secrets))

    async def read(self, request: ReadRequest) -> ReadResponse:
        lifecycle = self._lifecycle(request.urn)
        # Refresh sends the stored outputs; a `get` only inputs; `pulumi import` neither, only the id.
        wire = request.properties or request.inputs
        importing = not wire
        result = await self._run(lifecycle.read, request.resource_id, from_engine(wire), urn=request.urn)
        if not result.id:
            return ReadResponse(None, {}, {})
        secrets = self._secrets(lifecycle, secret_keys(wire))
        inputs = dict(result.inputs or {})
        if importing:  # the declaration `pulumi import` writes leaves out what is only a default
            inputs = {
                f.name: inputs[f.name]
                for f in lifecycle.fields
                if f.name in inputs and not (f.state_only and inputs[f.name] == f.default)
            }
        return ReadResponse(str(result.id), to_engine(result.outs or {}, secrets), to_engine(inputs, secrets))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        lifecycle = self._lifecycle(request.urn)
        olds, news = from_engine(request.olds), from_engine(request.news)
        secrets = self._secrets(lifecycle, secret_keys(request.news) | secret_keys(request.olds))
        if request.preview:
            return UpdateResponse(to_engine({**olds, **news}, secrets))
        result = await self._run(
            lifecycle.update, request.resource_id, olds, news, urn=request.urn, timeout=request.timeout
        )
        return UpdateResponse(to_engine(result.outs or {}, secrets))

    async def delete(self, request: DeleteRequest) -> None:
        lifecycle = self._lifecycle(request.urn)
        props = from_engine(request.properties)
        await self._run(
            lifecycle.delete, request.resource_id, props, urn=request.urn, timeout=request.timeout
        )


def _property_diff(old: Any, new: Any, replaces: bool) -> PropertyDiff:
    if old is None:
        kind = PropertyDiffKind.ADD_REPLACE if replaces else PropertyDiffKind.ADD
    elif new is None:
        kind = PropertyDiffKind.DELETE_REPLACE if replaces else PropertyDiffKind.DELETE
    else:
        kind = PropertyDiffKind.UPDATE_REPLACE if replaces else PropertyDiffKind.UPDATE
    return PropertyDiff(kind, input_diff=True)


def one_line(exc: BaseException) -> str:
    """The message the engine shows for a failed request: one redacted line, never a traceback."""
    message = str(exc) if isinstance(exc, errors.WebhookError) else f"{PACKAGE}: {type(exc).__name__}: {exc}"
    return redact(" ".join(message.split()))[:2000]
