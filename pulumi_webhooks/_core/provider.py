"""The shape every platform's provider shares: check → diff → create → read → update → delete.

A platform subclass declares its inputs (:class:`InputField`) and writes its API calls in a handful of
hooks; this class owns everything else, the same way for all four platforms:

- ``check`` validates field by field at preview time and never raises; unknown values pass;
- ``diff`` is explicit: it ignores ``__provider`` and the state-only inputs, compares lists as sets
  where the field says so, and replaces only for the fields marked ``replaces``;
- ``create`` looks before it writes and, when a write's answer is lost, looks again instead of writing
  twice (finding its own write is silent); taking over a subscription this operation did not write is a
  warning, a different one needs ``adopt=True``, and ``adopt=False`` refuses both (see ``_take_over``);
- ``read`` returns outputs *and* inputs, or an empty id when the subscription is gone;
- ``update`` returns the full set of outputs; a change of credentials alone makes no call;
- ``delete`` of a subscription that is already gone succeeds;
- every operation runs under a total deadline, and every error leaves as one short, redacted line.

Providers keep nothing on the instance (it is pickled into the stack state): settings, tokens,
connection pools and rate-limit buckets are process-wide and looked up per call.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Callable, Hashable, Mapping
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
from pulumi_webhooks._core.deadline import TimeSpent, deadline_scope, remaining
from pulumi_webhooks._core.errors import with_note
from pulumi_webhooks._core.redact import clip, get_logger, register_secret

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
class Credential:
    """A credential a platform reads from a setting: the input that overrides it (``""`` when no input
    does), and the rule its value must pass wherever it was set (the rule never quotes the value)."""

    field: str
    setting: settings.Setting
    rule: Callable[[str], str | None] = settings.credential_text_problem


MAX_REASON_LENGTH = 1000  # a check failure's text, whatever a rule quoted


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


# Tri-state, never diffed: None (unset) takes over an identical subscription with a warning; True also
# takes over and updates a different one; False refuses any this operation did not write itself.
ADOPT = InputField("adopt", bool, state_only=True)


def _same(old: Any, new: Any) -> bool:
    """Equality that a NaN (never a valid input, but possible in a hostile one) cannot break."""
    return bool(old is new or old == new)


def _strip(exc: errors.WebhookError) -> errors.WebhookError:
    """The error without its traceback, so the provider host shows a short message, not a stack, and as
    a public class (the request layer's ``TimeSpent`` marker leaves as the ``OperationTimeoutError`` it is)."""
    if isinstance(exc, TimeSpent):
        exc = errors.OperationTimeoutError(exc.message)
    exc.__cause__ = None
    exc.__suppress_context__ = True
    return exc.with_traceback(None)


# The subscriptions this process deleted, so that a create right after a delete-before-replace can say
# that the old one is gone (the engine's Create carries no word of it). One process is one CLI command.
MAX_REMEMBERED_DELETES = 1000
_deleted: list[tuple[str, str, dict[str, Any]]] = []  # (platform, id, stored outputs)
_deleted_lock = threading.Lock()


def _remember_deleted(provider: WebhookProvider[Any, Any], id_: str, props: Mapping[str, Any]) -> None:
    if not provider.replacement_collides(props, props):
        return  # the platform never needs a delete-before-replace: no create will ask
    with _deleted_lock:
        _deleted.append((provider.platform, id_, dict(props)))
        del _deleted[:-MAX_REMEMBERED_DELETES]


def _take_replaced(
    provider: WebhookProvider[Any, Any], inputs: Mapping[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """The deleted subscription this create replaces (same platform, colliding key), forgotten once
    asked for; None when there is none."""
    with _deleted_lock:
        for index in range(len(_deleted) - 1, -1, -1):
            platform, id_, olds = _deleted[index]
            if platform == provider.platform and provider.replacement_collides(olds, inputs):
                del _deleted[index]
                return id_, olds
    return None


# The subscriptions a create of this process took over from someone else, by `owner_key`. A delete of
# one of them in the same process comes from the state of the resource that held it before: a resource
# renamed without an alias (the engine creates the new name, then deletes the old), a replacement whose
# create found the old one. Deleting it would leave the resource that took it over pointing at nothing.
_taken_over: set[Hashable] = set()
_taken_over_lock = threading.Lock()


def _note_taken_over(key: Hashable) -> None:
    with _taken_over_lock:
        _taken_over.add(key)


def was_taken_over(key: Hashable) -> bool:
    """Whether a create of this process took over the subscription ``key`` names (see ``owner_key``)."""
    with _taken_over_lock:
        return key in _taken_over


@functools.cache
def _freeze_start_up_objects() -> None:
    """Once per provider host: leave the objects it holds by its first configure (the modules, classes
    and functions of the SDK, gRPC and this package, which live as long as the process) out of the cyclic
    collector's passes. Otherwise the first full pass, set off by loading pydantic for the wire shapes
    while the first listing is on the wire, walks all of them: 11-14 ms on the path of every `up`
    (benchmarks/, 40 creates). They are still freed by reference counting; only a reference cycle among
    them is never collected. A program never calls configure, so only the host process is affected."""
    gc.freeze()


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
                    f"{self.platform} {name} failed unexpectedly: {type(exc).__name__}: {clip(str(exc), 300)}"
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
    # The credentials the platform reads from settings: checked wherever they are set (see Credential).
    credential_settings: ClassVar[tuple[Credential, ...]] = ()
    # Required inputs that default to the resource's name when not declared (UP42's `name`): the
    # program's resource class fills them in, the native plugin from the URN.
    named_after_resource: ClassVar[tuple[str, ...]] = ()

    serialize_as_secret_always = True

    def __init__(self) -> None:
        # Nothing on the instance: it is pickled into every resource's state.
        super().__init__()

    # -- configure ----------------------------------------------------------------------------------
    def configure(self, req: ConfigureRequest) -> None:
        settings.load_stack_config(req.config)
        engine_log.attach()  # the CLI gave this process the engine's address: log lines reach the user
        _freeze_start_up_objects()

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
            for name, reason in self.credential_problems(inputs):
                if name not in reported:
                    failures.append(CheckFailure(name, reason))
                    reported.add(name)
            failures.extend(CheckFailure(f, r) for f, r in self.check_settings(inputs) if f not in reported)
        except Exception as exc:  # check must never raise: the engine shows failures, not stacks
            log.debug("%s check failed unexpectedly", self.platform, exc_info=True)
            failures.append(CheckFailure("", f"{type(exc).__name__}: {clip(str(exc), 200)}"))
        # Redacted and bounded, whatever a rule quoted: a failure is shown to the user as is.
        failures = [CheckFailure(f.property, clip(f.reason, MAX_REASON_LENGTH)) for f in failures]
        return CheckResult(inputs, failures)

    def credential_problems(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Malformed credentials (the platform's ``credential_settings``), wherever they are set: the
        input, the stack config or the environment, each failure naming the field and the source."""
        problems: list[tuple[str, str]] = []
        for credential in self.credential_settings:
            value = inputs.get(credential.field) if credential.field else None
            if is_unknown(value):
                continue
            problem = settings.credential_problem(
                credential.setting, value, field=credential.field or None, rule=credential.rule
            )
            if problem is not None:
                problems.append((credential.field, problem))
        return problems

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
        for text in value if field.kind is list else [value]:
            problem = settings.control_character_problem(text) if isinstance(text, str) else None
            if problem is not None:
                return problem if field.kind is str else f"each element {problem}"
        return field.rule(value) if field.rule is not None else None

    def check_settings(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Cross-field rules and the settings this platform needs (credentials, base URL); no network.
        Failures for a field that already failed its own rule are dropped."""
        return []

    # -- diff ---------------------------------------------------------------------------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = self.changed_inputs(olds, news)
        replaces = [name for name in changed if self._field(name).replaces]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            # Also answered when nothing here replaces: the engine uses the flag for `replaceOnChanges`
            # and `pulumi up --replace` too.
            delete_before_replace=self.replacement_collides(olds, news),
        )

    def changed_inputs(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        """The inputs whose declared value differs from the stored one (a constant default stands in
        for a missing value, so a default is never a change; unknown values count as changed)."""
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
        return changed

    def owner_key(self, id_: str, inputs: Mapping[str, Any]) -> Hashable:
        """What names the subscription ``id_`` across the resources of one process: the platform and the
        id, which is unique per store or workspace (a platform whose ids are not adds the account)."""
        return (self.platform, id_)

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
        # A create that follows the delete of a colliding subscription (a delete-before-replace) says so
        # when it fails: the platform then holds neither the old one nor the new one.
        replaced = _take_replaced(self, inputs)
        try:
            existing = self.find_existing(api, inputs)
            if existing is not None:
                return self._take_over(api, existing, inputs, written_here=False)
            return self._create_new(api, inputs)
        except errors.WebhookError as exc:
            if replaced is None:
                raise
            raise with_note(exc, self._replaced_note(api, inputs, replaced)) from None

    def _create_new(self, api: Api, inputs: Mapping[str, Any], *, may_update: bool = True) -> Remote:
        """Create the declared subscription (none with its key was found). After a lost answer or a
        collision, look again: the one found then is this operation's own write when an earlier try's
        answer was lost, otherwise someone else's (``_take_over`` decides). The create is sent again
        only after a single try whose answer was lost: when the request layer already tried again, one
        layer of retries is all there is."""
        sent = False  # a try may have reached the platform although its answer was lost
        for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
            try:
                return self.api_create(api, inputs)
            except errors.ApiError as exc:
                lost_answer = exc.may_have_committed
                sent = sent or lost_answer
                collided = isinstance(exc, (errors.ConflictError, errors.ApiValidationError))
                if not (lost_answer or collided) or attempt == MAX_CREATE_ATTEMPTS:
                    raise
                existing = self.find_existing(api, inputs)
                if existing is not None:
                    return self._take_over(api, existing, inputs, written_here=sent, may_update=may_update)
                if collided or exc.attempts > 1:
                    raise
        raise AssertionError("unreachable")

    def _take_over(
        self,
        api: Api,
        existing: Remote,
        inputs: Mapping[str, Any],
        *,
        written_here: bool,
        may_update: bool = True,
    ) -> Remote:
        """Take over a subscription found with the declared key. ``written_here``: this operation sent a
        create whose answer was lost, so an identical one is its own (silent: a retried create is safe).
        Anything else belongs to someone else (another stack, another resource, a person): with ``adopt``
        unset an identical one is taken over with a warning naming it, a different one is refused;
        ``adopt=True`` also takes over and updates a different one (warning too); ``adopt=False`` refuses
        any."""
        identical = self.same_as_declared(existing, inputs)
        if identical and written_here:
            log.info(
                "%s create: the subscription exists after all (%s): this operation's create went through "
                "although its answer was lost; taking it over",
                self.platform,
                self.describe(existing),
            )
            return existing
        adopt = inputs.get("adopt")
        if adopt is False:
            raise self._refusal(existing, strict=True)
        if not identical and (not may_update or (adopt is not True and self.overrides(existing, inputs))):
            raise self._refusal(existing, strict=False)
        log.warning(
            "%s create: %s an existing subscription this deployment did not create (%s)%s. If another stack or "
            "resource manages it, both now do and destroying either deletes it; set adopt=False on the "
            "resource to refuse such takeovers",
            self.platform,
            "taking over" if identical else "taking over and updating",
            self.describe(existing),
            " (adopt=True)" if adopt is True else "",
        )
        taken = existing if identical else self.adopt(api, existing, inputs)
        _note_taken_over(self.owner_key(self.resource_id(inputs, taken), inputs))
        return taken

    def _refusal(self, existing: Remote, *, strict: bool) -> errors.ConflictError:
        if strict:
            detail = (
                f"a subscription with the same {self.natural_key} already exists ({self.describe(existing)}) "
                "and this deployment did not create it; adopt=False refuses to take it over"
            )
            hint = (
                "If another stack manages it, leave it to that stack; to take it over, remove adopt "
                "(an identical one) or set adopt=True (updates it to the declaration); or delete it on the platform"
            )
        else:
            detail = (
                f"a subscription with the same {self.natural_key} already exists "
                f"({self.describe(existing)}) and differs from the declaration"
            )
            hint = (
                "Set adopt=True on the resource to take it over and update it to the declaration, "
                "or delete it on the platform"
            )
        return errors.ConflictError(platform=self.platform, operation="create", detail=detail, hint=hint)

    def recreate(self, api: Api, existing: Remote, inputs: Mapping[str, Any]) -> Remote:
        """Take ``existing`` over by deleting it and creating the declared one, for a platform that cannot
        update what differs (and holds one subscription per key, so the old one must go first). If the
        create fails, the old one is put back as it was, and the error says what the platform holds."""
        before = {**inputs, **{k: v for k, v in self.remote_outputs(existing).items() if k in inputs}}
        try:
            self.api_delete(api, self.resource_id(inputs, existing), inputs)
        except errors.NotFoundError:
            log.info("%s create: %s was already gone", self.platform, self.describe(existing))
        try:
            left = remaining(f"{self.platform} create")
            # Half of what is left, at most: putting the old one back needs time too.
            with deadline_scope(left / 2) if left is not None else contextlib.nullcontext():
                return self._create_new(api, inputs, may_update=False)
        except errors.WebhookError as exc:
            failure = exc
        old_id = self.resource_id(inputs, existing)
        deleted = f"to take it over, the existing subscription {old_id} ({self._summary(before)}) was deleted"
        try:
            restored = self._create_new(api, before, may_update=False)
        except errors.WebhookError as exc:
            note = (
                f"{deleted}, and putting it back failed too ({exc.message}): {self.platform} now holds NO "
                f"subscription for that {self.natural_key}; create it again (`pulumi up` once the cause is fixed, "
                "or on the platform)"
            )
        else:
            note = (
                f"{deleted}, then put back as it was ({self.describe(restored)}): {self.platform} holds what it "
                "held before, under a new id"
            )
        raise with_note(failure, note) from None

    def _replaced_note(
        self, api: Api, inputs: Mapping[str, Any], replaced: tuple[str, dict[str, Any]]
    ) -> str:
        """What a failed create says when Pulumi deleted the subscription it replaces just before."""
        old_id, olds = replaced
        try:
            found = self.find_existing(api, inputs)
        except errors.WebhookError as exc:
            state = f"what the platform holds now could not be read ({exc.message})"
        else:
            state = (
                f"{self.platform} now holds NO subscription for that {self.natural_key}"
                if found is None
                else f"{self.platform} holds {self.describe(found)} for that {self.natural_key}"
            )
        return (
            f"this create replaces {old_id} ({self._summary(olds)}), which Pulumi deleted first because "
            f"{self.platform} holds one subscription per {self.natural_key}: {state}; `pulumi up` creates the "
            "declared one once the cause is fixed"
        )

    def _summary(self, values: Mapping[str, Any]) -> str:
        """The platform fields of a declaration or a stored state, for messages (never a secret)."""
        parts = [
            f"{f.name} {values[f.name]}"
            for f in self.fields
            if not (f.secret or f.state_only) and values.get(f.name) not in (None, "", [])
        ]
        return ", ".join(parts)

    # -- read ---------------------------------------------------------------------------------------
    @operation("read")
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # With only the id (`pulumi import`, `Webhook.get`) the id's own parts stand in for the inputs
        # they name (the store handle, the shop, the workspace), so outputs and inputs are complete.
        from_id = {k: v for k, v in self.inputs_from_id(id_).items() if props.get(k) is None}
        inputs = self._inputs({**props, **from_id})
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
        if was_taken_over(self.owner_key(id_, inputs)):
            log.warning(
                "%s delete: kept %s: another resource of this deployment took it over (a rename without an "
                "alias, or a replacement that found it), and deleting it would leave that one pointing at "
                "nothing",
                self.platform,
                id_,
            )
            return
        api = self.connect(inputs, resource_id=id_)
        try:
            self.api_delete(api, id_, inputs)
        except errors.NotFoundError as answer:
            self._confirm_gone(api, id_, inputs, answer)
        _remember_deleted(self, id_, props)

    def _confirm_gone(
        self, api: Api, id_: str, inputs: Mapping[str, Any], answer: errors.NotFoundError
    ) -> None:
        """A delete answered 404: the subscription is gone, or the request reached something else (a base
        URL or region changed since it was created, a proxy). A new listing of the store tells which;
        only one that works and lacks it lets the resource leave the state."""
        try:
            remote = self.api_read(api, id_, inputs)  # the failed write dropped the run's listing
        except errors.NotFoundError:
            raise with_note(
                answer,
                f"listing the subscriptions answered 404 too, so this is not where {id_} lives: check the "
                "base URL and region settings; the resource stays in the state (if the store or workspace "
                "itself is gone, `pulumi state delete` the resource)",
            ) from None
        if remote is not None:
            raise with_note(
                answer,
                f"yet the platform still lists it ({self.describe(remote)}); the resource stays in the state",
            )
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
        # A malformed credential (set after the last check, or in the environment of a refresh or a
        # destroy) fails here with the same words, before any request could carry it.
        problems = self.credential_problems(inputs)
        if problems:
            raise errors.ConfigurationError(f"{self.platform}: {problems[0][1]}")
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
    # Outputs that are secret although no secret input has their name.
    secret_outputs: ClassVar[tuple[str, ...]] = ()

    def inputs_from_id(self, id_: str) -> dict[str, Any]:
        """The inputs a resource id names (``{handle}/{webhook_id}`` names the handle); raises
        :class:`InputValidationError` for an id of the wrong shape."""
        return {}

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

    def overrides(self, remote: Remote, inputs: Mapping[str, Any]) -> bool:
        """Whether making ``remote`` match the declaration changes something it does now (then only
        ``adopt=True`` may take it over). By default: whenever it differs."""
        return not self.same_as_declared(remote, inputs)

    def adopt(self, api: Api, existing: Remote, inputs: Mapping[str, Any]) -> Remote:
        """Make an existing, different subscription match the declaration, in place where the platform
        can (where it cannot: :meth:`recreate`)."""
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
