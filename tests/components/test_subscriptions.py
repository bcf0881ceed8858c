"""shopline.Subscriptions and shoplazza.Subscriptions: one component, one Webhook child per topic.

The lifecycle runs a real provider host against the sandbox through tests/engine.py; the engine
registers the component (no state, no step, as the real engine) and its children with their parent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pulumi
import pytest
from conftest import EngineFactory, SandboxProcess
from engine import Engine, collect

import pulumi_webhooks.shoplazza as shoplazza
import pulumi_webhooks.shopline as shopline
from pulumi_webhooks import errors

SHOPLINE_TOKEN = "shpat-3b9d1f7e5a2c4086"
SHOPLAZZA_TOKEN = "spz-tok-8e2a6c4b0d1f9735"
ADDRESS = "https://hooks.example.com/orders"


@dataclass(frozen=True)
class Platform:
    """What differs between the two components: the module, the store input, and the sandbox wiring."""

    name: str
    module: Any
    store: dict[str, str]  # the store input (and api_version for SHOPLINE)
    env_var: str
    template: str
    config: dict[str, str]
    list_path: str
    headers: dict[str, str]

    def component_type(self) -> str:
        return f"pulumi-webhooks:{self.name}:Subscriptions"

    def webhook_type(self) -> str:
        return f"pulumi-python:dynamic/{self.name}:Webhook"


PLATFORMS = {
    "shopline": Platform(
        name="shopline",
        module=shopline,
        store={"handle": "open001", "api_version": "v20260301"},
        env_var="SHOPLINE_BASE_URL",
        template="/{handle}",
        config={"shopline:accessToken": SHOPLINE_TOKEN},
        list_path="/shopline/open001/admin/openapi/v20260301/webhooks.json",
        headers={"Authorization": f"Bearer {SHOPLINE_TOKEN}"},
    ),
    "shoplazza": Platform(
        name="shoplazza",
        module=shoplazza,
        store={"shop": "store-a"},
        env_var="SHOPLAZZA_BASE_URL",
        template="/{shop}",
        config={"shoplazza:accessToken": SHOPLAZZA_TOKEN},
        list_path="/shoplazza/store-a/openapi/2022-01/webhooks",
        headers={"Access-Token": SHOPLAZZA_TOKEN},
    ),
}


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> Platform:
    return PLATFORMS[request.param]


@pytest.fixture
def engine(platform: Platform, sandbox: SandboxProcess, make_engine: EngineFactory) -> Engine:
    return make_engine(
        env={platform.env_var: sandbox.base_url(platform.name, platform.template)},
        config=platform.config,
        secret_keys=list(platform.config),
    )


def subscriptions(platform: Platform, topics: Any, name: str = "orders", **extra: Any) -> Callable[[], None]:
    def program() -> None:
        component = platform.module.Subscriptions(
            name, **platform.store, address=ADDRESS, topics=topics, **extra
        )
        pulumi.export("ids", component.webhook_ids)

    return program


def live(platform: Platform, sandbox: SandboxProcess) -> dict[str, dict[str, Any]]:
    """The store's subscriptions by topic, through the platform's own list endpoint."""
    response = httpx.get(f"{sandbox.url}{platform.list_path}", headers=platform.headers)
    response.raise_for_status()
    return {hook["topic"]: hook for hook in response.json()["webhooks"]}


def writes(platform: Platform, sandbox: SandboxProcess) -> list[str]:
    return [r["method"] for r in sandbox.writes(platform.name)]


# -- the lifecycle -----------------------------------------------------------------------------------


def test_one_child_per_topic_named_after_it(
    engine: Engine, platform: Platform, sandbox: SandboxProcess
) -> None:
    result = engine.up(subscriptions(platform, ["orders/create", "orders/paid"]))
    assert result.ok, result.steps
    assert result.ops == {"orders-orders-create": "create", "orders-orders-paid": "create"}
    hooks = live(platform, sandbox)
    assert sorted(hooks) == ["orders/create", "orders/paid"]
    assert {h["address"] for h in hooks.values()} == {ADDRESS}
    # webhook_ids: the platform's id of each topic's subscription
    assert result.outputs["ids"] == {topic: str(hook["id"]) for topic, hook in hooks.items()}
    for state in engine.state.values():
        assert state.parent.endswith(f"::{platform.component_type()}::orders")
        assert state.type == platform.webhook_type()

    sandbox.clear_log()
    again = engine.up(subscriptions(platform, ["orders/create", "orders/paid"]))
    assert again.ok and set(again.ops.values()) == {"same"}
    assert sandbox.requests(platform.name) == []


def test_adding_and_removing_a_topic_touches_only_that_child(
    engine: Engine, platform: Platform, sandbox: SandboxProcess
) -> None:
    assert engine.up(subscriptions(platform, ["orders/create", "orders/paid"])).ok
    before = live(platform, sandbox)
    urns = {s.name: s.urn for s in engine.state.values()}

    sandbox.clear_log()
    added = engine.up(subscriptions(platform, ["orders/cancelled", "orders/create", "orders/paid"]))
    assert added.ok, added.steps
    assert added.ops == {
        "orders-orders-cancelled": "create",
        "orders-orders-create": "same",
        "orders-orders-paid": "same",
    }
    assert writes(platform, sandbox) == ["POST"]
    after = live(platform, sandbox)
    assert after["orders/create"]["id"] == before["orders/create"]["id"]
    assert after["orders/paid"]["id"] == before["orders/paid"]["id"]

    sandbox.clear_log()
    removed = engine.up(subscriptions(platform, ["orders/cancelled", "orders/create"]))
    assert removed.ok, removed.steps
    assert removed.ops == {
        "orders-orders-cancelled": "same",
        "orders-orders-create": "same",
        "orders-orders-paid": "delete",
    }
    assert writes(platform, sandbox) == ["DELETE"]
    assert sorted(live(platform, sandbox)) == ["orders/cancelled", "orders/create"]
    # The kept children keep their URNs: names depend on the topic alone, not on its position.
    assert {s.name: s.urn for s in engine.state.values()}["orders-orders-create"] == urns[
        "orders-orders-create"
    ]


def test_address_change_updates_every_child_in_place(
    engine: Engine, platform: Platform, sandbox: SandboxProcess
) -> None:
    assert engine.up(subscriptions(platform, ["orders/create", "orders/paid"])).ok
    ids = {t: h["id"] for t, h in live(platform, sandbox).items()}

    def moved() -> None:
        platform.module.Subscriptions(
            "orders",
            **platform.store,
            address="https://hooks.example.com/v2",
            topics=["orders/create", "orders/paid"],
        )

    result = engine.up(moved)
    assert result.ok and set(result.ops.values()) == {"update"}
    after = live(platform, sandbox)
    assert {t: h["id"] for t, h in after.items()} == ids
    assert {h["address"] for h in after.values()} == {"https://hooks.example.com/v2"}


def test_destroy_removes_every_child(engine: Engine, platform: Platform, sandbox: SandboxProcess) -> None:
    assert engine.up(subscriptions(platform, ["orders/create", "orders/paid"])).ok
    assert engine.destroy().ok
    assert live(platform, sandbox) == {} and engine.state == {}


# -- wrong topics fail at preview ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topics", "expected"),
    [
        (["orders/create", "orders/paid", "orders/create"], "lists 'orders/create' more than once"),
        ([], "must name at least one topic"),
        ("orders/create", "must be a list of topic names known when the program runs, got str"),
        (["orders/create", ""], "each topic must be a non-empty string"),
    ],
)
def test_wrong_topics_fail_the_preview_naming_topics(
    engine: Engine, platform: Platform, sandbox: SandboxProcess, topics: Any, expected: str
) -> None:
    result = engine.preview(subscriptions(platform, topics))
    assert isinstance(result.error, errors.InputValidationError)
    assert isinstance(result.error, pulumi.RunError)  # the CLI shows the message, not a stack trace
    assert result.error.field == "topics"
    assert str(result.error).startswith("topics: ")
    assert expected in str(result.error) and "'orders'" in str(result.error)
    assert result.steps == []
    assert sandbox.requests(platform.name) == []


def test_topics_from_an_output_are_refused(engine: Engine, platform: Platform) -> None:
    result = engine.preview(subscriptions(platform, pulumi.Output.from_input(["orders/create"])))
    assert isinstance(result.error, errors.InputValidationError)
    assert "got Output" in str(result.error) and "cannot wait for an Output" in str(result.error)


def test_a_topic_the_catalog_does_not_know_fails_its_childs_check(engine: Engine, platform: Platform) -> None:
    result = engine.preview(subscriptions(platform, ["orders/create", "orders/craete"]))
    assert not result.ok
    failures = result.step("orders-orders-craete").failures
    assert failures and failures[0][0] == "topic" and "did you mean" in failures[0][1]
    assert result.step("orders-orders-create").ok


# -- program side ------------------------------------------------------------------------------------


def test_both_constructor_forms_register_the_same(platform: Platform) -> None:
    def keywords() -> None:
        platform.module.Subscriptions(
            "orders",
            **platform.store,
            address=ADDRESS,
            topics=("orders/create", "orders/paid"),
            access_token="tok-123456",
            adopt=True,
        )

    def args_object() -> None:
        args = platform.module.SubscriptionsArgs(
            **platform.store,
            address=ADDRESS,
            topics=["orders/create", "orders/paid"],
            access_token="tok-123456",
            adopt=True,
        )
        platform.module.Subscriptions("orders", args, pulumi.ResourceOptions(protect=True))

    def shape(regs: list[Any]) -> list[tuple[str, str, bool, str]]:
        return [(r.type, r.name, r.custom, r.parent.rsplit("::", 1)[-1]) for r in regs]

    by_keywords, by_args = collect(keywords), collect(args_object)
    assert (
        shape(by_keywords)
        == shape(by_args)
        == [
            (platform.component_type(), "orders", False, "test-dev"),  # parent: the stack
            (platform.webhook_type(), "orders-orders-create", True, "orders"),
            (platform.webhook_type(), "orders-orders-paid", True, "orders"),
        ]
    )
    for reg in by_keywords[1:]:
        assert reg.inputs["address"] == ADDRESS and reg.inputs["adopt"] is True
        assert "access_token" in reg.secret_inputs  # each child keeps the token secret
    assert [r.protect for r in by_args] == [True, True, True]  # children inherit the parent's protect


def test_typed_attributes(platform: Platform) -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        component = platform.module.Subscriptions(
            "orders", **platform.store, address=ADDRESS, topics=["orders/create"]
        )
        seen["webhooks"] = component.webhooks
        seen["ids"] = component.webhook_ids

    collect(program)
    assert list(seen["webhooks"]) == ["orders/create"]
    assert isinstance(seen["webhooks"]["orders/create"], platform.module.Webhook)
    assert isinstance(seen["ids"], pulumi.Output)


def test_mixing_the_constructor_forms_is_refused(platform: Platform) -> None:
    def program() -> None:
        args = platform.module.SubscriptionsArgs(**platform.store, address=ADDRESS, topics=["orders/create"])
        platform.module.Subscriptions("orders", args, address=ADDRESS)

    with pytest.raises(TypeError, match="either SubscriptionsArgs or keyword inputs"):
        collect(program)
