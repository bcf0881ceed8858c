"""Taking over a subscription someone else made is never silent; ``adopt=False`` refuses it.

Stack B declaring a subscription identical to stack A's takes it over (that is what makes a retried create
safe and adopting by hand easy), but now with a warning in the engine's log naming the subscription's
id: `destroy` of B would delete A's. ``adopt=False`` is the strict mode: it refuses any existing
subscription this operation did not write, naming its id. A create whose answer was lost finds its own
write and takes it over without a warning, in every mode.

Each case runs on all four platforms, two stacks (two provider hosts, two states) against one store of
the sandbox; the warning is read from what the host sent to the engine's `Log` RPC.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
from conftest import SandboxProcess
from engine import Engine

from reliability.harness import (
    TENANTS,
    CjTenant,
    ListTenant,
    Spec,
    Tenant,
    Up42Tenant,
    last_line,
    step_outcome,
)

TAKEOVER = "this deployment did not create"  # in every takeover warning


def make_tenant(platform: str, sandbox: SandboxProcess, tmp_path: Path) -> Tenant:
    Up42Tenant.prepare(sandbox)
    CjTenant.prepare(sandbox)
    tenant: Tenant = TENANTS[platform](f"takeover-{platform}", sandbox, cache_dir=tmp_path / "cj")
    return tenant


@pytest.fixture(params=sorted(TENANTS))
def tenant(request: pytest.FixtureRequest, sandbox: SandboxProcess, tmp_path: Path) -> Tenant:
    return make_tenant(request.param, sandbox, tmp_path)


def one_subscription(tenant: Tenant) -> Spec:
    if isinstance(tenant, ListTenant):
        return {"u": tenant.stage(0)["u"]}
    assert isinstance(tenant, CjTenant)
    return tenant.specs()[0]


def with_inputs(spec: Spec, **extra: Any) -> Spec:
    return {name: {**inputs, **extra} for name, inputs in spec.items()}


def subscription_id(engine: Engine) -> str:
    """The platform's id of the stack's one subscription (CJ: the settings' constant id)."""
    [state] = engine.state.values()
    return str(state.outputs.get("webhook_id") or state.id)


def takeover_warnings(engine: Engine) -> list[str]:
    return [line for line in engine.host.engine_lines("WARNING") if TAKEOVER in line]


def stack_a(tenant: Tenant, spec: Spec) -> tuple[Engine, str]:
    engine = tenant.engine()
    result = engine.up(tenant.program(spec))
    assert result.ok, result.steps
    assert takeover_warnings(engine) == []  # a fresh create takes nothing over
    return engine, subscription_id(engine)


def test_stack_b_taking_over_stack_a_s_subscription_is_warned_about_by_id(tenant: Tenant) -> None:
    spec = one_subscription(tenant)
    a, a_id = stack_a(tenant, spec)

    b = tenant.engine()
    result = b.up(tenant.program(spec))

    assert result.ok, result.steps
    assert subscription_id(b) == a_id  # taken over, not duplicated
    assert tenant.problems(a, spec) == []
    [warning] = takeover_warnings(b)
    assert f"id {a_id}" in warning and tenant.label in warning and "adopt=False" in warning, warning
    assert "destroying either deletes it" in warning, warning


def test_adopt_false_refuses_a_subscription_it_did_not_write_and_destroy_leaves_it(tenant: Tenant) -> None:
    spec = one_subscription(tenant)
    a, a_id = stack_a(tenant, spec)

    b = tenant.engine()
    refused = b.up(tenant.program(with_inputs(spec, adopt=False)))

    assert not refused.ok
    error = last_line(step_outcome(refused) or "")
    assert f"id {a_id}" in error and "adopt=False refuses" in error and "did not create it" in error, error
    assert b.state == {}
    assert b.destroy().ok
    assert tenant.problems(a, spec) == []  # stack A's subscription is untouched


def test_a_create_that_finds_its_own_lost_write_takes_it_over_silently_even_when_strict(
    tenant: Tenant, sandbox: SandboxProcess
) -> None:
    spec = with_inputs(one_subscription(tenant), adopt=False)
    method, path = tenant.requests["create"]
    sandbox.fault(tenant.platform, "commit_then_drop", method=method, path=path, count=1)

    engine = tenant.engine()
    result = engine.up(tenant.program(spec))

    assert result.ok, result.steps
    assert tenant.problems(engine, spec) == []  # exactly one, the stack's
    assert takeover_warnings(engine) == []


def test_stored_adopt_false_of_older_versions_makes_no_diff(tenant: Tenant, sandbox: SandboxProcess) -> None:
    # Before `adopt` became tri-state, check stored adopt=False in every resource's inputs and outputs.
    spec = one_subscription(tenant)
    engine, _ = stack_a(tenant, spec)
    for state in engine.state.values():
        state.inputs["adopt"] = state.outputs["adopt"] = False
    sandbox.clear_log()

    again = engine.up(tenant.program(spec))

    assert again.ok and set(again.ops.values()) == {"same"}, again.ops
    assert sandbox.writes(tenant.platform) == []  # (UP42's check may read the public event catalog)


DIFFERENT: dict[str, dict[str, Any]] = {  # platform -> inputs that make stack B's declaration differ
    "shoplazza": {"address": "https://hooks.example.com/takeover-shoplazza/other"},
    "up42": {"name": "another name"},
    "cjdropshipping": {"product_url": "https://hooks.example.com/takeover-cj/other", "order_url": None},
}


@pytest.mark.parametrize("platform", sorted(DIFFERENT))  # SHOPLINE's: test_adopt_safety.py
def test_adopt_true_over_a_different_one_updates_it_and_warns(
    platform: str, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    tenant = make_tenant(platform, sandbox, tmp_path)
    spec = one_subscription(tenant)
    _, a_id = stack_a(tenant, spec)

    b = tenant.engine()
    declared = {name: {**inputs, **DIFFERENT[tenant.platform]} for name, inputs in spec.items()}
    declared = {name: {k: v for k, v in inputs.items() if v is not None} for name, inputs in declared.items()}
    refused = b.up(tenant.program(declared))
    assert not refused.ok and "adopt=True" in (step_outcome(refused) or "")

    adopted = b.up(tenant.program(with_inputs(declared, adopt=True)))

    assert adopted.ok, adopted.steps
    assert tenant.problems(b, declared) == []
    [warning] = takeover_warnings(b)
    assert f"id {a_id}" in warning and "taking over and updating" in warning and "adopt=True" in warning, (
        warning
    )


# -- within one deployment: a resource that takes over another's subscription keeps it ---------------
KEPT = "another resource of this deployment took it over"  # in the delete's warning


def test_a_resource_renamed_without_an_alias_keeps_its_subscription(tenant: Tenant) -> None:
    # The engine creates the new name (which finds the subscription and takes it over), then deletes the
    # old name: that delete must not remove what the new name now holds.
    spec = (
        with_inputs(one_subscription(tenant), name="kept")
        if tenant.platform == "up42"
        else one_subscription(tenant)
    )
    engine, before = stack_a(tenant, spec)
    renamed = {f"{name}-renamed": inputs for name, inputs in spec.items()}

    result = engine.up(tenant.program(renamed))

    assert result.ok, result.steps
    assert sorted(result.ops.values()) == ["create", "delete"], result.ops
    assert tenant.problems(engine, renamed) == []  # the platform holds it, under the new name's state
    assert subscription_id(engine) == before
    [kept] = [line for line in engine.host.engine_lines("WARNING") if KEPT in line]
    assert before in kept, kept


FORCED = {  # platform -> a change that updates in place, made a replacement by replace_on_changes
    "up42": {"name": "renamed webhook"},
    "cjdropshipping": {"product_url": "https://hooks.example.com/takeover-cj/forced"},
}


@pytest.mark.parametrize("platform", sorted(FORCED))  # SHOPLINE's and Shoplazza's: test_adopt_safety.py
def test_a_forced_replacement_deletes_the_old_one_first_and_keeps_the_new(
    platform: str, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    # UP42 holds one webhook per url, CJ one settings object per account: replacing one (replaceOnChanges,
    # `pulumi up --replace`) must delete before creating, or the create takes the old one over and the
    # delete that follows removes it.
    tenant = make_tenant(platform, sandbox, tmp_path)
    spec = one_subscription(tenant)
    engine, _ = stack_a(tenant, spec)
    forced = with_inputs(spec, **FORCED[platform], opts=pulumi.ResourceOptions(replace_on_changes=["*"]))

    result = engine.up(tenant.program(forced))

    assert result.ok, result.steps
    assert list(result.ops.values()) == ["replace"], result.ops
    declared = with_inputs(spec, **FORCED[platform])
    assert tenant.problems(engine, declared) == []
    assert engine.refresh().ok and tenant.problems(engine, declared) == []
