"""shopline.Webhook end to end: a real provider host driven over gRPC against the sandbox subprocess."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import pulumi
import pytest
from conftest import EngineFactory, SandboxProcess
from engine import Engine, collect

import pulumi_webhooks.shopline as shopline

TOKEN = "shpat-7c1e5d9b2a4f80e3"  # recognisable, so the secrecy checks can search for it
HANDLE = "open001"
VERSION = "v20260301"
TYPE = "pulumi-python:dynamic/shopline:Webhook"


def webhooks(**declared: dict[str, Any]) -> Callable[[], None]:
    """A program declaring one SHOPLINE webhook per entry (resource name -> inputs)."""

    def program() -> None:
        for name, inputs in declared.items():
            shopline.Webhook(name, **{"handle": HANDLE, "api_version": VERSION, **inputs})

    return program


ORDERS = {"topic": "orders/create", "address": "https://hooks.example.com/orders"}


def live(sandbox: SandboxProcess, handle: str = HANDLE) -> list[dict[str, Any]]:
    """The subscriptions the store holds, through SHOPLINE's own list endpoint."""
    response = httpx.get(
        f"{sandbox.url}/shopline/{handle}/admin/openapi/{VERSION}/webhooks.json",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    response.raise_for_status()
    hooks: list[dict[str, Any]] = response.json()["webhooks"]
    return hooks


def store_api(sandbox: SandboxProcess) -> httpx.Client:
    return httpx.Client(
        base_url=f"{sandbox.url}/shopline/{HANDLE}/admin/openapi/{VERSION}",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


@pytest.fixture
def engine(sandbox: SandboxProcess, make_engine: EngineFactory) -> Engine:
    """An engine whose token comes from the stack config, as most users set it."""
    return make_engine(
        env={"SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}")},
        config={"shopline:accessToken": TOKEN},
        secret_keys=["shopline:accessToken"],
    )


def test_create_then_no_op_up_makes_no_write(engine: Engine, sandbox: SandboxProcess) -> None:
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ok, result.steps
    assert result.ops == {"orders": "create"}
    [hook] = live(sandbox)
    state = engine.state[result.step("orders").urn]
    assert state.id == f"{HANDLE}/{hook['id']}"
    assert state.outputs["webhook_id"] == str(hook["id"])
    assert state.outputs["address"] == ORDERS["address"]
    assert state.outputs["created_at"] and state.outputs["updated_at"]

    sandbox.clear_log()
    again = engine.up(webhooks(orders=ORDERS))
    assert again.ok and again.ops == {"orders": "same"}
    assert sandbox.writes("shopline") == []
    assert sandbox.requests("shopline") == []  # diff needs no call at all


def test_preview_makes_no_request_and_changes_nothing(engine: Engine, sandbox: SandboxProcess) -> None:
    result = engine.preview(webhooks(orders=ORDERS))
    assert result.ok and result.ops == {"orders": "create"}
    assert sandbox.requests("shopline") == []
    assert engine.state == {}


def test_address_change_updates_in_place(engine: Engine, sandbox: SandboxProcess) -> None:
    engine.up(webhooks(orders=ORDERS))
    [before] = live(sandbox)
    moved = {**ORDERS, "address": "https://hooks.example.com/v2/orders"}
    preview = engine.preview(webhooks(orders=moved))
    assert preview.ops == {"orders": "update"}
    result = engine.up(webhooks(orders=moved))
    assert result.ok and result.ops == {"orders": "update"}
    [after] = live(sandbox)
    assert after["id"] == before["id"] and after["address"] == moved["address"]
    assert [w["method"] for w in sandbox.writes("shopline")] == ["POST", "PUT"]
    assert engine.state[result.step("orders").urn].outputs["address"] == moved["address"]


def test_topic_change_replaces(engine: Engine, sandbox: SandboxProcess) -> None:
    engine.up(webhooks(orders=ORDERS))
    [before] = live(sandbox)
    changed = {**ORDERS, "topic": "orders/paid"}
    result = engine.up(webhooks(orders=changed))
    assert result.ok and result.ops == {"orders": "replace"}
    assert "topic" in result.step("orders").replaces
    [after] = live(sandbox)
    assert after["topic"] == "orders/paid" and after["id"] != before["id"]


def test_api_version_change_replaces_deleting_first(engine: Engine, sandbox: SandboxProcess) -> None:
    # Same topic and address: the store holds one of each, so the old one must go first.
    engine.up(webhooks(orders=ORDERS))
    result = engine.up(webhooks(orders={**ORDERS, "api_version": "v20260601"}))
    assert result.ok, result.steps
    assert result.ops == {"orders": "replace"}
    [after] = live(sandbox)
    assert after["api_version"] == "v20260601"
    assert [w["method"] for w in sandbox.writes("shopline")] == ["POST", "DELETE", "POST"]


def test_refresh_sees_out_of_band_edit_and_up_repairs_it(engine: Engine, sandbox: SandboxProcess) -> None:
    engine.up(webhooks(orders=ORDERS))
    [hook] = live(sandbox)
    with store_api(sandbox) as api:
        api.put(f"{hook['id']}/webhooks.json", json={"webhook": {"address": "https://evil.example.com/x"}})
    refreshed = engine.refresh()
    assert refreshed.ok
    [state] = engine.state.values()
    assert state.outputs["address"] == "https://evil.example.com/x"
    assert state.inputs["address"] == "https://evil.example.com/x"
    preview = engine.preview(webhooks(orders=ORDERS))
    assert preview.ops == {"orders": "update"}
    assert engine.up(webhooks(orders=ORDERS)).ok
    assert [h["address"] for h in live(sandbox)] == [ORDERS["address"]]


def test_refresh_sees_out_of_band_delete_and_up_recreates(engine: Engine, sandbox: SandboxProcess) -> None:
    engine.up(webhooks(orders=ORDERS))
    [hook] = live(sandbox)
    with store_api(sandbox) as api:
        api.delete(f"{hook['id']}/webhooks.json").raise_for_status()
    assert engine.refresh().ok
    assert engine.state == {}
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ops == {"orders": "create"}
    assert len(live(sandbox)) == 1


def test_destroy_removes_everything(engine: Engine, sandbox: SandboxProcess) -> None:
    program = webhooks(
        orders=ORDERS,
        products={"topic": "products/update", "address": "https://hooks.example.com/products"},
        refunds={"topic": "refunds/create", "address": "https://hooks.example.com/refunds"},
    )
    assert engine.up(program).ok
    assert len(live(sandbox)) == 3
    assert engine.destroy().ok
    assert live(sandbox) == [] and engine.state == {}


def test_removed_resource_is_deleted(engine: Engine, sandbox: SandboxProcess) -> None:
    engine.up(webhooks(orders=ORDERS, paid={**ORDERS, "topic": "orders/paid"}))
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ops == {"orders": "same", "paid": "delete"}
    assert [h["topic"] for h in live(sandbox)] == ["orders/create"]


def test_delete_of_a_subscription_already_gone_succeeds(engine: Engine, sandbox: SandboxProcess) -> None:
    engine.up(webhooks(orders=ORDERS))
    with store_api(sandbox) as api:
        api.delete(f"{live(sandbox)[0]['id']}/webhooks.json").raise_for_status()
    assert engine.destroy().ok


def test_a_delete_answered_404_while_the_store_still_lists_it_keeps_the_resource(
    engine: Engine, sandbox: SandboxProcess
) -> None:
    # A 404 counts as "already gone" only when a new listing of the store agrees: here something between
    # (a proxy, a changed route) answers 404 and the subscription would go on delivering.
    assert engine.up(webhooks(orders=ORDERS)).ok
    sandbox.fault("shopline", "status", method="DELETE", path="/webhooks\\.json$", status=404, count=8)
    failed = engine.destroy()
    assert not failed.ok
    error = failed.steps[0].error or ""
    assert "HTTP 404" in error and "still lists it" in error and "stays in the state" in error, error
    assert len(live(sandbox)) == 1 and len(engine.state) == 1


def test_a_delete_sent_to_the_wrong_endpoint_keeps_the_resource(
    engine: Engine, sandbox: SandboxProcess, make_engine: EngineFactory
) -> None:
    # The base URL changed since the create (a typo, another store's host): the delete and the listing
    # both answer 404; destroy must fail rather than drop a subscription that keeps delivering.
    assert engine.up(webhooks(orders=ORDERS)).ok
    elsewhere = make_engine(
        env={
            "SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}").replace("/shopline/", "/shoplin/")
        },
        config={"shopline:accessToken": TOKEN},
        secret_keys=["shopline:accessToken"],
    )
    elsewhere.state = dict(engine.state)
    failed = elsewhere.destroy()
    assert not failed.ok
    error = failed.steps[0].error or ""
    assert "answered 404 too" in error and "base URL" in error, error
    assert len(live(sandbox)) == 1 and len(elsewhere.state) == 1


BAD_INPUTS = [
    ("address", "http://hooks.example.com/x", "https://"),
    ("address", "https://localhost/x", "public host"),
    ("address", "https://10.1.2.3/x", "public host"),
    ("address", "https://[::1]/x", "public host"),
    ("address", "https://hooks.example.com/" + "a" * 240, "255"),
    ("topic", "orders/creat", "did you mean 'orders/create'"),
    ("api_version", "v20240301", "v20240601 or later"),
    ("api_version", "2026-03-01", "vYYYYMMDD"),
    ("handle", "Open 001", "store handle"),
]


@pytest.mark.parametrize(("field", "value", "reason"), BAD_INPUTS)
def test_bad_input_fails_at_preview_naming_the_field(
    engine: Engine, sandbox: SandboxProcess, field: str, value: str, reason: str
) -> None:
    result = engine.preview(webhooks(orders={**ORDERS, field: value}))
    assert not result.ok
    failures = result.step("orders").failures
    assert any(prop == field and reason in text for prop, text in failures), failures
    assert sandbox.requests("shopline") == []


def test_order_update_topic_is_orders_updated_and_the_prose_spelling_is_refused(
    engine: Engine, sandbox: SandboxProcess
) -> None:
    """Source: shoplineos/shopline-sdk-go ``webhook/v20260301/order/order_update.go`` and
    ``webhook/v20251201/order/order_update.go``: ``GetSupportedTopic()`` returns ``orders/updated``;
    ``orders/update`` is only a prose example (platforms.md "Round 2"), never a delivered topic."""
    assert engine.preview(webhooks(b={**ORDERS, "topic": "orders/updated"})).ok
    for version in ("v20240601", "v20251201", "v20260301", "v20270301"):
        result = engine.preview(webhooks(a={**ORDERS, "topic": "orders/update", "api_version": version}))
        assert not result.ok
        failures = result.step("a").failures
        assert any(prop == "topic" and "did you mean 'orders/updated'" in text for prop, text in failures), (
            failures
        )
    assert sandbox.requests("shopline") == []


def test_missing_credentials_fail_at_preview_naming_config_and_variable(
    sandbox: SandboxProcess, make_engine: EngineFactory
) -> None:
    engine = make_engine(env={"SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}")})
    result = engine.preview(webhooks(orders=ORDERS))
    assert not result.ok
    [(field, reason)] = result.step("orders").failures
    assert field == "access_token"
    assert "shopline:accessToken" in reason and "SHOPLINE_ACCESS_TOKEN" in reason


def test_token_from_environment_and_from_input(sandbox: SandboxProcess, make_engine: EngineFactory) -> None:
    base = {"SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}")}
    from_env = make_engine(env={**base, "SHOPLINE_ACCESS_TOKEN": TOKEN})
    assert from_env.up(webhooks(orders=ORDERS)).ok
    from_input = make_engine(env=base)
    result = from_input.up(webhooks(paid={**ORDERS, "topic": "orders/paid", "access_token": TOKEN}))
    assert result.ok, result.steps
    [state] = from_input.state.values()
    assert "access_token" in state.secret_outputs
    assert from_input.destroy().ok  # delete reads the token back from (secret) state


def test_rejected_token_is_a_clear_error(sandbox: SandboxProcess, make_engine: EngineFactory) -> None:
    sandbox.settings(token=TOKEN)
    engine = make_engine(
        env={
            "SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}"),
            "SHOPLINE_ACCESS_TOKEN": "wrong-1234",
        }
    )
    result = engine.up(webhooks(orders=ORDERS))
    assert not result.ok
    error = result.step("orders").error or ""
    assert "SHOPLINE create failed" in error or "SHOPLINE list webhooks failed" in error
    assert "HTTP 401" in error and "request id" in error and "shopline:accessToken" in error
    assert "wrong-1234" not in error
    assert error.count("\n") < 12, error  # a short message, not a stack of frames


def test_429_with_retry_after_and_503_are_retried(engine: Engine, sandbox: SandboxProcess) -> None:
    sandbox.fault("shopline", "status", method="POST", status=429, retry_after=1, count=1)
    sandbox.fault("shopline", "status", method="GET", status=503, count=2)
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ok, result.steps
    assert len(live(sandbox)) == 1
    statuses = [r["status"] for r in sandbox.requests("shopline")]
    assert statuses.count(503) == 2 and statuses.count(429) == 1


def test_create_whose_response_is_lost_leaves_exactly_one(engine: Engine, sandbox: SandboxProcess) -> None:
    sandbox.fault("shopline", "commit_then_drop", method="POST", path=r"webhooks\.json$", count=1)
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ok, result.steps
    hooks = live(sandbox)
    assert len(hooks) == 1
    assert engine.state[result.step("orders").urn].id == f"{HANDLE}/{hooks[0]['id']}"


def test_create_with_malformed_answer_leaves_exactly_one(engine: Engine, sandbox: SandboxProcess) -> None:
    sandbox.fault("shopline", "truncated", method="POST", count=1)
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ok, result.steps
    assert len(live(sandbox)) == 1


def test_existing_identical_subscription_is_adopted_silently(engine: Engine, sandbox: SandboxProcess) -> None:
    with store_api(sandbox) as api:
        created = api.post("webhooks.json", json={"webhook": {**ORDERS, "api_version": VERSION}}).json()
    result = engine.up(webhooks(orders=ORDERS))
    assert result.ok
    assert engine.state[result.step("orders").urn].outputs["webhook_id"] == str(created["webhook"]["id"])
    assert len(live(sandbox)) == 1


def test_existing_different_subscription_needs_adopt(engine: Engine, sandbox: SandboxProcess) -> None:
    with store_api(sandbox) as api:
        created = api.post("webhooks.json", json={"webhook": {**ORDERS, "api_version": "v20250601"}}).json()
    existing_id = created["webhook"]["id"]
    refused = engine.up(webhooks(orders=ORDERS))
    assert not refused.ok
    error = refused.step("orders").error or ""
    assert f"id {existing_id}" in error and "adopt=True" in error
    assert len(live(sandbox)) == 1

    adopted = engine.up(webhooks(orders={**ORDERS, "adopt": True}))
    assert adopted.ok, adopted.steps
    [hook] = live(sandbox)
    assert hook["api_version"] == VERSION


def test_secrets_stay_out_of_state_errors_and_logs(
    engine: Engine, sandbox: SandboxProcess, make_engine: EngineFactory
) -> None:
    assert engine.up(webhooks(orders=ORDERS)).ok
    assert engine.refresh().ok
    sandbox.settings(token=TOKEN)
    with_input = make_engine(env={"SHOPLINE_BASE_URL": sandbox.base_url("shopline", "/{handle}")})
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


def test_registration_marks_token_secret_and_provider_is_small() -> None:
    def program() -> None:
        topic, address = ORDERS["topic"], ORDERS["address"]
        shopline.Webhook(
            "a", handle=HANDLE, api_version=VERSION, access_token=TOKEN, topic=topic, address=address
        )
        shopline.Webhook(
            "b",
            shopline.WebhookArgs(
                handle=HANDLE, api_version=VERSION, access_token=TOKEN, topic=topic, address=address
            ),
        )
        shopline.Webhook(  # the form generated SDKs accept too
            "c",
            args=shopline.WebhookArgs(
                handle=HANDLE, api_version=VERSION, access_token=TOKEN, topic=topic, address=address
            ),
        )

    a, b, c = sorted(collect(program), key=lambda registration: registration.name)
    assert a.type == TYPE == b.type == c.type
    assert "access_token" in a.secret_inputs and "access_token" in a.additional_secret_outputs
    assert {k: v for k, v in a.inputs.items()} == {k: v for k, v in b.inputs.items()} == dict(c.inputs)
    provider = a.inputs["__provider"]
    assert len(provider) < 1024
    assert TOKEN.encode() not in base64.b64decode(provider)
    assert b"pulumi_webhooks.shopline.provider" in base64.b64decode(provider)


def test_constructor_rejects_mixed_forms() -> None:
    def program() -> None:
        shopline.Webhook(
            "a",
            shopline.WebhookArgs(
                handle=HANDLE, api_version=VERSION, topic=ORDERS["topic"], address=ORDERS["address"]
            ),
            topic="orders/paid",  # type: ignore[call-overload]
        )

    with pytest.raises(TypeError, match="either WebhookArgs or keyword inputs"):
        collect(program)


def test_outputs_are_typed_attributes() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        hook = shopline.Webhook(
            "a", handle=HANDLE, api_version=VERSION, topic=ORDERS["topic"], address=ORDERS["address"]
        )
        assert isinstance(hook.webhook_id, pulumi.Output)
        hook.address.apply(lambda v: seen.setdefault("address", v))

    collect(program)
    assert seen == {"address": ORDERS["address"]}


def test_one_listing_per_run_serves_lookups_and_refresh(engine: Engine, sandbox: SandboxProcess) -> None:
    declared = {
        f"hook{i}": {"topic": "orders/create", "address": f"https://hooks.example.com/{i}"} for i in range(10)
    }
    assert engine.up(webhooks(**declared)).ok
    assert [r["method"] for r in sandbox.requests("shopline")] == ["GET"] + ["POST"] * 10
    sandbox.clear_log()
    assert engine.refresh().ok
    assert [r["method"] for r in sandbox.requests("shopline")] == ["GET"]  # not one GET per resource
    assert len(engine.state) == 10
