"""`X.get(name, id)` on the four dynamic resources: a Read with only the id through the real dynamic
provider host (the id-only read path `pulumi import` uses in the plugin), driven by tests/engine.py."""

from __future__ import annotations

import importlib
from typing import Any

import pulumi
import pytest
from conftest import EngineFactory, SandboxProcess

from plugin.cases import PLATFORMS, Case, prepare
from pulumi_webhooks.plugin._convert import snake
from pulumi_webhooks.plugin._schema import RESOURCES, config_settings

KINDS = {kind.token: kind for kind in RESOURCES}


def dynamic_config(case: Case) -> tuple[dict[str, str], list[str]]:
    """The case's plugin config as the dynamic resources' stack config (`shopline:accessToken`, ...)."""
    known = config_settings()
    config = {known[k].config_key: v for k, v in case.config.items()}
    return config, [known[k].config_key for k in case.secret_config]


def resource_class(case: Case) -> Any:
    kind = KINDS[case.token]
    return getattr(importlib.import_module(kind.module), kind.class_name)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_get_reads_an_existing_resource_by_id_without_managing_it(
    platform: str, sandbox: SandboxProcess, make_engine: EngineFactory, all_cases: dict[str, Case]
) -> None:
    case = all_cases[platform]
    prepare(sandbox, case)
    config, secret_keys = dynamic_config(case)
    cls = resource_class(case)
    inputs = {snake(k): v for k, v in case.inputs.items()}
    owner = make_engine(config=config, secret_keys=secret_keys, env=dict(case.env))
    created = owner.up(lambda: cls("owned", **inputs))
    assert created.ok, created.steps
    [owned] = owner.state.values()
    held = case.held(sandbox)

    reader = make_engine(config=config, secret_keys=secret_keys, env=dict(case.env))
    fields = [f.name for f in KINDS[case.token].fields] + list(KINDS[case.token].provider.computed_outputs)

    def program() -> None:
        found = cls.get("found", owned.id)
        pulumi.export("id", found.id)
        pulumi.export("outputs", {name: getattr(found, name) for name in fields})

    read = reader.up(program)

    assert read.ok, read.steps
    assert read.ops == {"found": "read"}
    assert read.outputs["id"] == owned.id
    platform_fields = {f.name for f in KINDS[case.token].fields if not f.state_only}
    expected = {k: v for k, v in owned.outputs.items() if k in platform_fields or k in fields}
    got = {k: v for k, v in read.outputs["outputs"].items() if v is not None}
    for key in expected.keys() & (platform_fields | set(KINDS[case.token].provider.computed_outputs)):
        assert got[key] == expected[key], key
    for name in (
        *KINDS[case.token].provider.secret_outputs,
        *(f.name for f in KINDS[case.token].fields if f.secret),
    ):
        assert name in reader.state[read.step("found").urn].secret_outputs

    assert reader.destroy().ok
    assert case.held(sandbox) == held  # the reader never deletes what it only read


def test_get_of_a_missing_subscription_fails_the_program(
    sandbox: SandboxProcess, make_engine: EngineFactory, all_cases: dict[str, Case]
) -> None:
    case = all_cases["shopline"]
    config, secret_keys = dynamic_config(case)
    reader = make_engine(config=config, secret_keys=secret_keys)
    result = reader.up(lambda: resource_class(case).get("missing", "open001/999999"))
    assert result.error is not None
    assert result.step("missing").error == "resource 'open001/999999' does not exist"
