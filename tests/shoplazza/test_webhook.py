"""shoplazza.Webhook end to end: a real provider host driven over gRPC against the sandbox subprocess.

Every scenario that reaches the platform runs for both wire formats: 2022-01 (flat bodies, limit/page)
and 2026-01 (bodies wrapped in {"webhook": …}, page_size/cursor); the sandbox refuses the wrong one.
"""

from __future__ import annotations

import base64
import runpy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pulumi
import pytest
from conftest import EngineFactory, SandboxProcess
from engine import Engine, collect

import pulumi_webhooks.shoplazza as shoplazza
from pulumi_webhooks import errors
from pulumi_webhooks.shoplazza.api import ShoplazzaApi

TOKEN = "spz-tok-4b8e2f6a1c9d7035"  # recognisable, so the secrecy checks can search for it
SHOP = "store-a"
DEFAULT_VERSION = "2022-01"
TYPE = "pulumi-python:dynamic/shoplazza:Webhook"
ORDERS = {"topic": "orders/create", "address": "https://hooks.example.com/orders"}


@pytest.fixture(params=["2022-01", "2026-01"])
def version(request: pytest.FixtureRequest) -> str:
    """The Shoplazza API version (and so the wire format) the provider is configured with."""
    value: str = request.param
    return value


def webhooks(**declared: dict[str, Any]) -> Callable[[], None]:
    """A program declaring one Shoplazza webhook per entry (resource name -> inputs, `opts` allowed)."""

    def program() -> None:
        for name, declaration in declared.items():
            inputs = {k: v for k, v in declaration.items() if k != "opts"}
            shoplazza.Webhook(name, opts=declaration.get("opts"), **{"shop": SHOP, **inputs})

    return program


def store_api(sandbox: SandboxProcess, version: str, shop: str = SHOP) -> httpx.Client:
    """The shop's Open API, used directly (out-of-band edits, checks of what the shop holds)."""
    return httpx.Client(
        base_url=f"{sandbox.url}/shoplazza/{shop}/openapi/{version}", headers={"Access-Token": TOKEN}
    )


def body(version: str, **fields: str) -> dict[str, Any]:
    """A create/update body in the version's wire format."""
    return {"webhook": fields} if version >= "2025-06" else fields


def live(sandbox: SandboxProcess, shop: str = SHOP) -> list[dict[str, Any]]:
    """The subscriptions the shop holds, through Shoplazza's own list endpoint."""
    with store_api(sandbox, DEFAULT_VERSION, shop) as api:
        response = api.get("webhooks", params={"limit": 250})
    response.raise_for_status()
    hooks: list[dict[str, Any]] = response.json()["webhooks"]
    return hooks


def make(
    make_engine: EngineFactory,
    sandbox: SandboxProcess,
    version: str,
    *,
    token: str | None = TOKEN,
    env: dict[str, str] | None = None,
) -> Engine:
    """An engine whose token and API version come from the stack config, as most users set them."""
    config = {"shoplazza:accessToken": token} if token else {}
    if version != DEFAULT_VERSION:  # the default version is exercised without any setting
        config["shoplazza:apiVersion"] = version
    return make_engine(
        env={"SHOPLAZZA_BASE_URL": sandbox.base_url("shoplazza", "/{shop}"), **(env or {})},
        config=config,
        secret_keys=["shoplazza:accessToken"],
    )


@pytest.fixture
def engine(sandbox: SandboxProcess, make_engine: EngineFactory, version: str) -> Engine:
    return make(make_engine, sandbox, version)


# -- lifecycle -----------------------------------------------------------------------------------


def test_preview_then_create_then_no_op_up_makes_no_write(
    engine: Engine, sandbox: SandboxProcess, version: str
) -> None:
    preview = engine.preview(webhooks(orders=ORDERS))
    assert preview.ok and preview.ops == {"orders": "create"}
    assert sandbox.requests("shoplazza") == [] and engine.state == {}

    result = engine.up(webhooks(orders=ORDERS))
    assert result.ok, result.steps
    assert result.ops == {"orders": "create"}
    [hook] = live(sandbox)
    state = engine.state[result.step("orders").urn]
    assert state.id == f"{SHOP}/{hook['id']}"
    assert state.outputs["webhook_id"] == hook["id"]
    assert state.outputs["address"] == ORDERS["address"] and state.outputs["topic"] == ORDERS["topic"]
    assert state.outputs["created_at"] == hook["created_at"] and state.outputs["updated_at"]
    calls = sandbox.requests("shoplazza")
    assert [(r["method"], r["path"].split(f"/openapi/{version}/")[1]) for r in calls[:2]] == [
        ("GET", "webhooks"),
        ("POST", "webhooks"),
    ]

    sandbox.clear_log()
    again = engine.up(webhooks(orders=ORDERS))
    assert again.ok and again.ops == {"orders": "same"}
    assert sandbox.requests("shoplazza") == []  # diff needs no call at all


def test_address_change_updates_in_place(engine: Engine, sandbox: SandboxProcess) -> None:
    engine.up(webhooks(orders=ORDERS))
    [before] = live(sandbox)
    moved = {**ORDERS, "address": "https://hooks.example.com/v2/orders"}
    assert engine.preview(webhooks(orders=moved)).ops == {"orders": "update"}
    result = engine.up(webhooks(orders=moved))
    assert result.ok and result.ops == {"orders": "update"}
    [after] = live(sandbox)
    assert after["id"] == before["id"] and after["address"] == moved["address"]
    assert [w["method"] for w in sandbox.writes("shoplazza")] == ["POST", "PUT"]
    assert engine.state[result.step("orders").urn].outputs["address"] == moved["address"]


def test_topic_change_updates_in_place(engine: Engine, sandbox: SandboxProcess) -> None:
    engine.up(webhooks(orders=ORDERS))
    [before] = live(sandbox)
    paid = {**ORDERS, "topic": "orders/paid"}
    preview = engine.preview(webhooks(orders=paid))
    assert preview.ops == {"orders": "update"} and preview.step("orders").replaces == ()
    result = engine.up(webhooks(orders=paid))
    assert result.ok and result.ops == {"orders": "update"}
    [after] = live(sandbox)
    assert (after["id"], after["topic"], after["address"]) == (before["id"], "orders/paid", ORDERS["address"])
    assert [w["method"] for w in sandbox.writes("shoplazza")] == ["POST", "PUT"]
    state = engine.state[result.step("orders").urn]
    assert state.id == f"{SHOP}/{before['id']}" and state.outputs["topic"] == "orders/paid"


def test_topic_change_onto_a_taken_topic_is_a_clear_error(engine: Engine, sandbox: SandboxProcess) -> None:
    paid = {"topic": "orders/paid", "address": "https://hooks.example.com/paid"}
    assert engine.up(webhooks(orders=ORDERS, paid=paid)).ok
    holder = next(h for h in live(sandbox) if h["topic"] == "orders/paid")
    result = engine.up(webhooks(orders={**ORDERS, "topic": "orders/paid"}, paid=paid))
    assert not result.ok and result.ops == {"orders": "update", "paid": "same"}
    error = result.step("orders").error or ""
    assert "Shoplazza update failed (HTTP 422" in error and "request id" in error
    assert f"id {holder['id']}" in error and "one subscription per topic" in error
    assert "Topic already exists" in error
    assert sorted(h["topic"] for h in live(sandbox)) == ["orders/create", "orders/paid"]


def test_shop_change_replaces(engine: Engine, sandbox: SandboxProcess) -> None:
    engine.up(webhooks(orders=ORDERS))
    [before] = live(sandbox)
    preview = engine.preview(webhooks(orders={**ORDERS, "shop": "store-b"}))
    assert preview.ops == {"orders": "replace"} and preview.step("orders").replaces == ("shop",)
    result = engine.up(webhooks(orders={**ORDERS, "shop": "store-b"}))
    assert result.ok and result.ops == {"orders": "replace"}
    assert live(sandbox) == []
    [after] = live(sandbox, "store-b")
    assert after["id"] != before["id"]
    assert engine.state[result.step("orders").urn].id == f"store-b/{after['id']}"
    # Another shop cannot collide: the new one is created before the old one is deleted.
    writes = [(w["method"], w["path"].split("/")[2]) for w in sandbox.writes("shoplazza")]
    assert writes == [("POST", SHOP), ("POST", "store-b"), ("DELETE", SHOP)]


def test_forced_replacement_in_the_same_shop_deletes_first(engine: Engine, sandbox: SandboxProcess) -> None:
    # The engine replaces on `replace_on_changes` too; the same topic in the same shop would collide.
    opts = pulumi.ResourceOptions(replace_on_changes=["address"])
    engine.up(webhooks(orders={**ORDERS, "opts": opts}))
    moved = {**ORDERS, "address": "https://hooks.example.com/v2/orders", "opts": opts}
    result = engine.up(webhooks(orders=moved))
    assert result.ok, result.steps
    assert result.ops == {"orders": "replace"}
    [after] = live(sandbox)
    assert after["address"] == moved["address"]
    assert [w["method"] for w in sandbox.writes("shoplazza")] == ["POST", "DELETE", "POST"]


def test_refresh_sees_out_of_band_edit_and_up_repairs_it(
    engine: Engine, sandbox: SandboxProcess, version: str
) -> None:
    engine.up(webhooks(orders=ORDERS))
    [hook] = live(sandbox)
    with store_api(sandbox, version) as api:
        edit = body(version, address="https://evil.example.com/x", topic="orders/update")
        api.put(f"webhooks/{hook['id']}", json=edit).raise_for_status()
    refreshed = engine.refresh()
    assert refreshed.ok
    [state] = engine.state.values()
    assert state.outputs["address"] == state.inputs["address"] == "https://evil.example.com/x"
    assert state.outputs["topic"] == state.inputs["topic"] == "orders/update"
    assert engine.preview(webhooks(orders=ORDERS)).ops == {"orders": "update"}
    assert engine.up(webhooks(orders=ORDERS)).ok
    assert [(h["id"], h["topic"], h["address"]) for h in live(sandbox)] == [
        (hook["id"], ORDERS["topic"], ORDERS["address"])
    ]


def test_refresh_sees_out_of_band_delete_and_up_recreates(
    engine: Engine, sandbox: SandboxProcess, version: str
) -> None:
    engine.up(webhooks(orders=ORDERS))
    [hook] = live(sandbox)
    with store_api(sandbox, version) as api:
        api.delete(f"webhooks/{hook['id']}").raise_for_status()
    assert engine.refresh().ok
    assert engine.state == {}
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ops == {"orders": "create"}
    assert len(live(sandbox)) == 1


def test_update_of_a_subscription_deleted_out_of_band_says_to_refresh(
    engine: Engine, sandbox: SandboxProcess, version: str
) -> None:
    engine.up(webhooks(orders=ORDERS))
    with store_api(sandbox, version) as api:
        api.delete(f"webhooks/{live(sandbox)[0]['id']}").raise_for_status()
    result = engine.up(webhooks(orders={**ORDERS, "address": "https://hooks.example.com/v2"}))
    error = result.step("orders").error or ""
    assert "HTTP 404" in error and "record not found!" in error and "pulumi refresh" in error


def test_removed_resource_is_deleted_and_destroy_removes_everything(
    engine: Engine, sandbox: SandboxProcess, version: str
) -> None:
    products = {"topic": "products/update", "address": "https://hooks.example.com/products"}
    refunds = {"topic": "orders/refunded", "address": "https://hooks.example.com/refunds"}
    assert engine.up(webhooks(orders=ORDERS, products=products, refunds=refunds)).ok
    assert len(live(sandbox)) == 3
    result = engine.up(webhooks(orders=ORDERS, refunds=refunds))
    assert result.ops == {"orders": "same", "refunds": "same", "products": "delete"}
    assert sorted(h["topic"] for h in live(sandbox)) == ["orders/create", "orders/refunded"]
    # One of them is already gone: destroy still succeeds.
    gone = next(h for h in live(sandbox) if h["topic"] == "orders/refunded")
    with store_api(sandbox, version) as api:
        api.delete(f"webhooks/{gone['id']}").raise_for_status()
    assert engine.destroy().ok
    assert live(sandbox) == [] and engine.state == {}


# -- preview-time validation ---------------------------------------------------------------------

BAD_INPUTS = [
    ("address", "http://hooks.example.com/x", "https://"),
    ("address", "https://localhost/x", "public host"),
    ("address", "https://192.168.1.20/x", "public host"),
    ("address", "https://[::1]/x", "public host"),
    ("address", "https://hooks.example.com/" + "a" * 2023, "at most 2048 characters"),
    ("topic", "orders/creat", "did you mean 'orders/create'"),
    ("topic", "carts/create", "did you mean 'cart/create'"),
    ("shop", "My Shop", "lowercase prefix of {shop}.myshoplaza.com"),
    ("shop", "store-a.myshoplaza.com", "lowercase prefix"),
]


def test_bad_inputs_fail_at_preview_naming_the_field(engine: Engine, sandbox: SandboxProcess) -> None:
    declared = {f"bad{i}": {**ORDERS, field: value} for i, (field, value, _) in enumerate(BAD_INPUTS)}
    result = engine.preview(webhooks(**declared))
    assert not result.ok
    for i, (field, _, reason) in enumerate(BAD_INPUTS):
        failures = result.step(f"bad{i}").failures
        assert any(prop == field and reason in text for prop, text in failures), (field, failures)
    assert sandbox.requests("shoplazza") == []


def test_the_create_pages_example_topic_is_accepted_and_created(
    engine: Engine, sandbox: SandboxProcess
) -> None:
    """Seed 003_496d880053325e1d.txt (https://www.shoplazza.dev/reference/create-webhook-copy) gives
    ``app/subscriptions_update`` as an example topic; its own 422 list omits it. Refusing a documented
    example at preview was wrong (platforms.md "Round 2")."""
    program = webhooks(
        billing={"topic": "app/subscriptions_update", "address": "https://hooks.example.com/b"}
    )
    assert engine.preview(program).ok
    result = engine.up(program)
    assert result.ok, result.steps
    assert [h["topic"] for h in live(sandbox)] == ["app/subscriptions_update"]


def test_address_at_the_length_limit_is_accepted(engine: Engine) -> None:
    exactly = "https://hooks.example.com/" + "a" * (2048 - 26)
    assert len(exactly) == 2048
    assert engine.preview(webhooks(orders={**ORDERS, "address": exactly})).ok


@pytest.mark.parametrize(
    ("value", "reason"),
    [("2023-01", "does not know; supported: 2022-01, 2025-06, 2026-01"), ("v2026", "YYYY-MM")],
)
def test_bad_api_version_fails_at_preview(
    sandbox: SandboxProcess, make_engine: EngineFactory, value: str, reason: str
) -> None:
    engine = make(make_engine, sandbox, value)
    result = engine.preview(webhooks(orders=ORDERS))
    assert not result.ok
    [(field, text)] = result.step("orders").failures
    assert field == "" and reason in text
    assert "shoplazza:apiVersion" in text and "SHOPLAZZA_API_VERSION" in text


def test_missing_credentials_fail_at_preview_naming_config_and_variable(
    sandbox: SandboxProcess, make_engine: EngineFactory
) -> None:
    engine = make(make_engine, sandbox, DEFAULT_VERSION, token=None)
    result = engine.preview(webhooks(orders=ORDERS))
    assert not result.ok
    [(field, reason)] = result.step("orders").failures
    assert field == "access_token"
    assert "shoplazza:accessToken" in reason and "SHOPLAZZA_ACCESS_TOKEN" in reason


# -- credentials and errors ----------------------------------------------------------------------


def test_token_and_version_from_environment_and_token_from_input(
    sandbox: SandboxProcess, make_engine: EngineFactory
) -> None:
    base = {
        "SHOPLAZZA_BASE_URL": sandbox.base_url("shoplazza", "/{shop}"),
        "SHOPLAZZA_API_VERSION": "2026-01",
    }
    from_env = make_engine(env={**base, "SHOPLAZZA_ACCESS_TOKEN": TOKEN})
    assert from_env.up(webhooks(orders=ORDERS)).ok
    assert {r["path"].split("/")[4] for r in sandbox.requests("shoplazza")} == {"2026-01"}
    from_input = make_engine(env=base)
    result = from_input.up(webhooks(paid={**ORDERS, "topic": "orders/paid", "access_token": TOKEN}))
    assert result.ok, result.steps
    [state] = from_input.state.values()
    assert "access_token" in state.secret_outputs
    assert from_input.destroy().ok  # delete reads the token back from (secret) state


def test_rejected_token_is_a_clear_error(sandbox: SandboxProcess, make_engine: EngineFactory) -> None:
    sandbox.settings(token=TOKEN)
    engine = make(make_engine, sandbox, DEFAULT_VERSION, token="wrong-token-1234")
    result = engine.up(webhooks(orders=ORDERS))
    assert not result.ok
    error = result.step("orders").error or ""
    assert "Shoplazza list webhooks failed (HTTP 401, request id " in error
    assert ": Unauthorized" in error and "shoplazza:accessToken" in error
    assert "wrong-token-1234" not in error
    assert error.count("\n") < 12, error  # a short message, not a stack of frames


def test_429_with_retry_after_and_503_are_retried(engine: Engine, sandbox: SandboxProcess) -> None:
    sandbox.fault("shoplazza", "status", method="POST", status=429, retry_after=1, count=1)
    sandbox.fault("shoplazza", "status", method="GET", status=503, count=2)
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ok, result.steps
    assert len(live(sandbox)) == 1
    statuses = [r["status"] for r in sandbox.requests("shoplazza")]
    assert statuses.count(503) == 2 and statuses.count(429) == 1


def test_create_whose_response_is_lost_leaves_exactly_one(engine: Engine, sandbox: SandboxProcess) -> None:
    sandbox.fault("shoplazza", "commit_then_drop", method="POST", path=r"/webhooks$", count=1)
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ok, result.steps
    [hook] = live(sandbox)
    assert engine.state[result.step("orders").urn].id == f"{SHOP}/{hook['id']}"
    assert [w["method"] for w in sandbox.writes("shoplazza")] == ["POST"]  # looked up, not re-sent


def test_create_with_truncated_answer_leaves_exactly_one(engine: Engine, sandbox: SandboxProcess) -> None:
    sandbox.fault("shoplazza", "truncated", method="POST", count=1)
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ok, result.steps
    assert len(live(sandbox)) == 1


def test_pacing_stays_under_two_requests_per_second(
    sandbox: SandboxProcess, make_engine: EngineFactory
) -> None:
    engine = make(make_engine, sandbox, DEFAULT_VERSION)
    topics = sorted(shoplazza.TOPICS)[:16]
    declared = {
        f"w{i}": {"topic": t, "address": f"https://hooks.example.com/{i}"} for i, t in enumerate(topics)
    }
    assert engine.up(webhooks(**declared)).ok
    calls = sandbox.requests("shoplazza")
    # One listing for the whole run (look-ups share it), then one create per subscription.
    assert [r["method"] for r in calls] == ["GET"] + ["POST"] * 16
    assert all(r["status"] == 200 for r in calls)
    # A burst of 10, then 1.9/s: the last 7 requests need at least ~3.5 s (unpaced: well under 1 s).
    span = calls[-1]["time"] - calls[0]["time"]
    assert span >= 0.9 * (17 - 10) / 2.0, span


# -- adopting ------------------------------------------------------------------------------------


def test_existing_identical_subscription_is_adopted_silently(
    engine: Engine, sandbox: SandboxProcess, version: str
) -> None:
    with store_api(sandbox, version) as api:
        created = api.post("webhooks", json=body(version, **ORDERS)).json()["webhook"]
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ok
    assert engine.state[result.step("orders").urn].outputs["webhook_id"] == created["id"]
    assert len(live(sandbox)) == 1
    assert [w["method"] for w in sandbox.writes("shoplazza")] == ["POST"]  # ours only


def test_existing_subscription_to_the_topic_needs_adopt(
    engine: Engine, sandbox: SandboxProcess, version: str
) -> None:
    with store_api(sandbox, version) as api:
        other = body(version, topic=ORDERS["topic"], address="https://old.example.com/hook")
        existing_id = api.post("webhooks", json=other).json()["webhook"]["id"]
    refused = engine.up(webhooks(orders=ORDERS))
    assert not refused.ok
    error = refused.step("orders").error or ""
    assert f"id {existing_id}" in error and "adopt=True" in error and "same topic" in error
    assert len(live(sandbox)) == 1

    adopted = engine.up(webhooks(orders={**ORDERS, "adopt": True}))
    assert adopted.ok, adopted.steps
    [hook] = live(sandbox)
    assert (hook["id"], hook["address"]) == (existing_id, ORDERS["address"])
    assert engine.state[adopted.step("orders").urn].id == f"{SHOP}/{existing_id}"


def test_topic_already_exists_on_create_is_taken_over(
    engine: Engine, sandbox: SandboxProcess, version: str
) -> None:
    # Another process creates the subscription between our look-up and our create: the first list
    # answers empty, the create gets 422 "Topic already exists", and the provider looks again.
    with store_api(sandbox, version) as api:
        created = api.post("webhooks", json=body(version, **ORDERS)).json()["webhook"]
    empty = {"webhooks": [], "cursor": "", "has_more": False} if version >= "2025-06" else {"webhooks": []}
    sandbox.fault("shoplazza", "status", method="GET", path=r"/webhooks$", status=200, body=empty)
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ok, result.steps
    assert [r["status"] for r in sandbox.requests("shoplazza") if r["method"] == "POST"] == [200, 422]
    assert engine.state[result.step("orders").urn].outputs["webhook_id"] == created["id"]
    assert len(live(sandbox)) == 1


# -- secrets and the program side ----------------------------------------------------------------


def test_secrets_stay_out_of_state_errors_and_logs(
    engine: Engine, sandbox: SandboxProcess, make_engine: EngineFactory
) -> None:
    assert engine.up(webhooks(orders=ORDERS)).ok
    assert engine.refresh().ok
    sandbox.settings(token=TOKEN)
    with_input = make_engine(env={"SHOPLAZZA_BASE_URL": sandbox.base_url("shoplazza", "/{shop}")})
    failing = with_input.up(
        webhooks(paid={**ORDERS, "topic": "orders/paid", "access_token": "bad-token-999"})
    )
    ok = with_input.up(webhooks(paid={**ORDERS, "topic": "orders/paid", "access_token": TOKEN}))
    assert ok.ok and not failing.ok
    for eng, secret in ((engine, TOKEN), (with_input, TOKEN), (with_input, "bad-token-999")):
        assert secret not in repr(eng.secret_plaintext_outputs())
        for state in eng.state.values():
            assert secret not in repr(
                {k: v for k, v in state.inputs.items() if k not in state.secret_outputs}
            )
        assert secret not in eng.host.logs()
    assert "bad-token-999" not in (failing.step("paid").error or "")
    assert TOKEN not in repr(sandbox.requests())


def test_the_example_program_runs_against_the_sandbox(engine: Engine, sandbox: SandboxProcess) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "shoplazza" / "__main__.py"
    result = engine.up(lambda: runpy.run_path(str(example), run_name="__main__"))
    assert result.ok, result.steps
    assert result.ops == {"orders-created": "create", "products-updated": "create"}
    hooks = {h["topic"]: h["id"] for h in live(sandbox, "my-store")}
    assert result.outputs == {
        "orders_webhook_id": hooks["orders/create"],
        "products_webhook_id": hooks["products/update"],
    }
    assert engine.destroy().ok and live(sandbox, "my-store") == []


def test_registration_marks_token_secret_and_provider_is_small() -> None:
    def program() -> None:
        topic, address = ORDERS["topic"], ORDERS["address"]
        shoplazza.Webhook("a", shop=SHOP, access_token=TOKEN, topic=topic, address=address)
        shoplazza.Webhook(
            "b", shoplazza.WebhookArgs(shop=SHOP, access_token=TOKEN, topic=topic, address=address)
        )

    a, b = collect(program)
    assert a.type == TYPE == b.type
    assert "access_token" in a.secret_inputs and "access_token" in a.additional_secret_outputs
    assert a.inputs == b.inputs
    provider = a.inputs["__provider"]
    assert len(provider) < 1024
    assert TOKEN.encode() not in base64.b64decode(provider)
    assert b"pulumi_webhooks.shoplazza.provider" in base64.b64decode(provider)


def test_constructor_rejects_mixed_forms() -> None:
    def program() -> None:
        shoplazza.Webhook(
            "a",
            shoplazza.WebhookArgs(shop=SHOP, topic=ORDERS["topic"], address=ORDERS["address"]),
            topic="orders/paid",  # type: ignore[call-overload]
        )

    with pytest.raises(TypeError, match="either WebhookArgs or keyword inputs"):
        collect(program)


def test_outputs_are_typed_attributes() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        hook = shoplazza.Webhook("a", shop=SHOP, topic=ORDERS["topic"], address=ORDERS["address"])
        assert isinstance(hook.webhook_id, pulumi.Output)
        hook.topic.apply(lambda v: seen.setdefault("topic", v))

    collect(program)
    assert seen == {"topic": ORDERS["topic"]}


# -- the client against the sandbox: paging and error shapes --------------------------------------


@pytest.fixture
def client_for(sandbox: SandboxProcess, version: str) -> Iterator[Callable[[str], ShoplazzaApi]]:
    """ShoplazzaApi instances for a shop of the sandbox, in the version under test."""

    def make_api(shop: str) -> ShoplazzaApi:
        return ShoplazzaApi(sandbox.base_url("shoplazza", f"/{shop}"), version, TOKEN)

    yield make_api


def test_list_follows_every_page(
    client_for: Callable[[str], ShoplazzaApi], sandbox: SandboxProcess, version: str
) -> None:
    shop = f"paging-{version}"
    topics = sorted(shoplazza.TOPICS)[:7]
    with store_api(sandbox, version, shop) as api:
        for topic in topics:
            api.post("webhooks", json=body(version, topic=topic, address="https://h.example.com/x"))
    sandbox.clear_log()
    found = client_for(shop).list_webhooks(page_size=2)
    assert [w.topic for w in found] == topics
    queries = [r["path"] for r in sandbox.requests("shoplazza")]
    assert len(queries) == 4  # 2 + 2 + 2 + 1
    assert [w.topic for w in client_for(shop).list_webhooks(topic=topics[3])] == [topics[3]]


def test_error_shapes_map_into_the_error_tree(
    client_for: Callable[[str], ShoplazzaApi], sandbox: SandboxProcess, version: str
) -> None:
    api = client_for(f"errors-{version}")
    # {"errors": {field: [...]}}: the platform's own validation
    with pytest.raises(errors.ApiValidationError) as invalid:
        api.create_webhook(topic="orders/create", address="ftp://hooks.example.com/x")
    assert "HTTP 422" in str(invalid.value) and "address: is invalid" in str(invalid.value)
    assert invalid.value.request_id
    # {"errors": [...]}: an unknown topic, and a second subscription to a topic (a conflict)
    with pytest.raises(errors.ApiValidationError, match="Topic is not allowed"):
        api.create_webhook(topic="orders/nope", address="https://hooks.example.com/x")
    first = api.create_webhook(topic="orders/create", address="https://hooks.example.com/x")
    with pytest.raises(errors.ConflictError, match="Topic already exists"):
        api.create_webhook(topic="orders/create", address="https://hooks.example.com/y")
    # {"errors": ["record not found!"]} and a delete of what is gone
    assert api.find_webhook("00000000-0000-0000-0000-000000000000") is None
    with pytest.raises(errors.NotFoundError, match="record not found!"):
        api.update_webhook("00000000-0000-0000-0000-000000000000", address="https://hooks.example.com/z")
    api.delete_webhook(first.id)
    with pytest.raises(errors.NotFoundError, match="record not found!"):  # the provider lists to confirm
        api.delete_webhook(first.id)
    # {"error": "..."}: a rejected token
    sandbox.settings(token="another-token")
    with pytest.raises(errors.AuthenticationError, match=r"HTTP 401.*: Unauthorized"):
        api.list_webhooks()
