"""Self-test of tests/engine.py against the real dynamic provider host and the echo fixture provider."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from engine import Engine, ProviderError, ProviderHost, collect
from fixtures.echo_provider import Thing, load_store, save_store
from pulumi.runtime import rpc

TYPE = "pulumi-python:dynamic/fixtures_echo:Thing"
CONFIG = {"greeting": "hello", "echo:apiKey": "key-SECRET-123"}
SECRET_KEYS = ["echo:apiKey"]
TOKEN = "tok-SECRET-456"


def urn(name: str) -> str:
    return f"urn:pulumi:dev::test::{TYPE}::{name}"


def things(spec: dict[str, dict[str, Any]]) -> Callable[[], None]:
    """A program declaring one Thing per entry: resource name -> keyword arguments."""

    def program() -> None:
        for resource_name, kwargs in spec.items():
            Thing(resource_name, **kwargs)

    return program


def has_provider(props: dict[str, Any]) -> bool:
    return isinstance(props.get("__provider"), str)


def calls(store: Path, op: str) -> int:
    return sum(1 for call_op, _ in load_store(store)["calls"] if call_op == op)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store.json"


def start_host(store: Path, **env: str) -> ProviderHost:
    return ProviderHost(config=CONFIG, secret_keys=SECRET_KEYS, env={"ECHO_STORE": str(store), **env}).start()


@pytest.fixture
def host(store: Path) -> Iterator[ProviderHost]:
    host = start_host(store)
    try:
        yield host
    finally:
        host.close()


@pytest.fixture
def engine(host: ProviderHost) -> Engine:
    return Engine(host)


# ----------------------------------------------------------------------------- collect


def test_collect_records_registration() -> None:
    def program() -> None:
        value = pulumi.Config().require("greeting")
        opts = pulumi.ResourceOptions(
            additional_secret_outputs=["value"], delete_before_replace=True, ignore_changes=["name"]
        )
        Thing("a", name="alpha", value=value, token=TOKEN, opts=opts)

    (reg,) = collect(program, config=CONFIG, secret_keys=SECRET_KEYS)
    assert (reg.type, reg.name, reg.urn, reg.custom) == (TYPE, "a", urn("a"), True)
    assert reg.parent == "urn:pulumi:dev::test::pulumi:pulumi:Stack::test-dev"
    assert reg.inputs["value"] == "hello"  # config reached the program
    assert reg.inputs["token"] == TOKEN  # unwrapped, but flagged secret
    assert reg.secret_inputs == {"token", "__provider"}
    assert reg.secret_outputs == {"token", "__provider", "value"}
    assert (reg.delete_before_replace, reg.ignore_changes) == (True, ("name",))
    pickled = base64.b64decode(reg.inputs["__provider"])  # the provider is pickled by reference
    assert b"fixtures.echo_provider" in pickled and b"EchoProvider" in pickled and len(pickled) < 200


def test_collect_twice_and_unknowns_in_preview() -> None:
    def program() -> None:
        a = Thing("a", name="alpha", value=pulumi.Config().get("greeting") or "none")
        Thing("b", name=a.id, value="x")

    first = {r.name: r for r in collect(program, config={"greeting": "one"})}
    second = {r.name: r for r in collect(program, config={"greeting": "two"}, preview=True)}
    assert first["a"].inputs["value"] == "one" and second["a"].inputs["value"] == "two"
    assert first["b"].inputs["name"] == "a-id"
    assert second["b"].inputs["name"] == rpc.UNKNOWN
    assert second["b"].dependencies == (urn("a"),)
    assert {r.name for r in collect(things({}))} == set()


# ----------------------------------------------------------------------------- engine


def test_preview_calls_no_create_and_passes_unknowns(engine: Engine, store: Path) -> None:
    def program() -> None:
        a = Thing("a", name="alpha", value="1")
        Thing("b", name=a.id, value="2")  # unknown in preview: reaches Check as the sentinel

    result = engine.preview(program)
    assert result.ok, result
    assert result.ops == {"a": "create", "b": "create"}
    assert engine.state == {}
    assert not store.exists() or calls(store, "create") == 0
    provider = collect(program)[0].inputs["__provider"]
    checked = engine.host.check(urn("b"), {}, {"name": rpc.UNKNOWN, "value": "2", "__provider": provider})
    assert checked.inputs["name"] == rpc.UNKNOWN and checked.failures == ()


def test_up_create_noop_update_replace_remove(engine: Engine, store: Path) -> None:
    spec = {"a": {"name": "alpha", "value": "1", "token": TOKEN}, "b": {"name": "beta", "value": "1"}}
    result = engine.up(things(spec))
    assert result.ok and result.ops == {"a": "create", "b": "create"}
    a = engine.state[urn("a")]
    assert load_store(store)["things"][a.id]["value"] == "1"
    assert a.outputs["greeting"] == "hello"  # Configure reached the provider (namespaced by project)
    assert a.outputs["api_key_len"] == len("key-SECRET-123")  # secret config arrives decrypted
    assert has_provider(a.inputs) and has_provider(a.outputs)

    # no-op: Diff says nothing changed, no Update call
    result = engine.up(things(spec))
    assert result.ok and result.ops == {"a": "same", "b": "same"}
    assert calls(store, "update") == 0

    # in-place update; the returned outputs replace the old ones
    spec["a"]["value"] = "2"
    preview = engine.preview(things(spec))
    assert preview.step("a").op == "update" and engine.state[urn("a")].outputs["value"] == "1"
    result = engine.up(things(spec))
    assert result.ok and result.step("a").op == "update" and result.step("a").changes == ("value",)
    assert engine.state[urn("a")].outputs["revision"] == 2 and engine.state[urn("a")].id == a.id
    assert calls(store, "update") == 1

    # replace (create before delete)
    spec["a"]["name"] = "alpha2"
    result = engine.up(things(spec))
    step = result.step("a")
    assert result.ok and (step.op, step.replaces) == ("replace", ("name",))
    new_id = engine.state[urn("a")].id
    assert new_id != a.id and set(load_store(store)["things"]) == {new_id, engine.state[urn("b")].id}
    recorded = [c for c in load_store(store)["calls"] if c[1] in (a.id, new_id) and c[0] != "read"]
    assert recorded[-2:] == [["create", new_id], ["delete", a.id]]

    # removal from the program deletes
    del spec["b"]
    assert engine.preview(things(spec)).ops == {"a": "same", "b": "delete"}
    result = engine.up(things(spec))
    assert result.ok and result.ops == {"a": "same", "b": "delete"}
    assert set(engine.state) == {urn("a")} and set(load_store(store)["things"]) == {new_id}


@pytest.mark.parametrize("source", ["option", "provider"])
def test_delete_before_replace(engine: Engine, store: Path, source: str) -> None:
    opts = pulumi.ResourceOptions(delete_before_replace=source == "option")
    value = "dbr" if source == "provider" else "1"
    engine.up(things({"a": {"name": "alpha", "value": value, "opts": opts}}))
    old = engine.state[urn("a")].id
    result = engine.up(things({"a": {"name": "alpha2", "value": value, "opts": opts}}))
    assert result.ok and result.step("a").op == "replace"
    new = engine.state[urn("a")].id
    recorded = [c for c in load_store(store)["calls"] if c[0] in ("create", "delete")]
    assert recorded[-2:] == [["delete", old], ["create", new]]


def test_diff_unknown_makes_engine_compare_inputs(engine: Engine) -> None:
    engine.up(things({"a": {"name": "alpha", "value": "1"}}))
    result = engine.up(things({"a": {"name": "alpha", "value": "nodiff"}}))
    assert result.ok and result.step("a").op == "update" and result.step("a").changes == ("value",)
    assert engine.up(things({"a": {"name": "alpha", "value": "nodiff"}})).ops == {"a": "same"}


def test_refresh_sees_out_of_band_edit_and_deletion(engine: Engine, store: Path) -> None:
    spec = {"a": {"name": "alpha", "value": "1"}, "b": {"name": "beta", "value": "1"}}
    engine.up(things(spec))
    a, b = engine.state[urn("a")], engine.state[urn("b")]
    data = load_store(store)
    data["things"][a.id]["value"] = "edited"
    del data["things"][b.id]
    save_store(data, store)

    result = engine.refresh()
    assert result.ok and result.ops == {"a": "read", "b": "refresh-delete"}
    assert result.step("a").changes == ("value",)
    assert set(engine.state) == {urn("a")}
    assert engine.state[urn("a")].outputs["value"] == "edited"
    assert engine.state[urn("a")].inputs["value"] == "edited"  # ReadResult.inputs replace the inputs
    assert has_provider(engine.state[urn("a")].inputs)

    result = engine.up(things(spec))  # puts back what the program declares
    assert result.ok and result.ops == {"a": "update", "b": "create"}
    assert load_store(store)["things"][a.id]["value"] == "1"


def test_destroy_deletes_dependents_first(engine: Engine, store: Path) -> None:
    def program() -> None:
        a = Thing("a", name="alpha", value="1")
        Thing("b", name="beta", value=a.id)

    assert engine.up(program).ok
    assert engine.state[urn("b")].dependencies == (urn("a"),)
    assert engine.state[urn("b")].inputs["value"] == engine.state[urn("a")].id  # real outputs flow
    ids = [engine.state[urn("b")].id, engine.state[urn("a")].id]
    result = engine.destroy()
    assert result.ok and result.ops == {"a": "delete", "b": "delete"}
    assert engine.state == {} and load_store(store)["things"] == {}
    assert [c[1] for c in load_store(store)["calls"] if c[0] == "delete"] == ids


def test_check_failure_names_the_property(engine: Engine, store: Path) -> None:
    spec = {"a": {"name": "alpha", "value": "bad"}, "b": {"name": "beta", "value": "1"}}
    for result in (engine.preview(things(spec)), engine.up(things(spec))):
        assert not result.ok
        assert result.step("a").failures == (("value", "value must not be 'bad'"),)
        assert result.step("b").ok
    assert set(engine.state) == {urn("b")}


def test_create_failure_keeps_state_and_skips_dependents(engine: Engine, host: ProviderHost) -> None:
    def program() -> None:
        a = Thing("a", name="alpha", value="explode")
        Thing("b", name="beta", value=a.id)
        Thing("c", name="gamma", value="1")

    result = engine.up(program)
    assert not result.ok and result.error is None
    error = result.step("a").error or ""
    assert "create refused: value is 'explode'" in error and "Traceback" in error  # verbatim details
    assert result.step("b").error == f"skipped: {urn('a')} failed"
    assert result.step("c").ok and set(engine.state) == {urn("c")}

    with pytest.raises(ProviderError) as info:
        host.create(
            urn("x"),
            {"name": "x", "value": "explode", "__provider": engine.state[urn("c")].inputs["__provider"]},
        )
    assert (info.value.op, info.value.urn, info.value.code) == ("create", urn("x"), "UNKNOWN")
    assert "create refused" in info.value.message


def test_failed_update_leaves_previous_state(engine: Engine) -> None:
    engine.up(things({"a": {"name": "alpha", "value": "1"}}))
    before = engine.state[urn("a")]
    result = engine.up(things({"a": {"name": "alpha", "value": "explode"}}))
    assert not result.ok and result.step("a").op == "update"
    assert engine.state[urn("a")] == before


def test_program_error_deletes_nothing(engine: Engine) -> None:
    engine.up(things({"a": {"name": "alpha", "value": "1"}}))

    def broken() -> None:
        raise ValueError("program bug")

    result = engine.up(broken)
    assert isinstance(result.error, ValueError) and not result.ok
    assert set(engine.state) == {urn("a")}


def test_secrets_stay_out_of_plaintext_outputs_and_logs(engine: Engine, host: ProviderHost) -> None:
    result = engine.up(things({"a": {"name": "alpha", "value": "1", "token": TOKEN}}))
    assert result.ok
    state = engine.state[urn("a")]
    assert state.outputs["token"] == TOKEN and {"token", "__provider"} <= state.secret_outputs
    plaintext = repr(engine.secret_plaintext_outputs())
    assert TOKEN not in plaintext and "value" in plaintext
    deadline = time.monotonic() + 5
    while f"created {state.id}" not in host.logs() and time.monotonic() < deadline:
        time.sleep(0.05)  # the host's stdout is read by a thread
    assert f"created {state.id}" in host.logs()
    assert TOKEN not in host.logs() and "key-SECRET-123" not in host.logs()


def test_registration_outputs_are_secret_in_program(engine: Engine) -> None:
    seen: dict[str, bool] = {}

    def program() -> Coroutine[Any, Any, None]:
        a = Thing("a", name="alpha", value="1", token=TOKEN)
        pulumi.export("token", a.token)
        pulumi.export("name", a.name)

        async def probe() -> None:  # a program may return an awaitable: it is awaited
            seen.update(token=await a.token.is_secret(), name=await a.name.is_secret())

        return probe()

    result = engine.up(program)
    assert result.ok and result.outputs == {"name": "alpha", "token": TOKEN}
    assert seen == {"token": True, "name": False}


def test_options_protect_ignore_changes_replace_on_changes(engine: Engine) -> None:
    protect = pulumi.ResourceOptions(protect=True)
    ignore = pulumi.ResourceOptions(ignore_changes=["value"])
    roc = pulumi.ResourceOptions(replace_on_changes=["value"])
    spec: dict[str, dict[str, Any]] = {
        "p": {"name": "p", "value": "1", "opts": protect},
        "i": {"name": "i", "value": "1", "opts": ignore},
        "r": {"name": "r", "value": "1", "opts": roc},
    }
    assert engine.up(things(spec)).ok
    for kwargs in spec.values():
        kwargs["value"] = "2"
    result = engine.up(things(spec))
    assert result.step("p").op == "update" and result.step("i").op == "same"
    assert result.step("r").op == "replace" and result.step("r").replaces == ("value",)
    spec["p"]["name"] = "p2"
    assert "protected" in (engine.up(things(spec)).step("p").error or "")
    result = engine.destroy()
    assert not result.ok and set(engine.state) == {urn("p")}


def test_parallel_up_of_twenty(store: Path) -> None:
    host = start_host(store, ECHO_DELAY="0.25")
    try:
        engine = Engine(host)
        spec = {f"t{i:02}": {"name": f"n{i}", "value": str(i)} for i in range(20)}
        started = time.monotonic()
        result = engine.up(things(spec), parallel=4)
        elapsed = time.monotonic() - started
        assert result.ok and len(engine.state) == 20 and set(result.ops.values()) == {"create"}
        assert len(load_store(store)["things"]) == 20
        assert 2 <= load_store(store)["max_inflight"] <= 4
        assert elapsed < 20 * 0.25
        assert engine.destroy(parallel=4).ok and load_store(store)["things"] == {}
    finally:
        host.close()
