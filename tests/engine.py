"""Play the Pulumi engine in tests: run real programs against the real dynamic provider host.

The Pulumi CLI (a Go binary) cannot be installed here, so this module takes its place:

- `collect(program)` runs a Pulumi program in-process through the language SDK's own entry point
  (`run_in_stack`, the path `python -m pulumi` takes) against a resource monitor that records every
  `RegisterResource` request as a `Registration`: what the engine would receive.
- `ProviderHost` starts the real plugin process (`python -u -m pulumi.dynamic`), reads its port, sends
  `Configure` with the stack config and talks gRPC to it; its stdout/stderr are kept for `logs()`.
- `Engine` keeps stack state and runs `preview`/`up`/`refresh`/`destroy` like the engine does.

Emulated engine behaviour:
- Steps run while the program runs, as in the real engine: a `RegisterResource` call is answered only
  once its step (Check, then Create, or Diff then Update/Replace) is done, so outputs of one resource
  passed to another are the provider's real outputs and dependents wait for what they depend on.
  At most `parallel` steps run at once (the engine's `--parallel`; also bounded by the SDK's
  default thread pool, min(32, cpus + 4)).
- Check gets old *inputs* and the new inputs; Diff/Update get old *outputs* and checked inputs (plus
  old inputs); Delete gets old outputs. Diff `DIFF_NONE` gives a "same" step, `DIFF_UNKNOWN` makes the
  engine compare old and new inputs itself (`__provider` included); replaces come from the provider's
  `replaces` plus the `replace_on_changes` option; delete-before-replace from the option or the
  provider. A "same" step stores the new checked inputs and keeps the old outputs.
- Secrets: the provider sees plain values (the dynamic host does not accept secrets); an output is
  secret when the same-named input was secret or it is in `additional_secret_outputs`; secret
  outputs go back to the program as secrets. Configure gets the whole config, namespaced keys,
  decrypted values (secret ones wrapped as secrets in `args`, as the engine sends them).
- Previews never call Create/Update/Delete: new resources get an unknown id and unknown outputs,
  updated ones unknown outputs, unchanged ones their old outputs. Unknown inputs reach Check as the
  unknown sentinel `rpc.UNKNOWN`.
- A failed step leaves that resource's old state, is reported to the program as failed (its outputs
  become unknown, like `--continue-on-error`), resources depending on it are skipped, and the
  deployment continues; `Result.ok` is False. Resources missing from the program are deleted after
  the program finished (not when the program raised), dependents first; so is `destroy`.
- `X.get(name, id)` (a `ReadResource`) is a read step, in previews too: Read with the id and the
  program's properties as inputs; an empty id fails the program; the resource is kept in the state as
  external (never deleted).
- `refresh` reads every resource (old outputs and inputs); an empty id drops it, returned inputs
  replace the stored ones. `ignore_changes` (top-level keys), `protect` and `retain_on_delete` work.

Not emulated: component resources (no state, no steps), resource references, `import`, aliases,
transforms and hooks, nested `ignore_changes` paths, detailed diffs, custom timeouts, a replaced
resource's dependents being replaced with it. The old resource of a create-before-delete replacement
is deleted right after its replacement is created (the engine waits for the end of the update); if
that delete fails it stays in `Engine.pending_deletes` and is retried by the next `up`/`destroy`.
`collect` alone (without an `Engine`) answers registrations with the inputs as outputs and the id
`<name>-id` (unknown outputs and id in preview).
"""

from __future__ import annotations

import asyncio
import codecs
import contextvars
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Literal

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockCallArgs, MockEngine, MockMonitor, MockResourceArgs, Mocks, MockSettings
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2, provider_pb2_grpc, resource_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_KEY = "__provider"

Program = Callable[[], object]
Op = Literal["create", "update", "replace", "delete", "same", "read", "refresh-delete"]
Outcome = tuple[str, dict[str, Any], bool]  # (id, outputs, ok) answered to the program


# ----------------------------------------------------------------------------- wire helpers


def _plain(value: Any) -> Any:
    """Unknowns become the `rpc.UNKNOWN` sentinel string; secret wrappers are removed."""
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if rpc.is_rpc_secret(value):
        return _plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Serialize a plain dict as the SDK does (`None` values are dropped)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(dict(props), {}))
    finally:
        loop.close()


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    props: dict[str, Any] = _plain(rpc.deserialize_properties(struct, keep_unknowns=True))
    return props


def _mark_secrets(props: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    secret = set(keys)
    return {k: rpc.wrap_rpc_secret(v) if k in secret else v for k, v in props.items()}


def _ns(key: str, project: str) -> str:
    """Config keys without a namespace belong to the project."""
    return key if ":" in key else f"{project}:{key}"


def _namespaced(config: Mapping[str, str] | None, project: str) -> dict[str, str]:
    return {_ns(k, project): v for k, v in (config or {}).items()}


def urn_name(urn: str) -> str:
    return urn.split("::", 3)[-1]


def urn_type(urn: str) -> str:
    return urn.split("::")[2].rsplit("$", 1)[-1]


# ----------------------------------------------------------------------------- registrations


@dataclass(frozen=True)
class Registration:
    """One `RegisterResource` request, as the engine receives it."""

    type: str
    name: str
    urn: str
    custom: bool
    parent: str
    inputs: dict[str, Any]  # secrets unwrapped, unknowns as rpc.UNKNOWN, `__provider` included
    secret_inputs: frozenset[str]  # top-level keys whose value was (or contained) a secret
    additional_secret_outputs: tuple[str, ...] = ()
    delete_before_replace: bool = False
    replace_on_changes: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    protect: bool = False
    retain_on_delete: bool = False
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    read_id: str = ""  # set for a `ReadResource` (`X.get(name, id)`): the existing resource's id

    @property
    def secret_outputs(self) -> frozenset[str]:
        return self.secret_inputs | frozenset(self.additional_secret_outputs)

    @staticmethod
    def from_read_request(request: resource_pb2.ReadResourceRequest, urn: str) -> Registration:
        raw: dict[str, Any] = rpc.deserialize_properties(request.properties, keep_unknowns=True)
        return Registration(
            type=request.type,
            name=request.name,
            urn=urn,
            custom=True,
            parent=request.parent,
            inputs={k: _plain(v) for k, v in raw.items()},
            secret_inputs=frozenset(k for k, v in raw.items() if rpc.is_rpc_secret(v)),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            dependencies=tuple(request.dependencies),
            read_id=request.id,
        )

    @staticmethod
    def from_request(request: resource_pb2.RegisterResourceRequest, urn: str) -> Registration:
        raw: dict[str, Any] = rpc.deserialize_properties(request.object, keep_unknowns=True)
        return Registration(
            type=request.type,
            name=request.name,
            urn=urn,
            custom=request.custom,
            parent=request.parent,
            inputs={k: _plain(v) for k, v in raw.items()},
            secret_inputs=frozenset(k for k, v in raw.items() if rpc.is_rpc_secret(v)),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            delete_before_replace=request.deleteBeforeReplace,
            replace_on_changes=tuple(request.replaceOnChanges),
            ignore_changes=tuple(request.ignoreChanges),
            protect=request.protect,
            retain_on_delete=request.retainOnDelete,
            dependencies=tuple(request.dependencies),
            property_dependencies={k: tuple(v.urns) for k, v in request.propertyDependencies.items()},
        )


class _NoMocks(Mocks):
    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        return args.resource_id or "", dict(args.inputs)


class _Monitor(MockMonitor):
    """A resource monitor that hands every custom resource registration to `handler`."""

    def __init__(self, handler: Callable[[Registration], Outcome], project: str, stack: str) -> None:
        super().__init__(_NoMocks())
        self._handler = handler
        self._project, self._stack = project, stack
        self._lock = threading.Lock()
        self.registrations: list[Registration] = []
        self.stack_outputs: dict[str, Any] = {}
        self.stack_urn = ""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # Like the engine (and unlike MockMonitor): the root stack's type is not part of child URNs.
        if parent and (parent_type := parent.split("::")[2]) != STACK_TYPE:
            type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{self._stack}::{self._project}::{type_}::{name}"

    def RegisterResource(
        self, request: resource_pb2.RegisterResourceRequest
    ) -> resource_pb2.RegisterResourceResponse:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()  # type: ignore[no-untyped-call]
        reg = Registration.from_request(request, urn)
        with self._lock:
            self.registrations.append(reg)
        id_, outputs, ok = self._handler(reg) if reg.custom else ("", {}, True)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, outputs)
        return resource_pb2.RegisterResourceResponse(
            urn=urn,
            id=id_,
            object=to_struct(outputs),
            result=resource_pb2.Result.SUCCESS if ok else resource_pb2.Result.FAIL,
        )

    def ReadResource(self, request: resource_pb2.ReadResourceRequest) -> resource_pb2.ReadResourceResponse:
        """`X.get(name, id)`: the engine reads the existing resource (a failed read fails the program)."""
        urn = self.make_urn(request.parent, request.type, request.name)
        _ensure_event_loop()  # type: ignore[no-untyped-call]
        reg = Registration.from_read_request(request, urn)
        with self._lock:
            self.registrations.append(reg)
        id_, outputs, ok = self._handler(reg)
        if not ok:
            raise RuntimeError(f"reading {urn} (id {request.id!r}) failed")
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, outputs)
        return resource_pb2.ReadResourceResponse(urn=urn, properties=to_struct(outputs))

    def RegisterResourceOutputs(
        self, request: resource_pb2.RegisterResourceOutputsRequest
    ) -> empty_pb2.Empty:
        if request.urn == self.stack_urn:
            self.stack_outputs = from_struct(request.outputs)
        return empty_pb2.Empty()


def _report_without_traceback(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The program loop's report of a future whose error nobody awaited (a failed program's outputs),
    in one line: the default handler formats a traceback, and on CPython 3.11 that parses source,
    which raises SystemError when the finalizer runs inside another `ast.parse` (pytest's rewriting)."""
    error = context.get("exception")
    sys.stderr.write(f"{context.get('message', 'asyncio')}: {error!r}\n")


def _run_program(
    program: Program,
    monitor: _Monitor,
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: Iterable[str],
    preview: bool,
) -> BaseException | None:
    """Run `program` the way `python -m pulumi` does, in a copied context (runs do not leak)."""

    def go() -> None:
        _ensure_event_loop().set_exception_handler(_report_without_traceback)  # type: ignore[no-untyped-call]
        pulumi_settings.reset_options(project=project, stack=stack, preview=preview)
        pulumi_settings.configure(
            MockSettings(  # type: ignore[no-untyped-call]
                monitor=monitor,
                monitor_features=set(),
                engine=MockEngine(None),
                project=project,
                stack=stack,
                dry_run=preview,
                organization="organization",
                callbacks=None,
            )
        )
        set_all_config(dict(config), list(secret_keys))
        _sync_await(run_in_stack(program))  # type: ignore[arg-type]

    try:
        contextvars.copy_context().run(go)
    except Exception as exn:  # the program's own failure
        return exn
    return None


def collect(
    program: Program,
    *,
    project: str = "test",
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
    preview: bool = False,
) -> list[Registration]:
    """Run `program` and return what it registers (in arrival order). Re-raises the program's errors.

    Config keys without a namespace get the project's. Registrations are answered with the inputs as
    outputs and the id `<name>-id`, or, when `preview`, with an unknown id and unknown outputs.
    """

    def answer(reg: Registration) -> Outcome:
        if preview:
            return "", {}, True
        return reg.read_id or f"{reg.name}-id", _mark_secrets(reg.inputs, reg.secret_outputs), True

    monitor = _Monitor(answer, project, stack)
    error = _run_program(
        program,
        monitor,
        project=project,
        stack=stack,
        config=_namespaced(config, project),
        secret_keys=[_ns(k, project) for k in secret_keys],
        preview=preview,
    )
    if error is not None:
        raise error
    return list(monitor.registrations)


# ----------------------------------------------------------------------------- provider host


class ProviderError(Exception):
    """A gRPC error from the provider host; `message` is the details text, verbatim."""

    def __init__(self, op: str, urn: str, message: str, code: str = "") -> None:
        super().__init__(f"{op} {urn}: {message}")
        self.op, self.urn, self.message, self.code = op, urn, message, code


@dataclass(frozen=True)
class HostCheck:
    inputs: dict[str, Any]
    failures: tuple[tuple[str, str], ...]  # (property, reason)


@dataclass(frozen=True)
class HostDiff:
    changes: Literal["some", "none", "unknown"]
    replaces: tuple[str, ...]
    delete_before_replace: bool


@dataclass(frozen=True)
class HostRead:
    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None  # None when the provider returned no inputs


DIFF_CHANGES: dict[int, Literal["some", "none", "unknown"]] = {
    provider_pb2.DiffResponse.DIFF_SOME: "some",
    provider_pb2.DiffResponse.DIFF_NONE: "none",
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "unknown",
}


@dataclass(frozen=True)
class EngineLogEntry:
    """One line a plugin sent to the engine's `Log` RPC."""

    severity: str  # "DEBUG", "INFO", "WARNING", "ERROR"
    message: str
    urn: str


class EngineLogServer(engine_pb2_grpc.EngineServicer):
    """The engine's `Log` endpoint, the one part of the engine a plugin calls back: the CLI passes its
    address as the plugin's first argument. Records every line it receives."""

    def __init__(self) -> None:
        self.entries: list[EngineLogEntry] = []
        self._lock = threading.Lock()
        self._server: Any = None
        self.address = ""

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        entry = EngineLogEntry(engine_pb2.LogSeverity.Name(request.severity), request.message, request.urn)
        with self._lock:
            self.entries.append(entry)
        return empty_pb2.Empty()

    def start(self) -> EngineLogServer:
        self._server = grpc.server(ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self.address = f"127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(0)
            self._server = None

    def lines(self, severity: str | None = None) -> list[str]:
        with self._lock:
            return [e.message for e in self.entries if severity is None or e.severity == severity]


_running: set[PluginProcess] = set()  # started and not closed yet, whoever started them
_running_lock = threading.Lock()


def running_processes() -> set[PluginProcess]:
    """The plugin processes started and not closed yet (the test suite closes a test's leftovers)."""
    with _running_lock:
        return set(_running)


class PluginProcess:
    """A provider plugin process as the CLI runs one: started with the engine's address as its last
    argument, its gRPC port read from the first line of its stdout, its stdout and stderr kept for
    `logs()`. `env` is added to this process's environment (or replaces it when `inherit_env=False`)."""

    _what = "the plugin"  # names the process in errors

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None,
        inherit_env: bool,
        timeout: float,
        start_timeout: float,
    ) -> None:
        self.timeout = timeout
        self._start_timeout = start_timeout
        self._env = dict(env or {})
        self._inherit_env = inherit_env
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: Any = None
        self._stub: Any = None
        self._pumps: list[threading.Thread] = []
        self._log: list[str] = []
        self._log_lock = threading.Lock()
        self.engine_log = EngineLogServer()
        self.port = ""

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _process_env(self) -> dict[str, str]:
        env = dict(os.environ) if self._inherit_env else {}
        env.update(self._env)
        return env

    def _launch(
        self, command: Sequence[str], env: Mapping[str, str], cwd: str | os.PathLike[str] | None = None
    ) -> None:
        """Start `command`, wait for its port and connect to it."""
        self.engine_log.start()
        with _running_lock:
            _running.add(self)
        self._proc = subprocess.Popen(
            # The CLI passes the engine's address as the plugin's first argument.
            [*command, self.engine_log.address],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        first_line: queue.Queue[str] = queue.Queue()
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._pumps = [
            threading.Thread(target=self._pump, args=(self._proc.stdout, first_line), daemon=True),
            threading.Thread(target=self._pump, args=(self._proc.stderr, None), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()
        try:
            port = first_line.get(timeout=self._start_timeout).strip()
        except queue.Empty:
            port = ""
        if not port.isdigit():
            self.close()
            raise RuntimeError(f"{self._what} did not start (first line {port!r}):\n{self.logs()}")
        self.port = port
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self._channel).result(timeout=self._start_timeout)
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def _pump(self, stream: IO[bytes], first_line: queue.Queue[str] | None) -> None:
        if first_line is not None:
            first_line.put(stream.readline().decode(errors="replace"))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while chunk := stream.read1(65536):  # type: ignore[attr-defined]
            with self._log_lock:
                self._log.append(decoder.decode(chunk))

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = self._stub = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            for pump in self._pumps:
                pump.join(timeout=5)
            for stream in (self._proc.stdout, self._proc.stderr):
                if stream is not None:
                    stream.close()
            self._proc = None
        self.engine_log.stop()
        with _running_lock:
            _running.discard(self)

    def logs(self) -> str:
        """Everything the process wrote to stdout (after the port line) and stderr so far."""
        with self._log_lock:
            return "".join(self._log)

    def _invoke(self, op: str, urn: str, method: str, request: Any) -> Any:
        """Call RPC `method`; a gRPC error raises ProviderError."""
        if self._stub is None:
            raise RuntimeError(f"{self._what} is not running")
        try:
            return getattr(self._stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as exn:
            raise ProviderError(op, urn, str(exn.details() or exn), exn.code().name) from None


class ProviderHost(PluginProcess):
    """The real dynamic provider plugin process (`python -u -m pulumi.dynamic`), driven over gRPC.

    `pythonpath` entries (default: the repo root and `tests/`) are put in front of `PYTHONPATH`;
    `env` is added to this process's environment (or replaces it when `inherit_env=False`), and
    `PULUMI_PROJECT` is set to `project`, as the CLI does. Config keys without a namespace get the
    project's; `secret_keys` are sent as secrets (decrypted) in `Configure`'s `args`.
    """

    _what = "provider host"

    def __init__(
        self,
        *,
        project: str = "test",
        config: Mapping[str, str] | None = None,
        secret_keys: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        cwd: str | os.PathLike[str] | None = None,
        pythonpath: Sequence[str | os.PathLike[str]] | None = None,
        timeout: float = 60.0,
        start_timeout: float = 30.0,
    ) -> None:
        super().__init__(env=env, inherit_env=inherit_env, timeout=timeout, start_timeout=start_timeout)
        self.project = project
        self.config = _namespaced(config, project)
        self.secret_keys = frozenset(_ns(k, project) for k in secret_keys)
        self._cwd = cwd if cwd is not None else REPO_ROOT
        self._pythonpath = list(pythonpath) if pythonpath is not None else [REPO_ROOT, TESTS_DIR]

    # --- lifecycle

    def __enter__(self) -> ProviderHost:
        return self.start()

    def start(self) -> ProviderHost:
        env = self._process_env()
        env["PULUMI_PROJECT"] = self.project
        paths = [str(p) for p in self._pythonpath] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        self._launch([sys.executable, "-u", "-m", "pulumi.dynamic"], env, cwd=self._cwd)
        self.configure(self.config, self.secret_keys)
        return self

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def engine_lines(self, severity: str | None = None) -> list[str]:
        """What the host sent to the engine's log so far (optionally of one severity)."""
        return self.engine_log.lines(severity)

    # --- RPCs: plain dicts in and out; a gRPC error raises ProviderError

    def _call(self, op: str, urn: str, request: Any) -> Any:
        return self._invoke(op, urn, type(request).__name__.removesuffix("Request"), request)

    def _request(self, request_type: Any, urn: str, **fields: Any) -> Any:
        """A request for `urn`: dicts become structs; `name` and `type` come from the URN."""
        structs = {k: to_struct(v) if isinstance(v, Mapping) else v for k, v in fields.items()}
        return request_type(urn=urn, name=urn_name(urn), type=urn_type(urn), **structs)

    def configure(self, config: Mapping[str, str], secret_keys: Iterable[str] = ()) -> None:
        """Send `Configure`. The host configures each provider instance once, at its first use."""
        request = provider_pb2.ConfigureRequest(
            variables=dict(config),
            args=to_struct(_mark_secrets(config, secret_keys)),
            acceptSecrets=True,
            acceptResources=True,
            sends_old_inputs=True,
            sends_old_inputs_to_delete=True,
        )
        self._call("configure", "", request)

    def check(self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> HostCheck:
        resp = self._call("check", urn, self._request(provider_pb2.CheckRequest, urn, olds=olds, news=news))
        return HostCheck(from_struct(resp.inputs), tuple((f.property, f.reason) for f in resp.failures))

    def diff(
        self,
        urn: str,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        ignore_changes: Sequence[str] = (),
    ) -> HostDiff:
        request = self._request(
            provider_pb2.DiffRequest,
            urn,
            id=id_,
            olds=olds,
            news=news,
            old_inputs=old_inputs or {},
            ignoreChanges=list(ignore_changes),
        )
        resp = self._call("diff", urn, request)
        return HostDiff(DIFF_CHANGES[resp.changes], tuple(resp.replaces), bool(resp.deleteBeforeReplace))

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        request = self._request(provider_pb2.CreateRequest, urn, properties=props, timeout=self.timeout)
        resp = self._call("create", urn, request)
        return str(resp.id), from_struct(resp.properties)

    def update(
        self,
        urn: str,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        request = self._request(
            provider_pb2.UpdateRequest,
            urn,
            id=id_,
            olds=olds,
            news=news,
            old_inputs=old_inputs or {},
            timeout=self.timeout,
        )
        return from_struct(self._call("update", urn, request).properties)

    def read(
        self, urn: str, id_: str, props: Mapping[str, Any], inputs: Mapping[str, Any] | None = None
    ) -> HostRead:
        request = self._request(provider_pb2.ReadRequest, urn, id=id_, properties=props, inputs=inputs or {})
        resp = self._call("read", urn, request)
        inputs_out = from_struct(resp.inputs) if resp.HasField("inputs") else None
        return HostRead(str(resp.id), from_struct(resp.properties), inputs_out)

    def delete(
        self, urn: str, id_: str, props: Mapping[str, Any], *, old_inputs: Mapping[str, Any] | None = None
    ) -> None:
        request = self._request(
            provider_pb2.DeleteRequest,
            urn,
            id=id_,
            properties=props,
            old_inputs=old_inputs or {},
            timeout=self.timeout,
        )
        self._call("delete", urn, request)


# ----------------------------------------------------------------------------- engine


@dataclass(frozen=True)
class ResourceState:
    urn: str
    type: str
    name: str
    id: str
    inputs: dict[str, Any]  # checked inputs, `__provider` included
    outputs: dict[str, Any]
    secret_outputs: frozenset[str] = frozenset()
    delete_before_replace: bool = False
    protect: bool = False
    retain_on_delete: bool = False
    dependencies: tuple[str, ...] = ()
    parent: str = ""
    external: bool = False  # read with `X.get`: in the state, never deleted by the engine


@dataclass(frozen=True)
class Step:
    urn: str
    op: Op
    changes: tuple[str, ...] = ()  # input keys whose values differ (for read: output keys)
    replaces: tuple[str, ...] = ()
    failures: tuple[tuple[str, str], ...] = ()  # check failures: (property, reason)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.error is None

    @property
    def name(self) -> str:
        return urn_name(self.urn)


@dataclass
class Result:
    steps: list[Step]
    outputs: dict[str, Any] = field(default_factory=dict)  # the stack's exports
    error: BaseException | None = None  # the program's own exception

    @property
    def ok(self) -> bool:
        return self.error is None and all(s.ok for s in self.steps)

    @property
    def ops(self) -> dict[str, Op]:
        """Resource name -> step op."""
        return {s.name: s.op for s in self.steps}

    def step(self, name_or_urn: str) -> Step:
        for s in self.steps:
            if name_or_urn in (s.urn, s.name):
                return s
        raise KeyError(f"no step for {name_or_urn!r}; steps: {self.ops}")


def _changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(k for k in olds.keys() | news.keys() if olds.get(k) != news.get(k)))


class Engine:
    """Stack state plus the engine's operations, against one `ProviderHost`.

    `config` (default: the host's) is what the program sees through `pulumi.Config`. Each operation
    runs in a new host process, as each CLI command does (`fresh_process_per_run=False` keeps one).
    """

    def __init__(
        self,
        host: ProviderHost,
        *,
        project: str | None = None,
        stack: str = "dev",
        config: Mapping[str, str] | None = None,
        secret_keys: Iterable[str] | None = None,
        fresh_process_per_run: bool = True,
    ) -> None:
        self.host = host
        self.project = project or host.project
        self.stack = stack
        self.config = _namespaced(config, self.project) if config is not None else dict(host.config)
        self.secret_keys = (
            frozenset(_ns(k, self.project) for k in secret_keys)
            if secret_keys is not None
            else host.secret_keys
        )
        self.state: dict[str, ResourceState] = {}
        self.pending_deletes: list[ResourceState] = []
        self.fresh_process_per_run = fresh_process_per_run
        self._runs = 0
        self._lock = threading.Lock()

    # --- public operations

    def preview(self, program: Program, parallel: int = 4) -> Result:
        self._new_run()
        return self._deploy(program, preview=True, parallel=parallel)

    def up(self, program: Program, parallel: int = 4) -> Result:
        self._new_run()
        return self._deploy(program, preview=False, parallel=parallel)

    def refresh(self, parallel: int = 4) -> Result:
        self._new_run()
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            steps = list(pool.map(self._refresh_one, list(self.state.values())))
        return Result(steps)

    def destroy(self, parallel: int = 4) -> Result:
        self._new_run()
        return Result(self._delete_all([*self.state.values(), *self.pending_deletes], parallel))

    def _new_run(self) -> None:
        """Like the CLI, give every command a new provider host process (when `fresh_process_per_run`):
        whatever a provider keeps in memory lasts one command, not the whole test."""
        if self.fresh_process_per_run and self._runs:
            self.host.close()
            self.host.start()
        self._runs += 1

    def secret_plaintext_outputs(self) -> dict[str, dict[str, Any]]:
        """Every resource's outputs without its secret ones: what `pulumi stack export` shows in clear."""
        return {
            urn: {k: v for k, v in s.outputs.items() if k not in s.secret_outputs}
            for urn, s in self.state.items()
        }

    # --- deployments

    def _deploy(self, program: Program, *, preview: bool, parallel: int) -> Result:
        steps: list[Step] = []
        failed: set[str] = set()
        seen: set[str] = set()
        slots = threading.Semaphore(parallel)

        def on_register(reg: Registration) -> Outcome:
            with self._lock:
                seen.add(reg.urn)
            skip = [d for d in reg.dependencies if d in failed]
            if skip:
                step, outcome = Step(reg.urn, self._guess_op(reg), error=f"skipped: {skip[0]} failed"), None
            else:
                with slots:
                    step, outcome = self._register(reg, preview)
            with self._lock:
                steps.append(step)
                if outcome is None:
                    failed.add(reg.urn)
            if outcome is None:
                return "", {}, False
            id_, outputs = outcome
            return id_, _mark_secrets(outputs, reg.secret_outputs), True

        monitor = _Monitor(on_register, self.project, self.stack)
        error = _run_program(
            program,
            monitor,
            project=self.project,
            stack=self.stack,
            config=self.config,
            secret_keys=self.secret_keys,
            preview=preview,
        )
        if error is None:  # the engine deletes nothing when the program failed
            removed = [s for urn, s in self.state.items() if urn not in seen]
            if preview:
                steps += [Step(s.urn, "delete") for s in removed]
            else:
                steps += self._delete_all([*removed, *self.pending_deletes], parallel)
        return Result(steps, monitor.stack_outputs, error)

    def _guess_op(self, reg: Registration) -> Op:
        return "update" if reg.urn in self.state else "create"

    def _new_state(
        self, reg: Registration, id_: str, inputs: dict[str, Any], outputs: dict[str, Any]
    ) -> ResourceState:
        return ResourceState(
            urn=reg.urn,
            type=reg.type,
            name=reg.name,
            id=id_,
            inputs=inputs,
            outputs=outputs,
            secret_outputs=reg.secret_outputs,
            delete_before_replace=reg.delete_before_replace,
            protect=reg.protect,
            retain_on_delete=reg.retain_on_delete,
            dependencies=reg.dependencies,
            parent=reg.parent,
        )

    def _register(self, reg: Registration, preview: bool) -> tuple[Step, tuple[str, dict[str, Any]] | None]:
        """One resource's step. Returns the step and the (id, outputs) to answer, None on failure."""
        if reg.read_id:
            return self._read_existing(reg)
        urn, host, old = reg.urn, self.host, self.state.get(reg.urn)
        op: Op = "create" if old is None else "update"
        news = dict(reg.inputs)
        if old is not None:  # ignore_changes: keep the old input value
            for key in reg.ignore_changes:
                if key in old.inputs:
                    news[key] = old.inputs[key]
                else:
                    news.pop(key, None)
        try:
            checked = host.check(urn, old.inputs if old else {}, news)
            if checked.failures:
                return Step(urn, op, failures=checked.failures), None
            inputs = checked.inputs
            if old is None:
                if preview:
                    return Step(urn, "create"), ("", {})
                id_, outputs = host.create(urn, inputs)
                self.state[urn] = self._new_state(reg, id_, inputs, outputs)
                return Step(urn, "create"), (id_, outputs)

            changed = _changed_keys(old.inputs, inputs)
            diff = host.diff(
                urn, old.id, old.outputs, inputs, old_inputs=old.inputs, ignore_changes=reg.ignore_changes
            )
            if diff.changes == "none" or (diff.changes == "unknown" and not changed):
                if not preview:
                    self.state[urn] = self._new_state(reg, old.id, inputs, old.outputs)
                return Step(urn, "same"), (old.id, old.outputs)
            on_changes = set(reg.replace_on_changes)
            replaces = list(diff.replaces)
            replaces += [k for k in changed if ("*" in on_changes or k in on_changes) and k not in replaces]
            if not replaces:
                if preview:
                    return Step(urn, "update", changed), (old.id, {})
                outputs = host.update(urn, old.id, old.outputs, inputs, old_inputs=old.inputs)
                self.state[urn] = self._new_state(reg, old.id, inputs, outputs)
                return Step(urn, "update", changed), (old.id, outputs)

            op = "replace"
            step = Step(urn, op, changed, tuple(replaces))
            if old.protect:
                return replace(step, error=f"unable to replace {urn}: it is protected"), None
            if preview:
                return step, ("", {})
            if reg.delete_before_replace or diff.delete_before_replace:
                self._provider_delete(old)
                with self._lock:
                    del self.state[urn]
                id_, outputs = host.create(urn, inputs)
                self.state[urn] = self._new_state(reg, id_, inputs, outputs)
                return step, (id_, outputs)
            id_, outputs = host.create(urn, inputs)
            self.state[urn] = self._new_state(reg, id_, inputs, outputs)
            try:
                self._provider_delete(old)
            except ProviderError as exn:
                with self._lock:
                    self.pending_deletes.append(old)
                step = replace(step, error=f"deleting the replaced resource failed: {exn.message}")
            return step, (id_, outputs)
        except ProviderError as exn:
            return Step(urn, op, error=exn.message), None

    # --- deletes and refresh

    def _read_existing(self, reg: Registration) -> tuple[Step, tuple[str, dict[str, Any]] | None]:
        """A read step (also in previews, as the engine runs them): Read with the id and the program's
        properties as inputs (only `__provider` for a dynamic resource), no stored outputs."""
        try:
            read = self.host.read(reg.urn, reg.read_id, {}, reg.inputs)
        except ProviderError as exn:
            return Step(reg.urn, "read", error=exn.message), None
        if not read.id:
            return Step(reg.urn, "read", error=f"resource '{reg.read_id}' does not exist"), None
        inputs = read.inputs if read.inputs is not None else dict(reg.inputs)
        with self._lock:
            self.state[reg.urn] = replace(self._new_state(reg, read.id, inputs, read.outputs), external=True)
        return Step(reg.urn, "read"), (read.id, read.outputs)

    def _provider_delete(self, s: ResourceState) -> None:
        if not s.retain_on_delete and not s.external:
            self.host.delete(s.urn, s.id, s.outputs, old_inputs=s.inputs)

    def _delete_one(self, s: ResourceState) -> Step:
        if s.protect:
            return Step(s.urn, "delete", error=f"unable to delete {s.urn}: it is protected")
        try:
            self._provider_delete(s)
        except ProviderError as exn:
            return Step(s.urn, "delete", error=exn.message)
        with self._lock:
            if self.state.get(s.urn) is s:
                del self.state[s.urn]
            self.pending_deletes = [p for p in self.pending_deletes if p is not s]
        return Step(s.urn, "delete")

    def _delete_all(self, victims: list[ResourceState], parallel: int) -> list[Step]:
        """Delete concurrently, every resource only after the ones that depend on it (or are its children)."""
        after = {
            i: {j for j, o in enumerate(victims) if j != i and (v.urn in o.dependencies or o.parent == v.urn)}
            for i, v in enumerate(victims)
        }
        done: dict[int, Step] = {}
        running: dict[Future[Step], int] = {}
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            while len(done) < len(victims):
                progress = len(done)
                for i, v in enumerate(victims):
                    if i in done or i in running.values() or not after[i] <= done.keys():
                        continue
                    blocked = [victims[j].urn for j in after[i] if not done[j].ok]
                    if blocked:
                        done[i] = Step(v.urn, "delete", error=f"skipped: {blocked[0]} was not deleted")
                    else:
                        running[pool.submit(self._delete_one, v)] = i
                if not running:
                    if len(done) == progress:
                        raise RuntimeError("dependency cycle among resources to delete")
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    done[running.pop(fut)] = fut.result()
        return [done[i] for i in range(len(victims))]

    def _refresh_one(self, s: ResourceState) -> Step:
        try:
            read = self.host.read(s.urn, s.id, s.outputs, s.inputs)
        except ProviderError as exn:
            return Step(s.urn, "read", error=exn.message)
        with self._lock:
            if not read.id:
                self.state.pop(s.urn, None)
                return Step(s.urn, "refresh-delete")
            inputs = read.inputs if read.inputs is not None else s.inputs
            self.state[s.urn] = replace(s, id=read.id, outputs=read.outputs, inputs=inputs)
        return Step(s.urn, "read", _changed_keys(s.outputs, read.outputs))
