"""The UP42 emulator over real HTTP: the session's `python -m pulumi_webhooks.sandbox` subprocess, plus a
dedicated one where a test needs its own startup options (state file, --token)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SandboxProcess, start_sandbox_process, stop_sandbox_process

from pulumi_webhooks.sandbox import start_sandbox

TOKEN_PATH = "/up42/auth/realms/public/protocol/openid-connect/token"
USER, PASSWORD = "pilot@example.com", "pw-sandbox-5d1f"
WS = "0cb1eaa0-89a3-11ec-a8a3-0242ac120002"
OTHER_WS = "5e0d3c52-2f7b-4d1e-9a8c-1b2c3d4e5f60"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def get_token(url: str, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "password",
        "client_id": "up42-api",
        "username": USER,
        "password": PASSWORD,
        **overrides,
    }
    return httpx.post(f"{url}{TOKEN_PATH}", data=form)


def api_client(url: str, token: str | None = None, ws: str = WS) -> httpx.Client:
    token = token if token is not None else get_token(url).json()["access_token"]
    return httpx.Client(
        base_url=f"{url}/up42/api/workspaces/{ws}/", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture
def api(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with api_client(sandbox.url) as client:
        yield client


def hook(**fields: Any) -> dict[str, Any]:
    return {
        "url": "https://hooks.example.com/a",
        "name": "alerts",
        "events": ["job.status", "order.status"],
        "secret": "QWZTFnMEXhqZKNmu",
        "active": True,
        **fields,
    }


def admin(sandbox: SandboxProcess, **values: Any) -> dict[str, Any]:
    response = sandbox.admin.post("/up42/_admin/settings", json=values)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


# -- token endpoint ----------------------------------------------------------------------------------
def test_password_grant_issues_a_five_minute_token(sandbox: SandboxProcess) -> None:
    response = get_token(sandbox.url)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300 and body["refresh_expires_in"] == 1800
    assert body["access_token"].startswith("sbx-up42.") and body["refresh_token"]
    assert set(body) == {
        "access_token",
        "expires_in",
        "refresh_expires_in",
        "refresh_token",
        "token_type",
        "not-before-policy",
        "session_state",
        "scope",
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert uuid.UUID(response.headers["X-Request-Id"])
    assert get_token(sandbox.url, client_id="up42-sdk").status_code == 200  # the SDK's client id too
    assert get_token(sandbox.url).json()["access_token"] != body["access_token"]


def test_token_endpoint_errors_are_keycloak_shaped(sandbox: SandboxProcess) -> None:
    cases = [
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
        ({"password": ""}, 401, "invalid_grant"),
    ]
    for overrides, status, error in cases:
        response = get_token(sandbox.url, **overrides)
        assert (response.status_code, response.json()["error"]) == (status, error), overrides
        assert response.json()["error_description"]
    as_json = httpx.post(f"{sandbox.url}{TOKEN_PATH}", json={"username": USER, "password": PASSWORD})
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    assert httpx.get(f"{sandbox.url}{TOKEN_PATH}").status_code == 405


def test_an_account_restricts_the_credentials(sandbox: SandboxProcess) -> None:
    assert get_token(sandbox.url, username="anyone", password="anything").status_code == 200  # the default
    view = admin(sandbox, account={"username": USER, "password": PASSWORD})
    assert view["account_set"] is True and PASSWORD not in json.dumps(view)
    wrong = get_token(sandbox.url, password="nope-nope")
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"error": "invalid_grant", "error_description": "Invalid user credentials"},
    )
    assert get_token(sandbox.url, username="someone@example.com").status_code == 401
    assert get_token(sandbox.url).status_code == 200
    assert admin(sandbox, account=None)["account_set"] is False
    assert get_token(sandbox.url, password="nope-nope").status_code == 200


# -- API authentication ------------------------------------------------------------------------------
def test_api_needs_an_issued_unexpired_token(sandbox: SandboxProcess) -> None:
    url = f"{sandbox.url}/up42/api/workspaces/{WS}/webhooks"
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer made-up-token"}):
        response = httpx.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["data"] is None and response.json()["error"]["code"] == 401
        assert "X-Request-Id" in response.headers
    with api_client(sandbox.url) as client:
        assert client.get("webhooks").json() == {"data": [], "error": None}
        revoke = sandbox.admin.post("/up42/_admin/revoke-tokens")
        assert revoke.json() == {"revoked": 1}
        assert client.get("webhooks").status_code == 401


def test_token_lifetime_is_configurable(sandbox: SandboxProcess) -> None:
    assert admin(sandbox, token_lifetime=1)["token_lifetime"] == 1
    token = get_token(sandbox.url).json()
    assert token["expires_in"] == 1
    with api_client(sandbox.url, token["access_token"]) as client:
        assert client.get("webhooks").status_code == 200
        time.sleep(1.1)
        expired = client.get("webhooks")
        assert expired.status_code == 401 and "expired" in expired.json()["error"]["details"]
    assert admin(sandbox)["tokens_valid"] == 0
    for bad in (0, 86401, "soon"):
        assert sandbox.admin.post("/up42/_admin/settings", json={"token_lifetime": bad}).status_code == 400


def test_static_token_from_startup_option() -> None:
    with start_sandbox(token="given-token-77", rate_limits=False) as running:
        base = running.base_url("up42")
        assert base == f"{running.url}/up42/api"
        headers = {"Authorization": "Bearer given-token-77"}
        assert httpx.get(f"{base}/workspaces/{WS}/webhooks", headers=headers).status_code == 200
        issued = get_token(running.url).json()["access_token"]
        headers = {"Authorization": f"Bearer {issued}"}
        assert httpx.get(f"{base}/workspaces/{WS}/webhooks", headers=headers).status_code == 200
        headers = {"Authorization": "Bearer given-token-78"}
        assert httpx.get(f"{base}/workspaces/{WS}/webhooks", headers=headers).status_code == 401


# -- the event catalog -------------------------------------------------------------------------------
def test_event_catalog_needs_no_token(sandbox: SandboxProcess) -> None:
    response = httpx.get(f"{sandbox.url}/up42/api/webhooks/events")
    assert response.status_code == 200
    body = response.json()
    assert body["error"] is None
    assert [e["name"] for e in body["data"]] == ["job.status", "order.status"]
    assert set(body["data"][0]) == {"name", "title", "category", "description", "documentation"}
    admin(sandbox, catalog=["job.status", "delivery.status"])
    names = [e["name"] for e in httpx.get(f"{sandbox.url}/up42/api/webhooks/events").json()["data"]]
    assert names == ["job.status", "delivery.status"]


# -- webhooks ----------------------------------------------------------------------------------------
def test_create_list_get_update_delete(api: httpx.Client) -> None:
    created = api.post("webhooks", json=hook())
    assert created.status_code == 201
    data = created.json()["data"]
    assert created.json()["error"] is None
    assert uuid.UUID(data["id"])
    assert {k: data[k] for k in hook()} == hook()
    assert TIMESTAMP.fullmatch(data["createdAt"]) and data["createdAt"] == data["updatedAt"]

    assert api.get("webhooks").json() == {"data": [data], "error": None}
    assert api.get(f"webhooks/{data['id']}").json() == {"data": data, "error": None}

    # PUT replaces the whole webhook: what the body leaves out goes back to its default.
    replaced = api.put(
        f"webhooks/{data['id']}", json={"url": data["url"], "name": "renamed", "events": ["job.status"]}
    )
    assert replaced.status_code == 200
    after = replaced.json()["data"]
    assert (after["name"], after["events"], after["secret"], after["active"]) == (
        "renamed",
        ["job.status"],
        "",
        False,
    )
    assert after["createdAt"] == data["createdAt"] and after["updatedAt"] > data["updatedAt"]

    deleted = api.delete(f"webhooks/{data['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    missing = api.get(f"webhooks/{data['id']}")
    assert (missing.status_code, missing.json()) == (
        404,
        {"data": None, "error": {"code": 404, "message": "Webhook not found", "details": ""}},
    )
    assert api.delete(f"webhooks/{data['id']}").status_code == 404


def test_defaults_and_duplicates(api: httpx.Client) -> None:
    data = api.post(
        "webhooks",
        json={
            "url": "https://hooks.example.com/b",
            "name": "n",
            "events": ["order.status", "job.status", "order.status"],
        },
    ).json()["data"]
    # docs.up42.com/developers/api-webhooks/create (platforms.md §3.2): `secret` an optional string,
    # `active` optional with default false. Left out: no secret ("" when read), inactive.
    assert (data["active"], data["secret"]) == (False, "")
    assert data["events"] == ["order.status", "job.status"]
    # No null is shown for the optional string: `"secret": null` is refused, like any non-string.
    refused = api.post("webhooks", json=hook(url="https://hooks.example.com/c", secret=None))
    assert refused.status_code == 400 and "secret" in refused.json()["error"]["details"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "http://hooks.example.com/a"}, "url"),
        ({"url": ""}, "url"),
        ({"url": "https://hooks.example.com/" + "a" * 2030}, "url"),
        ({"url": "not a url"}, "url"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 256}, "name"),
        ({"events": []}, "events"),
        ({"events": "job.status"}, "events"),
        ({"events": ["job.status, order.status"]}, "events"),  # the docs' own example is wrong like this
        ({"events": ["job.stauts"]}, "events"),
        ({"secret": 7}, "secret"),
        ({"active": "yes"}, "active"),
    ],
)
def test_create_validation(api: httpx.Client, fields: dict[str, Any], field: str) -> None:
    response = api.post("webhooks", json=hook(**fields))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == 400 and field in error["details"]
    assert api.get("webhooks").json()["data"] == []


def test_bad_bodies(api: httpx.Client) -> None:
    response = api.post("webhooks", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["error"]["details"]
    assert api.post("webhooks", json=["a"]).status_code == 400
    text = api.post("webhooks", content=json.dumps(hook()), headers={"Content-Type": "text/plain"})
    assert text.status_code == 400


def test_url_is_unique_per_workspace(sandbox: SandboxProcess, api: httpx.Client) -> None:
    first = api.post("webhooks", json=hook()).json()["data"]
    duplicate = api.post("webhooks", json=hook(name="again"))
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == 409
    second = api.post("webhooks", json=hook(url="https://hooks.example.com/other")).json()["data"]
    assert api.put(f"webhooks/{second['id']}", json=hook()).status_code == 409  # onto a taken url
    assert api.put(f"webhooks/{first['id']}", json=hook(name="same url")).status_code == 200
    with api_client(sandbox.url, ws=OTHER_WS) as other:
        assert other.post("webhooks", json=hook()).status_code == 201
        assert len(other.get("webhooks").json()["data"]) == 1
    assert len(api.get("webhooks").json()["data"]) == 2


def test_not_found(sandbox: SandboxProcess, api: httpx.Client) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = api.request(method, f"webhooks/{uuid.uuid4()}", json=hook() if method == "PUT" else None)
        assert response.status_code == 404 and response.json()["error"]["message"] == "Webhook not found"
    assert api.post(f"webhooks/{uuid.uuid4()}/tests").status_code == 404
    headers = dict(api.headers)
    assert (
        httpx.get(f"{sandbox.url}/up42/api/workspaces/not-a-uuid/webhooks", headers=headers).status_code
        == 404
    )
    assert httpx.get(f"{sandbox.url}/up42/api/v2/webhooks", headers=headers).status_code == 404
    assert httpx.get(f"{sandbox.url}/up42/elsewhere").status_code == 404
    assert sandbox.admin.get("/up42/_admin/nope").status_code == 404


# -- test deliveries ---------------------------------------------------------------------------------
def test_tests_succeed_for_an_active_webhook_and_fail_for_an_inactive_one(
    sandbox: SandboxProcess, api: httpx.Client
) -> None:
    active = api.post("webhooks", json=hook()).json()["data"]
    result = api.post(f"webhooks/{active['id']}/tests")
    assert result.status_code == 200
    data = result.json()["data"]
    assert (data["testsRun"], data["testsSucceeded"], data["testsFailed"]) == (2, 2, 0)
    assert TIMESTAMP.fullmatch(data["startedAt"])
    assert [t["event"] for t in data["tests"]] == ["job.status", "order.status"]

    inactive = api.post("webhooks", json=hook(url="https://hooks.example.com/q", active=False)).json()["data"]
    data = api.post(f"webhooks/{inactive['id']}/tests").json()["data"]
    assert (data["testsRun"], data["testsSucceeded"], data["testsFailed"]) == (2, 0, 2)

    one = api.post(f"webhooks/{active['id']}/tests", json={"event": "order.status"}).json()["data"]
    assert (one["testsRun"], one["tests"][0]["event"]) == (1, "order.status")
    assert api.post(f"webhooks/{inactive['id']}/tests", json={"event": "nope.status"}).status_code == 400

    admin(sandbox, unreachable_hosts=["hooks.example.com"])
    data = api.post(f"webhooks/{active['id']}/tests").json()["data"]
    assert (data["testsSucceeded"], data["tests"][0]["message"]) == (0, "Connection refused")


# -- shared behaviour: rate limits, faults, admin, state ---------------------------------------------
def test_rate_limit_burst_then_429(sandbox: SandboxProcess, api: httpx.Client) -> None:
    statuses = [api.get("webhooks").status_code for _ in range(40)]
    assert statuses == [200] * 40
    limited = [r for r in (api.get("webhooks") for _ in range(10)) if r.status_code == 429]
    assert limited
    assert limited[0].headers["Retry-After"] == "1" and limited[0].json()["error"]["code"] == 429
    with api_client(sandbox.url) as other_token:  # limits are per token (the caller)
        assert other_token.get("webhooks").status_code == 200
    assert httpx.get(f"{sandbox.url}/up42/api/webhooks/events").status_code == 200
    sandbox.settings(rate_limits=False)
    assert {api.get("webhooks").status_code for _ in range(30)} == {200}


def test_faults_apply_to_up42(sandbox: SandboxProcess, api: httpx.Client) -> None:
    sandbox.fault("up42", "status", method="POST", path=r"/token$", status=503, retry_after=2)
    refused = get_token(sandbox.url)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "2"
    assert get_token(sandbox.url).status_code == 200
    sandbox.fault("up42", "commit_then_drop", method="POST", path=r"/webhooks$")
    with pytest.raises(httpx.TransportError):
        api.post("webhooks", json=hook())
    assert [h["url"] for h in api.get("webhooks").json()["data"]] == [hook()["url"]]


def test_admin_settings_validation_and_reset(sandbox: SandboxProcess) -> None:
    view = admin(sandbox)
    assert view == {
        "token_lifetime": 300,
        "account_set": False,
        "tokens_issued": 0,
        "tokens_valid": 0,
        "catalog": ["job.status", "order.status"],
        "unreachable_hosts": [],
        "rate_limit": {"per_second": 10.0, "burst": 40.0},
    }
    bad_patches: list[dict[str, Any]] = [{"surprise": 1}, {"catalog": []}, {"account": {"username": "x"}}]
    for bad in bad_patches:
        assert sandbox.admin.post("/up42/_admin/settings", json=bad).status_code == 400, bad
    assert sandbox.admin.post("/up42/_admin/settings", content=b"{").status_code == 400
    admin(sandbox, token_lifetime=5, account={"username": USER, "password": PASSWORD}, catalog=["job.status"])
    get_token(sandbox.url)
    sandbox.reset()
    assert admin(sandbox) == view


def test_state_snapshot_and_seed_never_hold_tokens(sandbox: SandboxProcess, api: httpx.Client) -> None:
    created = api.post("webhooks", json=hook()).json()["data"]
    state = sandbox.state()["up42"]
    assert state == {"workspaces": {WS: [created]}}
    token = str(api.headers["Authorization"]).split()[1]
    assert token not in json.dumps(sandbox.state())
    sandbox.reset()
    assert sandbox.state()["up42"] == {"workspaces": {}}
    assert sandbox.admin.post("/_sandbox/state", json={"up42": state}).status_code == 200
    with api_client(sandbox.url) as fresh:
        assert fresh.get(f"webhooks/{created['id']}").json()["data"] == created
    assert sandbox.admin.post("/_sandbox/state", json={"up42": {"workspaces": 3}}).status_code == 400


def test_request_log_never_holds_credentials(sandbox: SandboxProcess) -> None:
    token = get_token(sandbox.url).json()["access_token"]
    with api_client(sandbox.url, token) as client:
        client.post("webhooks", json=hook())
        client.get("webhooks", params={"access_token": token})
    entries = sandbox.requests("up42")
    assert [(e["method"], e["status"]) for e in entries] == [("POST", 200), ("POST", 201), ("GET", 200)]
    assert entries[0]["path"] == TOKEN_PATH
    text = json.dumps(entries) + json.dumps(sandbox.stats())
    assert token not in text and PASSWORD not in text and "QWZTFnMEXhqZKNmu" not in text


# -- a dedicated process: the state file ------------------------------------------------------------
def test_webhooks_survive_a_restart_and_tokens_do_not(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    proc, url = start_sandbox_process("--state-file", str(state_file))
    try:
        token = get_token(url).json()["access_token"]
        with api_client(url, token) as client:
            created = client.post("webhooks", json=hook()).json()["data"]
    finally:
        assert stop_sandbox_process(proc) == 0
    saved = state_file.read_text()
    assert json.loads(saved)["up42"]["workspaces"][WS] == [created]
    assert token not in saved

    proc, url = start_sandbox_process("--state-file", str(state_file))
    try:
        with api_client(url, token) as stale:
            assert stale.get("webhooks").status_code == 401  # tokens live in memory only
        with api_client(url) as client:
            assert client.get("webhooks").json()["data"] == [created]
    finally:
        assert stop_sandbox_process(proc) == 0
