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

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import DIFF_CHANGES, PluginProcess, to_struct
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2

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


class PluginHost(PluginProcess):
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
        super().__init__(env=env, inherit_env=inherit_env, timeout=timeout, start_timeout=start_timeout)
        self.command = list(command) if command is not None else [str(EXECUTABLE)]

    def __enter__(self) -> PluginHost:
        return self.start()

    def start(self) -> PluginHost:
        self._launch(self.command, self._process_env())
        return self

    # --- RPCs

    def get_schema(self) -> str:
        return str(self._invoke("schema", "", "GetSchema", provider_pb2.GetSchemaRequest(version=0)).schema)

    def check_config(self, news: PropsLike, olds: PropsLike | None = None) -> PluginCheck:
        target = urn(f"pulumi:providers:{PACKAGE}", "default")
        request = provider_pb2.CheckRequest(
            urn=target, olds=_props(olds or {}).wire(), news=_props(news).wire()
        )
        resp = self._invoke("checkConfig", target, "CheckConfig", request)
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
        self._invoke("configure", "", "Configure", request)
        return checked

    def check(self, target: str, olds: PropsLike, news: PropsLike) -> PluginCheck:
        request = provider_pb2.CheckRequest(urn=target, olds=_props(olds).wire(), news=_props(news).wire())
        resp = self._invoke("check", target, "Check", request)
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
        resp = self._invoke("diff", target, "Diff", request)
        detailed = {
            k: (provider_pb2.PropertyDiff.Kind.Name(v.kind), bool(v.inputDiff))
            for k, v in resp.detailedDiff.items()
        }
        return PluginDiff(
            DIFF_CHANGES[resp.changes],
            tuple(resp.replaces),
            bool(resp.deleteBeforeReplace),
            tuple(resp.diffs),
            detailed,
        )

    def create(self, target: str, props: PropsLike, *, timeout: float = 0.0) -> tuple[str, Props]:
        request = provider_pb2.CreateRequest(urn=target, properties=_props(props).wire(), timeout=timeout)
        resp = self._invoke("create", target, "Create", request)
        return str(resp.id), Props.from_wire(resp.properties)

    def read(
        self, target: str, id_: str, props: PropsLike | None = None, inputs: PropsLike | None = None
    ) -> PluginRead:
        """Refresh: the stored outputs and inputs; `pulumi import`: only the id."""
        request = provider_pb2.ReadRequest(
            urn=target, id=id_, properties=_props(props or {}).wire(), inputs=_props(inputs or {}).wire()
        )
        resp = self._invoke("read", target, "Read", request)
        return PluginRead(str(resp.id), Props.from_wire(resp.properties), Props.from_wire(resp.inputs))

    def update(self, target: str, id_: str, olds: PropsLike, news: PropsLike) -> Props:
        request = provider_pb2.UpdateRequest(
            urn=target, id=id_, olds=_props(olds).wire(), news=_props(news).wire()
        )
        return Props.from_wire(self._invoke("update", target, "Update", request).properties)

    def delete(self, target: str, id_: str, props: PropsLike) -> None:
        request = provider_pb2.DeleteRequest(urn=target, id=id_, properties=_props(props).wire())
        self._invoke("delete", target, "Delete", request)
