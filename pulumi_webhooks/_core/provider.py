"""The shape every platform's provider shares: check → diff → create → read → update → delete.

A platform subclass declares its inputs (:class:`InputField`) and writes its API calls in a handful of
hooks; this class owns everything else, the same way for all four platforms:

- ``check`` validates field by field at preview time and never raises; unknown values pass;
- ``diff`` is explicit: it ignores ``__provider`` and the state-only inputs, compares lists as sets
  where the field says so, and replaces only for the fields marked ``replaces``;
- ``create`` looks before it writes (adopting an identical subscription silently, a different one only
  with ``adopt=True``) and, when a write's answer is lost, looks again instead of writing twice;
- ``read`` returns outputs *and* inputs, or an empty id when the subscription is gone;
- ``update`` returns the full set of outputs; a change of credentials alone makes no call;
- ``delete`` of a subscription that is already gone succeeds;
- every operation runs under a total deadline, and every error leaves as one short, redacted line.

Providers keep nothing on the instance (it is pickled into the stack state): settings, tokens,
connection pools and rate-limit buckets are process-wide and looked up per call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from pulumi_webhooks._core import engine_log, errors, settings
from pulumi_webhooks._core.deadline import deadline_scope
from pulumi_webhooks._core.redact import get_logger, redact, register_secret

log = get_logger("pulumi_webhooks.provider")

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker for a value not known at preview
PROVIDER_KEY = "__provider"
MAX_CREATE_ATTEMPTS = 3

Api = TypeVar("Api")
Remote = TypeVar("Remote")


def is_unknown(value: object) -> bool:
    """True for a value the engine does not know yet (preview of a value computed by another resource)."""
    if value == UNKNOWN:
        return True
    if isinstance(value, list):
        return any(is_unknown(item) for item in value)
    return type(value).__name__ == "Unknown"


def missing_credential(
    setting: settings.Setting, value: object, *, field: str, what: str
) -> tuple[str, str] | None:
    """The check failure for a credential that is in neither the input, the stack config nor the
    environment (None when it is somewhere, or when the input is not known yet at preview)."""
    if is_unknown(value) or settings.lookup(setting, value) is not None:
        return None
    return field, f"no {what}: set the `{field}` input, {setting.names}"


@dataclass(frozen=True)
class InputField:
    """One resource input and its policy.

    ``kind`` is the JSON type (``str``, ``bool`` or ``list`` of strings); ``replaces`` makes a change
    force a replacement; ``state_only`` inputs (credentials, ``adopt``) are stored but never sent to the
    platform and never diffed; ``as_set`` lists compare order-insensitively and are stored sorted and
    unique; ``rule`` returns why a (known, well-typed) value is rejected.
    """

    name: str
    kind: type = str
    required: bool = False
    replaces: bool = False
    secret: bool = False
    state_only: bool = False
    as_set: bool = False
    default: Any = None
    rule: Callable[[Any], str | None] | None = None


ADOPT = InputField("adopt", bool, state_only=True, default=False)


def _same(old: Any, new: Any) -> bool:
    """Equality that a NaN (never a valid input, but possible in a hostile one) cannot break."""
    return bool(old is new or old == new)


def _strip(exc: errors.WebhookError) -> errors.WebhookError:
    """The error without its traceback, so the provider host shows a short message, not a stack."""
    exc.__cause__ = None
    exc.__suppress_context__ = True
    return exc.with_traceback(None)


Op = TypeVar("Op", bound=Callable[..., Any])


def operation(name: str) -> Callable[[Op], Op]:
    """Run a provider operation under its deadline and turn every failure into one clean line."""

    def decorate(method: Op) -> Op:
        @functools.wraps(method)
        def wrapper(self: WebhookProvider[Any, Any], *args: Any) -> Any:
            try:
                with deadline_scope(settings.operation_timeout()):
                    return method(self, *args)
            except errors.WebhookError as exc:
                failure: errors.WebhookError = exc
            except Exception as exc:  # a bug: keep the details in the log, give the user one line
                log.debug("%s %s failed unexpectedly", self.platform, name, exc_info=True)
                failure = errors.WebhookError(
                    f"{self.platform} {name} failed unexpectedly: {type(exc).__name__}: {redact(str(exc))[:300]}"
                )
            raise _strip(failure)

        return wrapper  # type: ignore[return-value]

    return decorate


class WebhookProvider(ResourceProvider, Generic[Api, Remote]):
    """Base of the four platform providers. Subclasses set the class attributes and the hooks."""

    platform: ClassVar[str]
    fields: ClassVar[tuple[InputField, ...]]
    delete_before_replace: ClassVar[bool] = False
    # The natural key that "adopting" matches on, for messages ("topic + address").
    natural_key: ClassVar[str]

    serialize_as_secret_always = True

    def __init__(self) -> None:
        # Nothing on the instance: it is pickled into every resource's state.
        super().__init__()

    # -- configure ----------------------------------------------------------------------------------
    def configure(self, req: ConfigureRequest) -> None:
        settings.load_stack_config(req.config)
        engine_log.attach()  # the CLI gave this process the engine's address: log lines reach the user

    # -- check --------------------------------------------------------------------------------------
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: value for key, value in news.items() if key != PROVIDER_KEY}
        failures: list[CheckFailure] = []
        try:
            for field in self.fields:
                value = inputs.get(field.name)
                if value is None and field.default is not None:
                    value = inputs[field.name] = self._default(field, inputs)
                if is_unknown(value):
                    continue
                if field.secret and isinstance(value, str):
                    register_secret(value)
                reason = self._field_problem(field, value)
                if reason is not None:
                    failures.append(CheckFailure(field.name, reason))
                elif value is not None and field.as_set:
                    inputs[field.name] = sorted(set(value))
            known = {f.name for f in self.fields}
            failures.extend(
                CheckFailure(key, f"is not an input of {self.platform} resources")
                for key in sorted(inputs)
                if key not in known
            )
            reported = {f.property for f in failures}
            failures.extend(CheckFailure(f, r) for f, r in self.check_settings(inputs) if f not in reported)
        except Exception as exc:  # check must never raise: the engine shows failures, not stacks
            log.debug("%s check failed unexpectedly", self.platform, exc_info=True)
            failures.append(CheckFailure("", f"{type(exc).__name__}: {redact(str(exc))[:200]}"))
        return CheckResult(inputs, failures)

    def _default(self, field: InputField, inputs: Mapping[str, Any]) -> Any:
        return field.default(inputs) if callable(field.default) else field.default

    def _field_problem(self, field: InputField, value: Any) -> str | None:
        if value is None or (field.kind is str and value == ""):
            return "is required" if field.required else None
        if field.kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return "must be a list of strings"
        elif not isinstance(value, field.kind) or (field.kind is not bool and isinstance(value, bool)):
            return f"must be a {field.kind.__name__}, got {type(value).__name__}"
        return field.rule(value) if field.rule is not None else None

    def check_settings(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Cross-field rules and the settings this platform needs (credentials, base URL); no network.
        Failures for a field that already failed its own rule are dropped."""
        return []

    # -- diff ---------------------------------------------------------------------------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed: list[str] = []
        for field in self.fields:
            if field.state_only:
                continue
            old, new = (
                self._or_default(field, olds.get(field.name)),
                self._or_default(field, news.get(field.name)),
            )
            if is_unknown(new) or not _same(self._normal(field, old), self._normal(field, new)):
                changed.append(field.name)
        # A changed credential is an update of state alone (no platform call): it keeps the stored
        # token current so that a later refresh or destroy uses the new one.
        changed += [
            f.name
            for f in self.fields
            if f.secret and f.state_only and not _same(olds.get(f.name), news.get(f.name))
        ]
        replaces = [name for name in changed if self._field(name).replaces]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            # Also answered when nothing here replaces: the engine uses the flag for `replaceOnChanges`
            # and `pulumi up --replace` too.
            delete_before_replace=self.replacement_collides(olds, news),
        )

    def replacement_collides(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        """Whether the replacement would collide with the subscription it replaces (the platform holds
        one per natural key): then the engine must delete the old one before creating the new one."""
        return self.delete_before_replace

    def _normal(self, field: InputField, value: Any) -> Any:
        if field.as_set and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return sorted(set(value))
        return value

    def _or_default(self, field: InputField, value: Any) -> Any:
        """A stored or declared value, with the field's constant default standing in for a missing one
        (a callable default depends on other inputs and is applied by check)."""
        if value is None and field.default is not None and not callable(field.default):
            return field.default
        return value

    def _field(self, name: str) -> InputField:
        return next(f for f in self.fields if f.name == name)

    # -- create -------------------------------------------------------------------------------------
    @operation("create")
    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self._inputs(props)
        api = self.connect(inputs)
        remote = self._create_once(api, inputs)
        return CreateResult(self.resource_id(inputs, remote), self._outputs(inputs, remote))

    def _create_once(self, api: Api, inputs: dict[str, Any]) -> Remote:
        existing = self.find_existing(api, inputs)
        if existing is not None:
            return self._take_over(api, existing, inputs)
        for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
            try:
                return self.api_create(api, inputs)
            except errors.ApiError as exc:
                lost_answer = exc.may_have_committed
                collided = isinstance(exc, (errors.ConflictError, errors.ApiValidationError))
                if not (lost_answer or collided) or attempt == MAX_CREATE_ATTEMPTS:
                    raise
                existing = self.find_existing(api, inputs)
                if existing is not None:
                    log.info("%s create: the subscription exists after all; taking it over", self.platform)
                    return self._take_over(api, existing, inputs)
                if collided:
                    raise
        raise AssertionError("unreachable")

    def _take_over(self, api: Api, existing: Remote, inputs: dict[str, Any]) -> Remote:
        if self.same_as_declared(existing, inputs):
            return existing
        if inputs.get("adopt"):
            return self.adopt(api, existing, inputs)
        raise errors.ConflictError(
            platform=self.platform,
            operation="create",
            detail=(
                f"a subscription with the same {self.natural_key} already exists "
                f"({self.describe(existing)}) and differs from the declaration"
            ),
            hint="Set adopt=True on the resource to take it over and update it to the declaration, "
            "or delete it on the platform",
        )

    # -- read ---------------------------------------------------------------------------------------
    @operation("read")
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = self._inputs(props)
        api = self.connect(inputs, resource_id=id_)
        remote = self.api_read(api, id_, inputs)
        if remote is None:
            return ReadResult(None, {})
        outs = self._outputs(inputs, remote)
        read_inputs = {f.name: outs.get(f.name) for f in self.fields if outs.get(f.name) is not None}
        return ReadResult(id_, outs, read_inputs)

    # -- update -------------------------------------------------------------------------------------
    @operation("update")
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = self._inputs(news)
        platform_fields = [f for f in self.fields if not f.state_only]
        if all(
            _same(self._normal(f, self._or_default(f, olds.get(f.name))), self._normal(f, inputs.get(f.name)))
            for f in platform_fields
        ):
            return UpdateResult(self._outputs(inputs, None, previous=olds))
        api = self.connect(inputs, resource_id=id_)
        remote = self.api_update(api, id_, olds, inputs)
        return UpdateResult(self._outputs(inputs, remote))

    # -- delete -------------------------------------------------------------------------------------
    @operation("delete")
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        inputs = self._inputs(props)
        api = self.connect(inputs, resource_id=id_)
        try:
            self.api_delete(api, id_, inputs)
        except errors.NotFoundError:
            log.info("%s delete: %s was already gone", self.platform, id_)

    # -- shared helpers -----------------------------------------------------------------------------
    def _inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The declared inputs from checked inputs or stored outputs, defaults applied."""
        inputs: dict[str, Any] = {}
        for field in self.fields:
            value = props.get(field.name)
            if value is None and field.default is not None:
                value = self._default(field, props)
            if field.secret and isinstance(value, str):
                register_secret(value)
            inputs[field.name] = value
        return inputs

    def _outputs(
        self, inputs: Mapping[str, Any], remote: Remote | None, *, previous: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Every input echoed back plus what the platform computed (None values are dropped)."""
        outs = {name: value for name, value in inputs.items() if value is not None}
        if remote is not None:
            outs.update(self.remote_outputs(remote))
        elif previous is not None:
            outs.update({k: previous[k] for k in self.computed_outputs if previous.get(k) is not None})
        return {k: v for k, v in outs.items() if v is not None}

    # -- the hooks a platform writes ----------------------------------------------------------------
    computed_outputs: ClassVar[tuple[str, ...]] = ("webhook_id", "created_at", "updated_at")

    def connect(self, inputs: Mapping[str, Any], *, resource_id: str | None = None) -> Api:
        """A per-call API client with resolved settings (never stored on the provider)."""
        raise NotImplementedError

    def resource_id(self, inputs: Mapping[str, Any], remote: Remote) -> str:
        raise NotImplementedError

    def find_existing(self, api: Api, inputs: Mapping[str, Any]) -> Remote | None:
        """The platform's subscription with the same natural key, if any."""
        raise NotImplementedError

    def same_as_declared(self, remote: Remote, inputs: Mapping[str, Any]) -> bool:
        raise NotImplementedError

    def describe(self, remote: Remote) -> str:
        """A short description of a subscription for messages (its id and key fields)."""
        raise NotImplementedError

    def adopt(self, api: Api, existing: Remote, inputs: Mapping[str, Any]) -> Remote:
        """Make an existing, different subscription match the declaration (``adopt=True``)."""
        raise NotImplementedError

    def api_create(self, api: Api, inputs: Mapping[str, Any]) -> Remote:
        raise NotImplementedError

    def api_read(self, api: Api, id_: str, inputs: Mapping[str, Any]) -> Remote | None:
        """The subscription as it is on the platform, or None when it is gone."""
        raise NotImplementedError

    def api_update(self, api: Api, id_: str, olds: Mapping[str, Any], inputs: Mapping[str, Any]) -> Remote:
        raise NotImplementedError

    def api_delete(self, api: Api, id_: str, inputs: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def remote_outputs(self, remote: Remote) -> dict[str, Any]:
        """The outputs the platform's record determines (input fields as read, plus computed ones)."""
        raise NotImplementedError
