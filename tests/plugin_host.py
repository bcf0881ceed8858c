"""Play the Pulumi engine against the native `webhooks` plugin, as the CLI starts and drives it.

The CLI runs the plugin executable with the engine's address as its argument (`pulumi-resource-webhooks
127.0.0.1:PORT`), reads the plugin's port from the first line of its stdout, and calls it over gRPC:
`CheckConfig` then `Configure` with the provider's configuration (namespaced `variables`, and `args`
with secret values marked secret), then `Check`, `Diff`, `Create`, `Read`, `Update`, `Delete` with
camelCase property maps. `PluginHost` does the same; `EngineLogServer` (tests/engine.py) is the engine
address, recording what the plugin logs.

Property maps go in and come out as `Props`: plain values plus the names of the secret ones, so tests
can see what the plugin marks secret. Unknown values (a preview) are `engine.UNKNOWN`.
"""

from __future__ import annotations

import codecs
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
from engine import EngineLogServer, ProviderError, to_struct
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

PACKAGE = "webhooks"
EXECUTABLE = Path(sys.executable).with_name("pulumi-resource-webhooks")
UNKNOWN = rpc.UNKNOWN


def urn(token: str, name: str, *, stack: str = "dev", project: str = "test") -> str:
    return f"urn:pulumi:{stack}::{project}::{token}::{name}"


@dataclass(frozen=True)
class Props:
    """A property map as the engine sees it: values (secrets unwrapped) and which keys were secret."""

    values: dict[str, Any]
    secrets: frozenset[str] = frozenset()

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.values

    @staticmethod
    def of(values: Mapping[str, Any], secrets: Iterable[str] = ()) -> Props:
        return Props(dict(values), frozenset(secrets))

    def wire(self) -> struct_pb2.Struct:
        return to_struct(
            {k: rpc.wrap_rpc_secret(v) if k in self.secrets else v for k, v in self.values.items()}
        )

    @staticmethod
    def from_wire(struct: struct_pb2.Struct) -> Props:
        raw: dict[str, Any] = rpc.deserialize_properties(struct, keep_unknowns=True)
        secrets = frozenset(k for k, v in raw.items() if _contains_secret(v))
        return Props({k: _unwrap(v) for k, v in raw.items()}, secrets)


def _contains_secret(value: Any) -> bool:
    if rpc.is_rpc_secret(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)
    return False


def _unwrap(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return _unwrap(rpc.unwrap_rpc_secret(value))
    if type(value).__name__ == "Unknown":
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


PropsLike = Props | Mapping[str, Any]


def _props(value: PropsLike) -> Props:
    return value if isinstance(value, Props) else Props.of(value)


@dataclass(frozen=True)
class PluginCheck:
    inputs: Props
    failures: tuple[tuple[str, str], ...]  # (property, reason)


@dataclass(frozen=True)
class PluginDiff:
    changes: str  # "some", "none" or "unknown"
    replaces: tuple[str, ...]
    delete_before_replace: bool
    diffs: tuple[str, ...]
    detailed: dict[str, tuple[str, bool]] = field(default_factory=dict)  # property -> (kind name, inputDiff)


@dataclass(frozen=True)
class PluginRead:
    id: str
    outputs: Props
    inputs: Props


_CHANGES = {
    provider_pb2.DiffResponse.DIFF_SOME: "some",
    provider_pb2.DiffResponse.DIFF_NONE: "none",
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "unknown",
}


class PluginHost:
    """One plugin process (one provider instance, as the CLI starts one per provider resource).

    `command` defaults to the installed `pulumi-resource-webhooks`; `env` is the process's whole
    environment when `inherit_env=False`, else added to this one's."""

    def __init__(
        self,
        *,
        command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        timeout: float = 60.0,
        start_timeout: float = 30.0,
    ) -> None:
        self.command = list(command) if command is not None else [str(EXECUTABLE)]
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

    def __enter__(self) -> PluginHost:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self) -> PluginHost:
        env = dict(os.environ) if self._inherit_env else {}
        env.update(self._env)
        self.engine_log.start()
        self._proc = subprocess.Popen(
            [*self.command, self.engine_log.address],
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
            raise RuntimeError(f"the plugin did not start (first line {port!r}):\n{self.logs()}")
        self.port = port
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self._channel).result(timeout=self._start_timeout)
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        return self

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

    def logs(self) -> str:
        """What the plugin wrote to stdout (after the port) and stderr so far."""
        with self._log_lock:
            return "".join(self._log)

    # --- RPCs

    def _call(self, op: str, target: str, method: str, request: Any) -> Any:
        if self._stub is None:
            raise RuntimeError("the plugin is not running")
        try:
            return getattr(self._stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as exn:
            raise ProviderError(op, target, str(exn.details() or exn), exn.code().name) from None

    def get_schema(self) -> str:
        return str(self._call("schema", "", "GetSchema", provider_pb2.GetSchemaRequest(version=0)).schema)

    def check_config(self, news: PropsLike, olds: PropsLike | None = None) -> PluginCheck:
        target = urn(f"pulumi:providers:{PACKAGE}", "default")
        request = provider_pb2.CheckRequest(
            urn=target, olds=_props(olds or {}).wire(), news=_props(news).wire()
        )
        resp = self._call("checkConfig", target, "CheckConfig", request)
        return PluginCheck(Props.from_wire(resp.inputs), tuple((f.property, f.reason) for f in resp.failures))

    def configure(self, config: Mapping[str, str], secret_keys: Iterable[str] = ()) -> PluginCheck:
        """What the engine does for a provider: `CheckConfig` of the config (keys without the
        `webhooks:` prefix), then `Configure` with the checked values as `args` and the namespaced
        strings as `variables`. Returns the check (failures stop before `Configure`, as the engine does)."""
        checked = self.check_config(Props.of(config, secret_keys))
        if checked.failures:
            return checked
        request = provider_pb2.ConfigureRequest(
            variables={f"{PACKAGE}:{k}": str(v) for k, v in config.items()},
            args=checked.inputs.wire(),
            acceptSecrets=True,
            acceptResources=True,
        )
        self._call("configure", "", "Configure", request)
        return checked

    def check(self, target: str, olds: PropsLike, news: PropsLike) -> PluginCheck:
        request = provider_pb2.CheckRequest(urn=target, olds=_props(olds).wire(), news=_props(news).wire())
        resp = self._call("check", target, "Check", request)
        return PluginCheck(Props.from_wire(resp.inputs), tuple((f.property, f.reason) for f in resp.failures))

    def diff(
        self, target: str, id_: str, olds: PropsLike, news: PropsLike, *, ignore_changes: Sequence[str] = ()
    ) -> PluginDiff:
        request = provider_pb2.DiffRequest(
            urn=target,
            id=id_,
            olds=_props(olds).wire(),
            news=_props(news).wire(),
            ignoreChanges=list(ignore_changes),
        )
        resp = self._call("diff", target, "Diff", request)
        detailed = {
            k: (provider_pb2.PropertyDiff.Kind.Name(v.kind), bool(v.inputDiff))
            for k, v in resp.detailedDiff.items()
        }
        return PluginDiff(
            _CHANGES[resp.changes],
            tuple(resp.replaces),
            bool(resp.deleteBeforeReplace),
            tuple(resp.diffs),
            detailed,
        )

    def create(self, target: str, props: PropsLike, *, timeout: float = 0.0) -> tuple[str, Props]:
        request = provider_pb2.CreateRequest(urn=target, properties=_props(props).wire(), timeout=timeout)
        resp = self._call("create", target, "Create", request)
        return str(resp.id), Props.from_wire(resp.properties)

    def read(
        self, target: str, id_: str, props: PropsLike | None = None, inputs: PropsLike | None = None
    ) -> PluginRead:
        """Refresh: the stored outputs and inputs; `pulumi import`: only the id."""
        request = provider_pb2.ReadRequest(
            urn=target, id=id_, properties=_props(props or {}).wire(), inputs=_props(inputs or {}).wire()
        )
        resp = self._call("read", target, "Read", request)
        return PluginRead(str(resp.id), Props.from_wire(resp.properties), Props.from_wire(resp.inputs))

    def update(self, target: str, id_: str, olds: PropsLike, news: PropsLike) -> Props:
        request = provider_pb2.UpdateRequest(
            urn=target, id=id_, olds=_props(olds).wire(), news=_props(news).wire()
        )
        return Props.from_wire(self._call("update", target, "Update", request).properties)

    def delete(self, target: str, id_: str, props: PropsLike) -> None:
        request = provider_pb2.DeleteRequest(urn=target, id=id_, properties=_props(props).wire())
        self._call("delete", target, "Delete", request)
