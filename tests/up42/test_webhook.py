"""up42.Webhook end to end: a real provider host driven over gRPC against the sandbox subprocess."""

from __future__ import annotations

import base64
import runpy
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pulumi
import pytest
from conftest import EngineFactory, SandboxProcess
from engine import Engine, collect

import pulumi_webhooks.up42 as up42
from pulumi_webhooks import errors

# Recognisable values, so that the secrecy checks can search for them.
USER = "pilot@example.com"
PASSWORD = "pw-Up42-9c1e7a5b"
SECRET = "whsec-4b8d2f6a1e"
OTHER_SECRET = "whsec-77aa31c0de"
TOKEN_PREFIX = "sbx-up42."  # every token the sandbox issues starts with it

WS = "0cb1eaa0-89a3-11ec-a8a3-0242ac120002"
WS2 = "5e0d3c52-2f7b-4d1e-9a8c-1b2c3d4e5f60"
TYPE = "pulumi-python:dynamic/up42:Webhook"
TOKEN_PATH = "/up42/auth/realms/public/protocol/openid-connect/token"
EVENTS_PATH = "/up42/api/webhooks/events"

JOBS: dict[str, Any] = {
    "url": "https://hooks.example.com/up42/jobs",
    "events": ["job.status", "order.status"],
}
ORDERS: dict[str, Any] = {"url": "https://hooks.example.com/up42/orders", "events": ["order.status"]}


def webhooks(**declared: dict[str, Any]) -> Callable[[], None]:
    """A program declaring one UP42 webhook per entry (resource name -> inputs)."""

    def program() -> None:
        for name, inputs in declared.items():
            up42.Webhook(name, **{"workspace_id": WS, **inputs})

    return program


def live(sandbox: SandboxProcess, ws: str = WS) -> list[dict[str, Any]]:
    """The webhooks the workspace holds, as the platform stores them."""
    hooks: list[dict[str, Any]] = sandbox.state()["up42"]["workspaces"].get(ws, [])
    return hooks


def platform_token(sandbox: SandboxProcess) -> str:
    form = {"grant_type": "password", "client_id": "up42-api", "username": USER, "password": PASSWORD}
    response = httpx.post(f"{sandbox.url}{TOKEN_PATH}", data=form)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def platform_api(sandbox: SandboxProcess) -> httpx.Client:
    """UP42's own API, as another tool (or a person in the console) would change things."""
    return httpx.Client(
        base_url=f"{sandbox.url}/up42/api/workspaces/{WS}/",
        headers={"Authorization": f"Bearer {platform_token(sandbox)}"},
    )


def api_writes(sandbox: SandboxProcess) -> list[tuple[str, str]]:
    """(method, last path segment) of every write to the webhook API (token requests excluded)."""
    return [
        (r["method"], r["path"].rsplit("/", 1)[-1])
        for r in sandbox.writes("up42")
        if r["path"].startswith("/up42/api/")
    ]


def count(sandbox: SandboxProcess, method: str, path: str) -> int:
    return sum(1 for r in sandbox.requests("up42") if (r["method"], r["path"]) == (method, path))


def admin(sandbox: SandboxProcess, **values: Any) -> None:
    sandbox.admin.post("/up42/_admin/settings", json=values).raise_for_status()


@pytest.fixture
def up42_env(sandbox: SandboxProcess) -> dict[str, str]:
    """The sandbox as the UP42 endpoints, with one account (so a wrong password is refused)."""
    admin(sandbox, account={"username": USER, "password": PASSWORD})
    sandbox.clear_log()
    return {"UP42_BASE_URL": f"{sandbox.url}/up42/api", "UP42_AUTH_URL": f"{sandbox.url}{TOKEN_PATH}"}


@pytest.fixture
def engine(up42_env: dict[str, str], make_engine: EngineFactory) -> Engine:
    """An engine that signs in with username and password from the stack config, as most users do."""
    return make_engine(
        env=up42_env,
        config={"up42:username": USER, "up42:password": PASSWORD},
        secret_keys=["up42:password"],
    )


# -- the life cycle ----------------------------------------------------------------------------------
def test_create_then_no_op_up_makes_no_request(engine: Engine, sandbox: SandboxProcess) -> None:
    result = engine.up(webhooks(jobs={**JOBS, "events": ["order.status", "job.status", "job.status"]}))
    assert result.ok, result.steps
    assert result.ops == {"jobs": "create"}
    [hook] = live(sandbox)
    state = engine.state[result.step("jobs").urn]
    assert state.id == f"{WS}/{hook['id']}"
    assert state.outputs["webhook_id"] == hook["id"]
    assert state.outputs["events"] == state.inputs["events"] == ["job.status", "order.status"]
    assert state.outputs["name"] == hook["name"] == "jobs"  # the resource name by default
    assert state.outputs["active"] is True and hook["active"] is True  # UP42's own default is false
    assert state.outputs["created_at"] and state.outputs["updated_at"]
    assert count(sandbox, "POST", TOKEN_PATH) == 1 and count(sandbox, "GET", EVENTS_PATH) == 1

    sandbox.clear_log()
    again = engine.up(webhooks(jobs=JOBS))
    assert again.ok and again.ops == {"jobs": "same"}
    # A new run (a new process) reads the public catalog once; diff needs no call, nothing is written.
    assert [r["path"] for r in sandbox.requests("up42")] == [EVENTS_PATH]


def test_preview_reads_only_the_event_catalog(engine: Engine, sandbox: SandboxProcess) -> None:
    result = engine.preview(webhooks(jobs=JOBS, orders=ORDERS))
    assert result.ok and result.ops == {"jobs": "create", "orders": "create"}
    assert [(r["method"], r["path"]) for r in sandbox.requests("up42")] == [("GET", EVENTS_PATH)]
    assert engine.state == {}


def test_one_token_request_per_run(engine: Engine, sandbox: SandboxProcess) -> None:
    program = webhooks(
        a={**JOBS, "url": "https://hooks.example.com/a"},
        b={**JOBS, "url": "https://hooks.example.com/b"},
        c={**JOBS, "url": "https://hooks.example.com/c"},
        d={**JOBS, "url": "https://hooks.example.com/d"},
    )
    # Every command is a new provider process: one token request each (single flight, then the cached
    # token for all four resources), never one per resource.
    assert engine.up(program, parallel=4).ok
    assert count(sandbox, "POST", TOKEN_PATH) == 1
    assert engine.refresh(parallel=4).ok
    assert engine.destroy(parallel=4).ok
    assert count(sandbox, "POST", TOKEN_PATH) == 3
    assert count(sandbox, "GET", EVENTS_PATH) == 1  # the catalog is read at check time: up only


def test_every_field_but_the_workspace_updates_in_place(engine: Engine, sandbox: SandboxProcess) -> None:
    assert engine.up(webhooks(jobs={**JOBS, "secret": SECRET})).ok
    [before] = live(sandbox)
    changed = {
        "url": "https://hooks.example.com/v2/jobs",
        "events": ["job.status"],
        "name": "Job alerts",
        "active": False,
        "secret": SECRET,
    }
    preview = engine.preview(webhooks(jobs=changed))
    assert preview.ops == {"jobs": "update"}
    sandbox.clear_log()
    result = engine.up(webhooks(jobs=changed))
    assert result.ok and result.ops == {"jobs": "update"}
    assert set(result.step("jobs").changes) == {"url", "events", "name", "active"}
    [after] = live(sandbox)
    assert after["id"] == before["id"]
    assert {k: after[k] for k in changed} == changed  # the full body: the secret was sent again
    assert api_writes(sandbox) == [("PUT", before["id"])]
    outputs = engine.state[result.step("jobs").urn].outputs
    assert (outputs["url"], outputs["name"], outputs["active"]) == (changed["url"], "Job alerts", False)


def test_events_order_and_duplicates_make_no_diff(engine: Engine, sandbox: SandboxProcess) -> None:
    assert engine.up(webhooks(jobs={**JOBS, "events": ["order.status", "job.status"]})).ok
    sandbox.clear_log()
    result = engine.up(webhooks(jobs={**JOBS, "events": ["job.status", "order.status", "job.status"]}))
    assert result.ok and result.ops == {"jobs": "same"}
    assert [r["path"] for r in sandbox.requests("up42")] == [EVENTS_PATH]  # the new run's catalog read


def test_changed_secret_is_updated_in_place(engine: Engine, sandbox: SandboxProcess) -> None:
    assert engine.up(webhooks(jobs={**JOBS, "secret": SECRET})).ok
    [before] = live(sandbox)
    sandbox.clear_log()
    result = engine.up(webhooks(jobs={**JOBS, "secret": OTHER_SECRET}))
    assert result.ok and result.ops == {"jobs": "update"}
    assert result.step("jobs").changes == ("secret",)
    [after] = live(sandbox)
    assert (after["id"], after["secret"]) == (before["id"], OTHER_SECRET)
    assert api_writes(sandbox) == [("PUT", before["id"])]
    state = engine.state[result.step("jobs").urn]
    assert state.outputs["secret"] == OTHER_SECRET and "secret" in state.secret_outputs


def test_removing_the_secret_clears_it(engine: Engine, sandbox: SandboxProcess) -> None:
    assert engine.up(webhooks(jobs={**JOBS, "secret": SECRET})).ok
    result = engine.up(webhooks(jobs=JOBS))
    assert result.ok and result.ops == {"jobs": "update"}
    assert [h["secret"] for h in live(sandbox)] == [""]
    assert "secret" not in engine.state[result.step("jobs").urn].outputs
    assert engine.up(webhooks(jobs=JOBS)).ops == {"jobs": "same"}  # "" on the platform is "no secret"
    assert engine.up(webhooks(jobs={**JOBS, "secret": ""})).ops == {"jobs": "same"}  # and "" declared too


def test_workspace_change_replaces(engine: Engine, sandbox: SandboxProcess) -> None:
    assert engine.up(webhooks(jobs=JOBS)).ok
    [before] = live(sandbox)
    sandbox.clear_log()
    result = engine.up(webhooks(jobs={**JOBS, "workspace_id": WS2}))
    assert result.ok and result.ops == {"jobs": "replace"}
    assert result.step("jobs").replaces == ("workspace_id",)
    [after] = live(sandbox, WS2)
    assert after["id"] != before["id"] and live(sandbox) == []
    assert api_writes(sandbox) == [("POST", "webhooks"), ("DELETE", before["id"])]  # create, then delete
    assert engine.state[result.step("jobs").urn].id == f"{WS2}/{after['id']}"


def test_refresh_sees_out_of_band_edit_and_up_repairs_it(engine: Engine, sandbox: SandboxProcess) -> None:
    assert engine.up(webhooks(jobs=JOBS)).ok
    [hook] = live(sandbox)
    edited = {
        "url": "https://evil.example.com/x",
        "name": "edited",
        "events": ["job.status"],
        "active": False,
    }
    with platform_api(sandbox) as api:
        api.put(f"webhooks/{hook['id']}", json=edited).raise_for_status()
    refreshed = engine.refresh()
    assert refreshed.ok
    [state] = engine.state.values()
    for key, value in edited.items():
        assert state.outputs[key] == state.inputs[key] == value
    assert engine.preview(webhooks(jobs=JOBS)).ops == {"jobs": "update"}
    assert engine.up(webhooks(jobs=JOBS)).ok
    [repaired] = live(sandbox)
    assert (repaired["id"], repaired["url"], repaired["name"], repaired["active"]) == (
        hook["id"],
        JOBS["url"],
        "jobs",
        True,
    )
    assert repaired["events"] == JOBS["events"]


def test_secret_changed_on_the_platform_is_seen_and_put_back(engine: Engine, sandbox: SandboxProcess) -> None:
    assert engine.up(webhooks(jobs={**JOBS, "secret": SECRET})).ok
    [hook] = live(sandbox)
    drifted = {**JOBS, "name": "jobs", "active": True, "secret": OTHER_SECRET}
    with platform_api(sandbox) as api:
        api.put(f"webhooks/{hook['id']}", json=drifted).raise_for_status()
    refreshed = engine.refresh()
    assert refreshed.ok and refreshed.step("jobs").changes == ("secret", "updated_at")
    [state] = engine.state.values()
    assert state.outputs["secret"] == OTHER_SECRET and "secret" in state.secret_outputs
    assert OTHER_SECRET not in repr(engine.secret_plaintext_outputs())
    assert OTHER_SECRET not in repr(refreshed) and OTHER_SECRET not in engine.host.logs()
    preview = engine.preview(webhooks(jobs={**JOBS, "secret": SECRET}))
    assert preview.ops == {"jobs": "update"} and preview.step("jobs").changes == ("secret",)
    assert engine.up(webhooks(jobs={**JOBS, "secret": SECRET})).ok
    assert [h["secret"] for h in live(sandbox)] == [SECRET]


def test_refresh_sees_out_of_band_delete_and_up_recreates(engine: Engine, sandbox: SandboxProcess) -> None:
    assert engine.up(webhooks(jobs=JOBS)).ok
    [hook] = live(sandbox)
    with platform_api(sandbox) as api:
        assert api.delete(f"webhooks/{hook['id']}").status_code == 204
    assert engine.refresh().ok
    assert engine.state == {}
    result = engine.up(webhooks(jobs=JOBS))
    assert result.ops == {"jobs": "create"}
    assert len(live(sandbox)) == 1


def test_destroy_removes_everything(engine: Engine, sandbox: SandboxProcess) -> None:
    program = webhooks(jobs=JOBS, orders=ORDERS, elsewhere={**JOBS, "workspace_id": WS2})
    assert engine.up(program).ok
    assert len(live(sandbox)) == 2 and len(live(sandbox, WS2)) == 1
    assert engine.destroy().ok
    assert live(sandbox) == [] and live(sandbox, WS2) == [] and engine.state == {}


def test_removed_resource_is_deleted_and_a_gone_one_counts_as_deleted(
    engine: Engine, sandbox: SandboxProcess
) -> None:
    assert engine.up(webhooks(jobs=JOBS, orders=ORDERS)).ok
    result = engine.up(webhooks(jobs=JOBS))
    assert result.ops == {"jobs": "same", "orders": "delete"}
    [hook] = live(sandbox)
    with platform_api(sandbox) as api:
        api.delete(f"webhooks/{hook['id']}").raise_for_status()
    assert engine.destroy().ok and engine.state == {}


# -- verify ------------------------------------------------------------------------------------------
def test_verify_passes_on_an_active_webhook(engine: Engine, sandbox: SandboxProcess) -> None:
    result = engine.up(webhooks(jobs={**JOBS, "verify": True}))
    assert result.ok, result.steps
    [hook] = live(sandbox)
    assert api_writes(sandbox) == [("POST", "webhooks"), ("POST", "tests")]
    assert engine.state[result.step("jobs").urn].outputs["verify"] is True
    assert hook["active"] is True


def test_verify_failing_on_an_inactive_webhook_leaves_nothing(
    engine: Engine, sandbox: SandboxProcess
) -> None:
    result = engine.up(webhooks(jobs={**JOBS, "active": False, "verify": True}))
    assert not result.ok
    error = result.step("jobs").error or ""
    assert "UP42 verify webhook failed" in error
    assert "testsRun 2, testsSucceeded 0, testsFailed 2" in error
    assert "inactive" in error and "deleted again" in error
    assert error.count("\n") < 12, error
    assert live(sandbox) == [] and engine.state == {}
    writes = api_writes(sandbox)
    assert [m for m, _ in writes] == ["POST", "POST", "DELETE"] and writes[1] == ("POST", "tests")


def test_verify_failing_never_deletes_a_webhook_it_took_over(engine: Engine, sandbox: SandboxProcess) -> None:
    # One process: the first up's listing of the workspace is still this run's picture when someone
    # creates a webhook for the url out of band; the create then collides (409), finds that one and
    # takes it over. A failed verification deletes only what this create wrote: not someone else's.
    one_process = Engine(engine.host, fresh_process_per_run=False)
    assert one_process.up(webhooks(orders=ORDERS)).ok
    with platform_api(sandbox) as api:
        theirs = {"name": "theirs", "url": JOBS["url"], "events": JOBS["events"], "active": False}
        api.post("webhooks", json=theirs).raise_for_status()
    [foreign] = [h for h in live(sandbox) if h["url"] == JOBS["url"]]

    failed = one_process.up(
        webhooks(orders=ORDERS, jobs={**JOBS, "name": "theirs", "active": False, "verify": True})
    )

    assert not failed.ok
    error = failed.step("jobs").error or ""
    assert "testsFailed 2" in error and "deleted" not in error, error
    assert [h["id"] for h in live(sandbox) if h["url"] == JOBS["url"]] == [foreign["id"]]


def test_verify_failing_after_an_update_fails_the_step(engine: Engine, sandbox: SandboxProcess) -> None:
    assert engine.up(webhooks(jobs={**JOBS, "verify": True})).ok
    admin(sandbox, unreachable_hosts=["down.example.com"])
    moved = {**JOBS, "url": "https://down.example.com/hook", "verify": True}
    failed = engine.up(webhooks(jobs=moved))
    assert not failed.ok
    error = failed.step("jobs").error or ""
    assert "testsRun 2, testsSucceeded 0, testsFailed 2" in error and "deleted" not in error
    [state] = engine.state.values()
    assert state.outputs["url"] == JOBS["url"]  # the step failed: state keeps the old outputs
    admin(sandbox, unreachable_hosts=[])
    retried = engine.up(webhooks(jobs=moved))
    assert retried.ok and retried.ops == {"jobs": "update"}
    assert [h["url"] for h in live(sandbox)] == [moved["url"]]


# -- bad input and settings fail at preview ----------------------------------------------------------
BAD_INPUTS: list[tuple[str, Any, str]] = [
    ("url", "http://hooks.example.com/x", "https://"),
    ("url", "https://localhost/x", "public host"),
    ("url", "https://192.168.1.20/x", "public host"),
    ("url", "https://[::1]/x", "public host"),
    ("url", "https://hooks.example.com/" + "a" * 2030, "2048"),
    ("events", ["job.stauts"], "did you mean 'job.status'"),
    ("events", [], "at least one event"),
    ("events", ["job.status, order.status"], "one list element"),
    ("events", ["job.status", 7], "list of strings"),
    ("workspace_id", "my-workspace", "UUID"),
    ("name", "", "is required"),
    ("name", "n" * 256, "255"),
    ("active", "yes", "must be a bool"),
    ("verify", "yes", "must be a bool"),
]


@pytest.mark.parametrize(("field", "value", "reason"), BAD_INPUTS)
def test_bad_input_fails_at_preview_naming_the_field(
    engine: Engine, sandbox: SandboxProcess, field: str, value: Any, reason: str
) -> None:
    result = engine.preview(webhooks(jobs={**JOBS, field: value}))
    assert not result.ok
    failures = result.step("jobs").failures
    assert any(prop == field and reason in text for prop, text in failures), failures
    assert [r["path"] for r in sandbox.requests("up42")] in ([], [EVENTS_PATH])  # at most the catalog


def test_missing_credentials_fail_at_preview_naming_config_and_variables(
    up42_env: dict[str, str], make_engine: EngineFactory
) -> None:
    engine = make_engine(env=up42_env)
    result = engine.preview(webhooks(jobs=JOBS))
    assert not result.ok
    [(field, reason)] = result.step("jobs").failures
    assert field == "access_token"
    for name in ("up42:username", "up42:password", "UP42_USERNAME", "UP42_PASSWORD"):
        assert name in reason
    assert "up42:accessToken" in reason and "UP42_ACCESS_TOKEN" in reason

    half = make_engine(env={**up42_env, "UP42_USERNAME": USER})
    [(field, reason)] = half.preview(webhooks(jobs=JOBS)).step("jobs").failures
    assert field == "access_token" and "up42:password" in reason and "UP42_PASSWORD" in reason


def test_bad_region_or_endpoint_fails_at_preview(
    up42_env: dict[str, str], make_engine: EngineFactory
) -> None:
    creds = {"UP42_USERNAME": USER, "UP42_PASSWORD": PASSWORD}
    engine = make_engine(env={**up42_env, **creds}, config={"up42:region": "mars"})
    [(field, reason)] = engine.preview(webhooks(jobs=JOBS)).step("jobs").failures
    assert field == "" and "up42:region" in reason and "UP42_REGION" in reason and "eu, sa" in reason
    plain_http = make_engine(env={**up42_env, **creds, "UP42_BASE_URL": "http://api.up42.example.com"})
    [(field, reason)] = plain_http.preview(webhooks(jobs=JOBS)).step("jobs").failures
    assert "up42:baseUrl" in reason and "https://" in reason


def test_region_is_ignored_when_base_urls_are_given(
    up42_env: dict[str, str], make_engine: EngineFactory
) -> None:
    engine = make_engine(
        env={**up42_env, "UP42_USERNAME": USER, "UP42_PASSWORD": PASSWORD, "UP42_REGION": "sa"}
    )
    assert engine.up(webhooks(jobs=JOBS)).ok


# -- credentials and tokens --------------------------------------------------------------------------
def test_credentials_from_environment(
    sandbox: SandboxProcess, up42_env: dict[str, str], make_engine: EngineFactory
) -> None:
    engine = make_engine(env={**up42_env, "UP42_USERNAME": USER, "UP42_PASSWORD": PASSWORD})
    assert engine.up(webhooks(jobs=JOBS)).ok
    assert engine.destroy().ok


def test_given_access_token_is_used_as_is(
    sandbox: SandboxProcess, up42_env: dict[str, str], make_engine: EngineFactory
) -> None:
    token = platform_token(sandbox)
    sandbox.clear_log()
    engine = make_engine(env=up42_env)
    result = engine.up(webhooks(jobs={**JOBS, "access_token": token}))
    assert result.ok, result.steps
    state = engine.state[result.step("jobs").urn]
    assert "access_token" in state.secret_outputs
    assert token not in repr(engine.secret_plaintext_outputs())
    assert engine.destroy().ok  # delete reads the token back from (secret) state
    assert count(sandbox, "POST", TOKEN_PATH) == 0


def test_rejected_given_token_falls_back_to_the_password(
    sandbox: SandboxProcess, up42_env: dict[str, str], make_engine: EngineFactory
) -> None:
    stale = platform_token(sandbox)
    sandbox.admin.post("/up42/_admin/revoke-tokens").raise_for_status()
    sandbox.clear_log()
    engine = make_engine(
        env={**up42_env, "UP42_ACCESS_TOKEN": stale, "UP42_USERNAME": USER, "UP42_PASSWORD": PASSWORD}
    )
    engine.fresh_process_per_run = False  # one process for both commands: the 401 is remembered
    assert engine.up(webhooks(jobs=JOBS)).ok
    assert engine.refresh().ok
    statuses = [r["status"] for r in sandbox.requests("up42") if r["path"] != EVENTS_PATH]
    assert statuses.count(401) == 1  # the stale token once; the password grant from then on
    assert count(sandbox, "POST", TOKEN_PATH) == 1


def test_stale_given_token_without_password_is_a_clear_error(
    sandbox: SandboxProcess, up42_env: dict[str, str], make_engine: EngineFactory
) -> None:
    stale = platform_token(sandbox)
    sandbox.admin.post("/up42/_admin/revoke-tokens").raise_for_status()
    engine = make_engine(env={**up42_env, "UP42_ACCESS_TOKEN": stale})
    result = engine.up(webhooks(jobs=JOBS))
    error = result.step("jobs").error or ""
    assert "HTTP 401" in error and "request id" in error and "live 5 minutes" in error
    assert stale not in error and stale not in engine.host.logs()


def test_wrong_password_is_a_clear_error(
    sandbox: SandboxProcess, up42_env: dict[str, str], make_engine: EngineFactory
) -> None:
    wrong = "not-the-password-31"
    engine = make_engine(env={**up42_env, "UP42_USERNAME": USER, "UP42_PASSWORD": wrong})
    result = engine.up(webhooks(jobs=JOBS))
    assert not result.ok
    error = result.step("jobs").error or ""
    assert "UP42 token request failed" in error and "HTTP 401" in error and "invalid_grant" in error
    assert "up42:username" in error and "UP42_PASSWORD" in error
    assert wrong not in error and wrong not in engine.host.logs()
    assert error.count("\n") < 12, error
    assert count(sandbox, "POST", TOKEN_PATH) == 1  # a refused password is not retried


def test_token_revoked_mid_run_is_renewed_once(engine: Engine, sandbox: SandboxProcess) -> None:
    engine.fresh_process_per_run = False  # the second up runs in the process that holds the token
    assert engine.up(webhooks(jobs=JOBS)).ok
    sandbox.admin.post("/up42/_admin/revoke-tokens").raise_for_status()
    sandbox.clear_log()
    result = engine.up(webhooks(jobs={**JOBS, "name": "renamed"}))
    assert result.ok, result.steps
    log = [(r["method"], r["path"].rsplit("/", 1)[-1], r["status"]) for r in sandbox.requests("up42")]
    assert [(m, s) for m, _, s in log] == [("PUT", 401), ("POST", 200), ("PUT", 200)]
    assert log[1][1] == "token"
    assert [h["name"] for h in live(sandbox)] == ["renamed"]


def test_token_is_renewed_ahead_of_its_expiry(engine: Engine, sandbox: SandboxProcess) -> None:
    admin(sandbox, token_lifetime=2)  # renewed after half its life (the margin is 30 s for 5-minute tokens)
    assert engine.up(webhooks(jobs=JOBS)).ok
    time.sleep(1.2)
    sandbox.clear_log()
    assert engine.refresh().ok
    log = [(r["method"], r["path"], r["status"]) for r in sandbox.requests("up42")]
    assert log[0] == ("POST", TOKEN_PATH, 200)  # a new token first: the old one was about to expire
    assert [s for _, _, s in log] == [200, 200]


# -- retries and lost answers ------------------------------------------------------------------------
def test_429_with_retry_after_and_503_are_retried(engine: Engine, sandbox: SandboxProcess) -> None:
    sandbox.fault("up42", "status", method="POST", path=r"/webhooks$", status=429, retry_after=1)
    sandbox.fault("up42", "status", method="GET", path=r"/webhooks$", status=503, count=2)
    sandbox.fault("up42", "status", method="POST", path=r"/token$", status=503)
    result = engine.up(webhooks(jobs=JOBS))
    assert result.ok, result.steps
    assert len(live(sandbox)) == 1
    statuses = [r["status"] for r in sandbox.requests("up42")]
    assert statuses.count(503) == 3 and statuses.count(429) == 1


# An error inside a 2xx answer ({"data": null, "error": …}): UP42 answered, so the write may have gone
# through. Before the fix, a create answered so was sent again without a look-up (6 POSTs in 5 s).
UNAVAILABLE = {"data": None, "error": {"code": 500, "message": "temporarily unavailable"}}


def test_error_inside_a_2xx_create_answer_is_looked_up_before_another_post(
    engine: Engine, sandbox: SandboxProcess
) -> None:
    hooks = f"/up42/api/workspaces/{WS}/webhooks"
    sandbox.fault("up42", "status", method="GET", path=r"/webhooks$", status=200, body=UNAVAILABLE)
    sandbox.fault("up42", "status", method="POST", path=r"/webhooks$", status=200, body=UNAVAILABLE)
    result = engine.up(webhooks(jobs=JOBS))
    assert result.ok, result.steps
    assert len(live(sandbox)) == 1
    calls = [(r["method"], r["fault"]) for r in sandbox.requests("up42") if r["path"] == hooks]
    assert calls == [
        ("GET", "status"),  # a read answered so is tried again at once, as before (it writes nothing)
        ("GET", None),
        ("POST", "status"),
        ("GET", None),  # the look-up before the create is sent again
        ("POST", None),
    ], calls


@pytest.mark.parametrize(
    ("code", "error_class", "committed", "sent_again"),
    [
        (500, errors.ServerError, True, False),
        ("INTERNAL", errors.ServerError, True, False),
        (None, errors.ServerError, True, False),
        # The code says the platform refused the request, as the same HTTP status would.
        (429, errors.RateLimitedError, False, True),
        (400, errors.ApiValidationError, False, False),
    ],
)
def test_error_inside_a_2xx_answer_may_have_committed_unless_its_code_refuses(
    sandbox: SandboxProcess,
    up42_env: dict[str, str],
    code: object,
    error_class: type[errors.ApiError],
    committed: bool,
    sent_again: bool,
) -> None:
    from pulumi_webhooks._core.deadline import deadline_scope
    from pulumi_webhooks.up42.api import Up42Api
    from pulumi_webhooks.up42.auth import Credentials, Up42Auth

    body = {"data": None, "error": {"code": code, "message": "could not save the webhook"}}
    sandbox.fault("up42", "status", method="POST", path=r"/webhooks$", status=200, body=body, count=20)
    authentication = Up42Auth(Credentials(username=USER, password=PASSWORD), up42_env["UP42_AUTH_URL"])
    api = Up42Api(up42_env["UP42_BASE_URL"], authentication)
    with deadline_scope(3), pytest.raises(errors.ApiError) as failure:
        api.create_webhook(WS, {"name": "n", "url": JOBS["url"], "events": ["job.status"], "active": True})
    error = failure.value
    assert type(error) is error_class and error.may_have_committed is committed
    message = str(error)
    assert "UP42 create webhook failed (HTTP 200" in message and "request id" in message, message
    assert "could not save the webhook" in message and PASSWORD not in message, message
    posts = count(sandbox, "POST", f"/up42/api/workspaces/{WS}/webhooks")
    assert (posts > 1) is sent_again, posts  # a write that may have gone through is not sent again
    assert live(sandbox) == []


def test_create_whose_response_is_lost_leaves_exactly_one(engine: Engine, sandbox: SandboxProcess) -> None:
    sandbox.fault("up42", "commit_then_drop", method="POST", path=r"/webhooks$")
    result = engine.up(webhooks(jobs=JOBS))
    assert result.ok, result.steps
    [hook] = live(sandbox)
    assert engine.state[result.step("jobs").urn].id == f"{WS}/{hook['id']}"


def test_verify_after_a_lost_create_answer_still_undoes_it(engine: Engine, sandbox: SandboxProcess) -> None:
    sandbox.fault("up42", "commit_then_drop", method="POST", path=r"/webhooks$")
    result = engine.up(webhooks(jobs={**JOBS, "active": False, "verify": True}))
    assert not result.ok and "deleted again" in (result.step("jobs").error or "")
    assert live(sandbox) == []


# -- adopting ----------------------------------------------------------------------------------------
def test_existing_identical_webhook_is_taken_over_silently(engine: Engine, sandbox: SandboxProcess) -> None:
    with platform_api(sandbox) as api:
        created = api.post("webhooks", json={**JOBS, "name": "jobs", "active": True}).json()["data"]
    sandbox.clear_log()
    result = engine.up(webhooks(jobs=JOBS))
    assert result.ok
    assert engine.state[result.step("jobs").urn].outputs["webhook_id"] == created["id"]
    assert len(live(sandbox)) == 1 and api_writes(sandbox) == []


def test_existing_different_webhook_needs_adopt(engine: Engine, sandbox: SandboxProcess) -> None:
    with platform_api(sandbox) as api:
        created = api.post("webhooks", json={**JOBS, "name": "legacy", "active": False}).json()["data"]
    refused = engine.up(webhooks(jobs=JOBS))
    assert not refused.ok
    error = refused.step("jobs").error or ""
    assert f"id {created['id']}" in error and "adopt=True" in error and "url" in error
    assert len(live(sandbox)) == 1

    adopted = engine.up(webhooks(jobs={**JOBS, "adopt": True}))
    assert adopted.ok, adopted.steps
    [hook] = live(sandbox)
    assert (hook["id"], hook["name"], hook["active"]) == (created["id"], "jobs", True)


# -- the event catalog -------------------------------------------------------------------------------
def test_the_live_event_catalog_is_the_truth(
    sandbox: SandboxProcess, up42_env: dict[str, str], make_engine: EngineFactory
) -> None:
    admin(sandbox, catalog=["job.status", "order.status", "delivery.status"])
    creds = {"UP42_USERNAME": USER, "UP42_PASSWORD": PASSWORD}
    engine = make_engine(env={**up42_env, **creds})
    engine.fresh_process_per_run = False  # three previews in one process: the catalog is read once
    assert engine.preview(webhooks(jobs={**JOBS, "events": ["delivery.status"]})).ok
    assert engine.preview(webhooks(jobs={**JOBS, "events": ["job.status", "delivery.status"]})).ok
    typo = engine.preview(webhooks(jobs={**JOBS, "events": ["delivery.stat"]}))
    [(field, reason)] = typo.step("jobs").failures
    assert field == "events" and "did you mean 'delivery.status'" in reason
    assert count(sandbox, "GET", EVENTS_PATH) == 1  # once per process


def test_unreachable_catalog_falls_back_to_the_built_in_list(
    sandbox: SandboxProcess, up42_env: dict[str, str], make_engine: EngineFactory
) -> None:
    admin(sandbox, catalog=["job.status", "order.status", "delivery.status"])
    sandbox.fault("up42", "status", method="GET", path=r"/webhooks/events$", status=503)
    engine = make_engine(env={**up42_env, "UP42_USERNAME": USER, "UP42_PASSWORD": PASSWORD})
    engine.fresh_process_per_run = False  # the failed read is remembered for the process
    assert engine.preview(webhooks(jobs=JOBS)).ok
    result = engine.preview(webhooks(jobs={**JOBS, "events": ["delivery.status"]}))
    [(field, reason)] = result.step("jobs").failures
    assert field == "events" and "built-in list" in reason
    assert count(sandbox, "GET", EVENTS_PATH) == 1  # one try, not retried, and remembered


# -- secrets -----------------------------------------------------------------------------------------
@pytest.fixture
def debug_logging(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment that makes a provider host log everything (its own and httpx's) at debug level."""
    (tmp_path / "sitecustomize.py").write_text(
        "import logging, sys\nlogging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
    )
    yield {"PYTHONPATH": str(tmp_path)}


def test_secrets_stay_out_of_state_errors_and_logs(
    sandbox: SandboxProcess,
    up42_env: dict[str, str],
    make_engine: EngineFactory,
    debug_logging: dict[str, str],
) -> None:
    engine = make_engine(
        env={**up42_env, **debug_logging},
        config={"up42:username": USER, "up42:password": PASSWORD},
        secret_keys=["up42:password"],
    )
    results = [engine.up(webhooks(jobs={**JOBS, "secret": SECRET}))]
    [hook] = live(sandbox)
    with platform_api(sandbox) as api:  # drift: a secret the program never declared
        api.put(
            f"webhooks/{hook['id']}", json={**JOBS, "name": "jobs", "secret": OTHER_SECRET}
        ).raise_for_status()
    results += [engine.refresh(), engine.up(webhooks(jobs={**JOBS, "secret": SECRET, "verify": True}))]
    sandbox.admin.post("/up42/_admin/revoke-tokens").raise_for_status()
    results.append(engine.up(webhooks(jobs={**JOBS, "secret": SECRET, "active": False, "verify": True})))
    wrong = make_engine(
        env={**up42_env, **debug_logging, "UP42_USERNAME": USER, "UP42_PASSWORD": "wrong-pw-4242"}
    )
    results.append(wrong.up(webhooks(orders={**ORDERS, "secret": SECRET})))
    assert [r.ok for r in results] == [True, True, True, False, False]

    logs = engine.host.logs() + wrong.host.logs()
    assert "DEBUG" in logs and "UP42" in logs  # the hosts did log, so the checks below mean something
    for secret in (PASSWORD, "wrong-pw-4242", SECRET, OTHER_SECRET, TOKEN_PREFIX):
        assert secret not in logs
        assert secret not in repr(results)  # step errors and changes
        for eng in (engine, wrong):
            assert secret not in repr(eng.secret_plaintext_outputs())
            for state in eng.state.values():
                assert secret not in repr(
                    {k: v for k, v in state.inputs.items() if k not in state.secret_outputs}
                )
    assert PASSWORD not in repr(sandbox.requests()) and TOKEN_PREFIX not in repr(sandbox.requests())


def test_registration_marks_secrets_and_provider_is_small() -> None:
    def program() -> None:
        up42.Webhook("a", workspace_id=WS, secret=SECRET, access_token="tok-given-1234", **JOBS)
        up42.Webhook(
            "b", up42.WebhookArgs(workspace_id=WS, secret=SECRET, access_token="tok-given-1234", **JOBS)
        )

    a, b = collect(program)
    assert a.type == TYPE == b.type
    for secret in ("secret", "access_token"):
        assert secret in a.secret_inputs and secret in a.additional_secret_outputs
        assert secret in b.secret_inputs and secret in b.additional_secret_outputs
    assert (a.inputs["name"], b.inputs["name"]) == ("a", "b")
    assert {k: v for k, v in a.inputs.items() if k != "name"} == {
        k: v for k, v in b.inputs.items() if k != "name"
    }
    provider = base64.b64decode(a.inputs["__provider"])
    assert len(a.inputs["__provider"]) < 1024
    assert SECRET.encode() not in provider and b"tok-given-1234" not in provider
    assert b"pulumi_webhooks.up42.provider" in provider


def test_secret_stays_secret_when_no_secret_input_was_declared() -> None:
    [reg] = collect(lambda: up42.Webhook("a", workspace_id=WS, **JOBS))
    assert "secret" in reg.additional_secret_outputs  # drift read back from the platform stays secret


def test_inputs_may_be_outputs_of_other_resources() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        first = up42.Webhook("a", workspace_id=WS, **JOBS)
        second = up42.Webhook(
            "b",
            workspace_id=first.workspace_id,
            url=first.url.apply(lambda u: f"{u}/second"),
            events=[first.events.apply(lambda e: e[0]), "order.status"],
            name=pulumi.Output.concat(first.name, "-copy"),
        )
        assert isinstance(second.webhook_id, pulumi.Output)
        second.url.apply(lambda v: seen.setdefault("url", v))

    _, second = collect(program)
    assert second.inputs["url"] == f"{JOBS['url']}/second"
    assert second.inputs["events"] == ["job.status", "order.status"]
    assert second.inputs["name"] == "a-copy"
    assert seen == {"url": f"{JOBS['url']}/second"}


def test_constructor_rejects_mixed_forms() -> None:
    def program() -> None:
        up42.Webhook("a", up42.WebhookArgs(workspace_id=WS, **JOBS), name="x")  # type: ignore[call-overload]

    with pytest.raises(TypeError, match="either WebhookArgs or keyword inputs"):
        collect(program)


# -- the plain functions -----------------------------------------------------------------------------
def test_plain_functions_for_scripts(
    engine: Engine, sandbox: SandboxProcess, up42_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = engine.up(webhooks(jobs=JOBS, quiet={**ORDERS, "active": False}))
    assert result.ok
    jobs_id = engine.state[result.step("jobs").urn].outputs["webhook_id"]
    quiet_id = engine.state[result.step("quiet").urn].id  # the resource id form works too
    for key in ("UP42_ACCESS_TOKEN", "UP42_USERNAME", "UP42_PASSWORD", "UP42_REGION"):
        monkeypatch.delenv(key, raising=False)
    for key, value in up42_env.items():
        monkeypatch.setenv(key, value)

    assert [e.name for e in up42.get_webhook_events()] == ["job.status", "order.status"]
    with pytest.raises(errors.ConfigurationError, match="UP42_USERNAME"):
        up42.run_webhook_tests(WS, jobs_id)

    monkeypatch.setenv("UP42_USERNAME", USER)
    monkeypatch.setenv("UP42_PASSWORD", PASSWORD)
    passed = up42.run_webhook_tests(WS, jobs_id)
    assert passed.ok and (passed.tests_run, passed.tests_succeeded, passed.failed) == (2, 2, 0)
    failed = up42.run_webhook_tests(WS, quiet_id)
    assert not failed.ok and failed.summary() == "testsRun 1, testsSucceeded 0, testsFailed 1"
    explicit = up42.run_webhook_tests(WS, jobs_id, access_token=platform_token(sandbox))
    assert explicit.ok
    with pytest.raises(errors.NotFoundError, match="UP42 test webhook failed"):
        up42.run_webhook_tests(WS, "00000000-0000-0000-0000-000000000000")


def test_the_example_program_runs(engine: Engine, sandbox: SandboxProcess) -> None:
    def program() -> None:
        runpy.run_module("examples.up42", run_name="__main__")

    result = engine.up(program)
    assert result.ok, result.steps
    assert result.ops == {"job-status": "create", "order-status": "create"}
    assert sorted(h["name"] for h in live(sandbox)) == ["Orders and jobs", "job-status"]
    assert set(result.outputs) == {"job_webhook_id", "order_webhook_id"}
    assert engine.destroy().ok and live(sandbox) == []


def test_writes_leave_out_an_absent_secret_and_send_active_true_by_default(
    engine: Engine, sandbox: SandboxProcess
) -> None:
    """docs.up42.com/developers/api-webhooks/create (platforms.md §3.2, "Round 2"): ``secret`` is an
    optional string (no null shown) and ``active`` defaults to false. The client leaves the secret out
    (the sandbox refuses ``"secret": null``) and sends ``active: true`` unless told otherwise: a deliberate
    difference from UP42's default (docs/up42.md)."""
    from pulumi_webhooks.up42.api import webhook_body

    body = webhook_body({"events": ["job.status"], "name": "n", "url": "https://hooks.example.com/j"})
    assert body == {
        "events": ["job.status"],
        "name": "n",
        "url": "https://hooks.example.com/j",
        "active": True,
    }
    assert "secret" not in webhook_body({**body, "secret": ""})
    assert webhook_body({**body, "secret": SECRET})["secret"] == SECRET

    result = engine.up(webhooks(jobs=JOBS))  # no secret, no active: created, and active
    assert result.ok, result.steps
    [hook] = live(sandbox)
    assert (hook["secret"], hook["active"]) == ("", True)
    assert engine.up(webhooks(jobs={**JOBS, "name": "renamed"})).ok  # the PUT leaves it out too
    [hook] = live(sandbox)
    assert (hook["name"], hook["secret"], hook["active"]) == ("renamed", "", True)
