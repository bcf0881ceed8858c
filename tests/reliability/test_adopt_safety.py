"""Nothing lost on the way from one subscription to another: every delete-then-create path.

SHOPLINE cannot update a subscription's event version, and a store holds one subscription per topic and
address, so two paths delete before they create:

- ``adopt=True`` over an existing subscription with another ``api_version``: the provider deletes it and
  creates the declared one. When that create is refused, the old one is put back as it was; when putting
  it back fails too, the error says that the store now has none and what was deleted (topic, address,
  event version) so that it can be recreated.
- a replacement (``api_version`` changed in the program): Pulumi deletes the old one first
  (delete-before-replace), then asks for the create. When that create fails, its error says that the
  old one was deleted and what the store holds now.

Each case runs through the real provider host against the sandbox, with the fault injected on the
create (``POST``, the only SHOPLINE request that is one), and checks the store itself.
"""

from __future__ import annotations

from typing import Any

import httpx
import pulumi
import pytest
from conftest import SandboxProcess
from engine import Engine

import pulumi_webhooks.shoplazza as shoplazza
import pulumi_webhooks.shopline as shopline
from reliability.harness import ShoplazzaTenant, ShoplineTenant, last_line, step_outcome

OLD_VERSION = "v20250601"  # what the store (or the stack) holds
NEW_VERSION = "v20260301"  # what the program declares
TOPIC = "orders/create"


@pytest.fixture
def tenant(sandbox: SandboxProcess) -> ShoplineTenant:
    return ShoplineTenant("adopt-safety", sandbox)


@pytest.fixture
def engine(tenant: ShoplineTenant) -> Engine:
    return tenant.engine()


def address(tenant: ShoplineTenant) -> str:
    return tenant.url("orders")


def declare(tenant: ShoplineTenant, version: str, **extra: Any) -> Any:
    """A program with one SHOPLINE webhook at ``version`` (the harness pins the version: set it here)."""

    def run() -> None:
        shopline.Webhook(
            "orders", handle=tenant.handle, topic=TOPIC, address=address(tenant), api_version=version, **extra
        )

    return run


def held(tenant: ShoplineTenant) -> list[tuple[str, str, str]]:
    return sorted((h["topic"], h["address"], h["api_version"]) for h in tenant.live())


def existing_subscription(tenant: ShoplineTenant, sandbox: SandboxProcess) -> int:
    """A subscription made outside the stack, at the old event version; its id."""
    response = httpx.post(
        f"{sandbox.url}/shopline/{tenant.handle}/admin/openapi/{NEW_VERSION}/webhooks.json",
        json={"webhook": {"topic": TOPIC, "address": address(tenant), "api_version": OLD_VERSION}},
        headers={"Authorization": f"Bearer {tenant.config()['shopline:accessToken']}"},
    )
    response.raise_for_status()
    hook_id: int = response.json()["webhook"]["id"]
    return hook_id


def refuse_creates(sandbox: SandboxProcess, count: int) -> None:
    body = {"errors": {"api_version": ["is not available for this app"]}}
    sandbox.fault("shopline", "status", method="POST", status=422, body=body, count=count)


# -- adopt=True: delete, create, and put the old one back -------------------------------------------------
def test_adopt_whose_create_is_refused_puts_the_old_subscription_back(
    tenant: ShoplineTenant, engine: Engine, sandbox: SandboxProcess
) -> None:
    old_id = existing_subscription(tenant, sandbox)
    refuse_creates(sandbox, count=1)  # the declared one is refused; putting the old one back is not

    result = engine.up(declare(tenant, NEW_VERSION, adopt=True))

    error = last_line(step_outcome(result, "orders") or "")
    assert not result.ok
    # The store holds what it held before: the old subscription, as it was (under a new id).
    assert held(tenant) == [(TOPIC, address(tenant), OLD_VERSION)]
    [restored] = tenant.live()
    assert restored["id"] != old_id
    assert "HTTP 422" in error, error
    assert f"{tenant.handle}/{old_id}" in error and "was deleted" in error, error
    assert f"put back as it was (id {restored['id']}" in error and "holds what it held before" in error, error
    assert engine.state == {}  # the step failed: the stack holds nothing


def test_adopt_whose_restore_fails_too_says_the_store_has_none_and_what_was_deleted(
    tenant: ShoplineTenant, engine: Engine, sandbox: SandboxProcess
) -> None:
    old_id = existing_subscription(tenant, sandbox)
    refuse_creates(sandbox, count=2)  # the declared one and the old one's restore

    result = engine.up(declare(tenant, NEW_VERSION, adopt=True))

    error = last_line(step_outcome(result, "orders") or "")
    assert held(tenant) == []
    assert "NO subscription for that topic and address" in error, error
    # Everything needed to recreate it by hand.
    for fact in (f"{tenant.handle}/{old_id}", f"topic {TOPIC}", f"address {address(tenant)}", OLD_VERSION):
        assert fact in error, (fact, error)
    assert "putting it back failed too" in error, error


def test_adopt_whose_create_answer_is_lost_keeps_exactly_the_declared_one(
    tenant: ShoplineTenant, engine: Engine, sandbox: SandboxProcess
) -> None:
    existing_subscription(tenant, sandbox)
    sandbox.fault("shopline", "commit_then_drop", method="POST", count=1)

    result = engine.up(declare(tenant, NEW_VERSION, adopt=True))

    assert result.ok, result.steps
    assert held(tenant) == [(TOPIC, address(tenant), NEW_VERSION)]
    [hook] = tenant.live()
    assert engine.state[result.step("orders").urn].id == f"{tenant.handle}/{hook['id']}"


def test_adopt_that_succeeds_leaves_the_declared_one(
    tenant: ShoplineTenant, engine: Engine, sandbox: SandboxProcess
) -> None:
    old_id = existing_subscription(tenant, sandbox)
    result = engine.up(declare(tenant, NEW_VERSION, adopt=True))
    assert result.ok, result.steps
    assert held(tenant) == [(TOPIC, address(tenant), NEW_VERSION)]
    [warning] = [line for line in engine.host.engine_lines("WARNING") if "did not create" in line]
    assert f"id {old_id}" in warning and "taking over and updating" in warning, warning


# -- delete-before-replace: the engine deletes, then the create fails -------------------------------------
def test_a_replacement_whose_create_fails_says_the_old_one_was_deleted_and_what_the_store_holds(
    tenant: ShoplineTenant, engine: Engine, sandbox: SandboxProcess
) -> None:
    first = engine.up(declare(tenant, OLD_VERSION))
    assert first.ok, first.steps
    old_id = engine.state[first.step("orders").urn].id
    refuse_creates(sandbox, count=1)

    replaced = engine.up(declare(tenant, NEW_VERSION))

    assert replaced.ops == {"orders": "replace"}
    error = last_line(step_outcome(replaced, "orders") or "")
    assert held(tenant) == []  # what the message says, checked on the store
    assert "HTTP 422" in error, error
    assert f"This create replaces {old_id}" in error and "Pulumi deleted first" in error, error
    assert f"topic {TOPIC}" in error and f"address {address(tenant)}" in error and OLD_VERSION in error, error
    assert "SHOPLINE now holds NO subscription for that topic and address" in error, error

    # Once the cause is gone, the next `up` creates the declared one.
    again = engine.up(declare(tenant, NEW_VERSION))
    assert again.ok, again.steps
    assert held(tenant) == [(TOPIC, address(tenant), NEW_VERSION)]


def test_a_create_that_replaces_nothing_carries_no_replacement_note(
    tenant: ShoplineTenant, engine: Engine, sandbox: SandboxProcess
) -> None:
    refuse_creates(sandbox, count=1)
    result = engine.up(declare(tenant, NEW_VERSION))
    error = last_line(step_outcome(result, "orders") or "")
    assert "HTTP 422" in error and "replaces" not in error and "deleted" not in error, error


def test_a_forced_shoplazza_replacement_whose_create_fails_says_the_same(sandbox: SandboxProcess) -> None:
    # A shop holds one subscription per topic: replacing one (here forced by replace_on_changes) in
    # the same shop and topic is a delete-before-replace too.
    tenant = ShoplazzaTenant("adopt-safety", sandbox)
    engine = tenant.engine()
    topic = "orders/create"

    def declare_at(target: str) -> Any:
        def run() -> None:
            shoplazza.Webhook(
                "orders",
                shop=tenant.shop,
                topic=topic,
                address=target,
                opts=pulumi.ResourceOptions(replace_on_changes=["address"]),
            )

        return run

    first = engine.up(declare_at(tenant.url("orders")))
    assert first.ok, first.steps
    old_id = engine.state[first.step("orders").urn].id
    sandbox.fault("shoplazza", "status", method="POST", status=422, count=1)

    replaced = engine.up(declare_at(tenant.url("orders", "-v2")))

    assert replaced.ops == {"orders": "replace"}
    error = last_line(step_outcome(replaced, "orders") or "")
    assert tenant.live() == []
    assert f"This create replaces {old_id}" in error and f"address {tenant.url('orders')}" in error, error
    assert "Shoplazza now holds NO subscription for that topic" in error, error
