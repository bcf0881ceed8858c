"""The sandbox, exercised the way users run it: a real `python -m pulumi_webhooks.sandbox` subprocess."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import start_sandbox_process, stop_sandbox_process

from pulumi_webhooks.sandbox import main, start_sandbox

TOKEN = "tok-5f2c9a7e1d3b"  # distinctive, so the log checks can search for it
VERSION = "v20260301"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The URL of a sandbox subprocess shared by this module, and the file that holds its stderr."""
    err_path = tmp_path_factory.mktemp("sandbox") / "stderr.txt"
    with err_path.open("w") as err:
        proc, url = start_sandbox_process(stderr=err)
        try:
            yield url, err_path
        finally:
            assert stop_sandbox_process(proc) == 0


@pytest.fixture
def admin(sandbox: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox[0], timeout=10) as client:
        assert client.post("/_sandbox/reset").status_code == 200  # every test starts from nothing
        yield client


def _shopline(url: str, handle: str = "open001", token: str | None = TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.Client(
        base_url=f"{url}/shopline/{handle}/admin/openapi/{VERSION}", headers=headers, timeout=10
    )


@pytest.fixture
def api(admin: httpx.Client) -> Iterator[httpx.Client]:
    with _shopline(str(admin.base_url).rstrip("/")) as client:
        yield client


def _hook(
    topic: str = "orders/create", address: str = "https://hooks.example.com/a", api_version: str = "v20260301"
) -> dict[str, Any]:
    return {"webhook": {"address": address, "api_version": api_version, "topic": topic}}


def _fault(admin: httpx.Client, **spec: Any) -> None:
    resp = admin.post("/_sandbox/faults", json={"platform": "shopline", **spec})
    assert resp.status_code == 200, resp.text


# -- SHOPLINE API --------------------------------------------------------------------------------


def test_create_list_get_count_update_delete(api: httpx.Client) -> None:
    resp = api.post("/webhooks.json", json=_hook())
    assert resp.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["traceId"])
    hook = resp.json()["webhook"]
    assert hook["id"] == 13814
    assert (hook["address"], hook["api_version"], hook["topic"]) == (
        "https://hooks.example.com/a",
        "v20260301",
        "orders/create",
    )
    assert hook["created_at"] == hook["updated_at"]
    assert hook["created_at"].endswith("+08:00")

    assert api.get("/webhooks.json").json() == {"webhooks": [hook]}
    assert api.get("/13814/webhooks.json").json() == {"webhook": hook}
    assert api.get("/webhooks/count.json").json() == {"count": 1}

    time.sleep(1.05)  # timestamps have second precision
    resp = api.put("/13814/webhooks.json", json={"webhook": {"address": "https://hooks.example.com/b"}})
    assert resp.status_code == 200
    updated = resp.json()["webhook"]
    assert updated["address"] == "https://hooks.example.com/b"
    assert updated["created_at"] == hook["created_at"]
    assert updated["updated_at"] > hook["updated_at"]
    assert api.get("/13814/webhooks.json").json() == {"webhook": updated}

    resp = api.delete("/13814/webhooks.json")
    assert (resp.status_code, resp.content) == (200, b"")
    assert "traceId" in resp.headers
    assert api.get("/13814/webhooks.json").status_code == 404
    assert api.get("/webhooks/count.json").json() == {"count": 0}


def test_ids_increase_and_list_is_sorted(api: httpx.Client) -> None:
    ids = [
        api.post("/webhooks.json", json=_hook(topic)).json()["webhook"]["id"]
        for topic in ("orders/create", "products/update", "orders/updated")
    ]
    assert ids == [13814, 13815, 13816]
    api.delete("/13815/webhooks.json")
    assert [w["id"] for w in api.get("/webhooks.json").json()["webhooks"]] == [13814, 13816]
    assert api.post("/webhooks.json", json=_hook("products/update")).json()["webhook"]["id"] == 13817


def test_duplicate_topic_and_address_rejected(admin: httpx.Client, api: httpx.Client) -> None:
    assert api.post("/webhooks.json", json=_hook()).status_code == 200
    resp = api.post("/webhooks.json", json=_hook(api_version="v20250601"))
    assert resp.status_code == 422
    assert resp.json() == {"errors": {"address": ["for this topic has already been taken"]}}
    # Same address on another topic, or the same pair in another store, is fine.
    assert api.post("/webhooks.json", json=_hook("orders/paid")).status_code == 200
    with _shopline(str(admin.base_url).rstrip("/"), handle="other-store") as other:
        assert other.post("/webhooks.json", json=_hook()).status_code == 200
        assert other.get("/webhooks/count.json").json() == {"count": 1}
    assert api.get("/webhooks/count.json").json() == {"count": 2}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_hook(address="http://hooks.example.com/a"), "address"),
        (_hook(address="https://hooks.example.com/" + "a" * 230), "address"),
        (_hook(address=""), "address"),
        (_hook(address="not a url"), "address"),
        (_hook(api_version="v20240301"), "api_version"),
        (_hook(api_version="2026-03-01"), "api_version"),
        (_hook(api_version="v20261341"), "api_version"),
        (_hook(topic="orders/nope"), "topic"),
        (_hook(topic=""), "topic"),
        (_hook(topic="customers/action", api_version="v20260301"), "topic"),
        # shoplineos/shopline-sdk-go webhook/*/order/order_update.go: the topic is `orders/updated`.
        (_hook(topic="orders/update", api_version="v20251201"), "topic"),
        (_hook(topic="orders/update", api_version="v20260301"), "topic"),
        ({"webhook": {"topic": "orders/create", "api_version": "v20260301"}}, "address"),
    ],
)
def test_create_validation(api: httpx.Client, body: dict[str, Any], field: str) -> None:
    resp = api.post("/webhooks.json", json=body)
    assert resp.status_code == 422, resp.text
    assert field in resp.json()["errors"]
    assert api.get("/webhooks/count.json").json() == {"count": 0}


def test_create_accepts_catalog_edges(api: httpx.Client) -> None:
    exactly_255 = "https://hooks.example.com/" + "a" * (255 - 26)
    assert api.post("/webhooks.json", json=_hook(address=exactly_255)).status_code == 200
    assert (
        api.post("/webhooks.json", json=_hook("orders/updated", api_version="v20240601")).status_code == 200
    )
    assert (
        api.post("/webhooks.json", json=_hook("customers/action", api_version="v20251201")).status_code == 200
    )


def test_bad_requests(api: httpx.Client) -> None:
    json_type = {"Content-Type": "application/json"}
    resp = api.post("/webhooks.json", content=b"{not json", headers=json_type)
    assert resp.status_code == 400
    assert "errors" in resp.json()
    assert api.post("/webhooks.json", content=b"[]", headers=json_type).status_code == 400
    assert api.post("/webhooks.json", json={"webhook": {**_hook()["webhook"], "topic": 7}}).status_code == 400
    resp = api.post("/webhooks.json", content=json.dumps(_hook()), headers={"Content-Type": "text/plain"})
    assert resp.status_code == 400


def test_update_only_address(api: httpx.Client) -> None:
    hook = api.post("/webhooks.json", json=_hook()).json()["webhook"]
    for field, value in (("topic", "orders/paid"), ("api_version", "v20250601"), ("id", 13814)):
        body = {"webhook": {"address": "https://hooks.example.com/b", field: value}}
        resp = api.put("/13814/webhooks.json", json=body)
        assert resp.status_code == 422
        assert field in resp.json()["errors"]
    assert api.put("/13814/webhooks.json", json={"webhook": {}}).status_code == 422
    assert api.get("/13814/webhooks.json").json() == {"webhook": hook}
    # Moving onto an existing topic+address pair is a duplicate too.
    api.post("/webhooks.json", json=_hook(address="https://hooks.example.com/b"))
    resp = api.put("/13814/webhooks.json", json={"webhook": {"address": "https://hooks.example.com/b"}})
    assert resp.status_code == 422
    assert "already been taken" in resp.text


def test_auth(admin: httpx.Client) -> None:
    url = str(admin.base_url).rstrip("/")
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwdw=="}):
        resp = httpx.get(f"{url}/shopline/open001/admin/openapi/{VERSION}/webhooks.json", headers=headers)
        assert resp.status_code == 401
        assert resp.json() == {"errors": "Unauthorized"}
        assert "traceId" in resp.headers
    # A fixed token: any other token is refused; reset returns to the startup setting (any token).
    assert admin.post("/_sandbox/settings", json={"token": "right-token"}).json()["token_set"] is True
    with _shopline(url, token="wrong-token") as wrong, _shopline(url, token="right-token") as right:
        assert wrong.get("/webhooks.json").status_code == 401
        assert right.get("/webhooks.json").status_code == 200
        admin.post("/_sandbox/reset")
        assert wrong.get("/webhooks.json").status_code == 200


def test_not_found(admin: httpx.Client, api: httpx.Client) -> None:
    for method in ("GET", "PUT", "DELETE"):
        body = {"webhook": {"address": "https://hooks.example.com/b"}} if method == "PUT" else None
        resp = api.request(method, "/99999/webhooks.json", json=body)
        assert (resp.status_code, resp.json()) == (404, {"errors": "Not Found"})
    assert api.get("/products.json").status_code == 404
    assert api.post("/webhooks/count.json", json={}).status_code == 404
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert (
        admin.get("/shopline/open001/admin/openapi/v2026/webhooks.json", headers=headers).status_code == 404
    )
    assert admin.get("/shopline/open001/webhooks.json", headers=headers).status_code == 404
    assert admin.get("/nope/webhooks.json").status_code == 404
    assert admin.get("/_sandbox/nope").status_code == 404


def test_paths_accept_any_version(api: httpx.Client, admin: httpx.Client) -> None:
    api.post("/webhooks.json", json=_hook())
    headers = {"Authorization": f"Bearer {TOKEN}"}
    resp = admin.get("/shopline/open001/admin/openapi/v20251201/webhooks/count.json", headers=headers)
    assert resp.json() == {"count": 1}


# -- rate limits ---------------------------------------------------------------------------------


def test_rate_limit_burst_then_429(admin: httpx.Client, api: httpx.Client) -> None:
    statuses = [api.get("/webhooks/count.json").status_code for _ in range(40)]
    assert statuses == [200] * 40  # the bucket holds 40
    more = [api.get("/webhooks/count.json") for _ in range(10)]
    limited = [r for r in more if r.status_code == 429]
    assert limited, [r.status_code for r in more]
    assert limited[0].json() == {"errors": "Too many request"}
    assert "traceId" in limited[0].headers
    # Limits are per store.
    with _shopline(str(admin.base_url).rstrip("/"), handle="other-store") as other:
        assert other.get("/webhooks/count.json").status_code == 200
    stats = admin.get("/_sandbox/stats").json()["platforms"]["shopline"]
    assert stats["rate_limited"] == len(limited)
    assert stats["requests"] == 51
    assert stats["by_method"] == {"GET": 51}
    # The bucket drains at 4 requests/s.
    time.sleep(0.6)
    assert api.get("/webhooks/count.json").status_code == 200


def test_rate_limits_off(admin: httpx.Client, api: httpx.Client) -> None:
    assert admin.post("/_sandbox/settings", json={"rate_limits": False}).json()["rate_limits"] is False
    assert {api.get("/webhooks/count.json").status_code for _ in range(60)} == {200}


# -- faults --------------------------------------------------------------------------------------


def test_fault_status_with_retry_after(admin: httpx.Client, api: httpx.Client) -> None:
    _fault(admin, method="POST", path=r"webhooks\.json$", kind="status", status=429, retry_after=2)
    assert api.get("/webhooks.json").status_code == 200  # another method: not matched
    resp = api.post("/webhooks.json", json=_hook())
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "2"
    assert "traceId" in resp.headers
    assert api.get("/webhooks/count.json").json() == {"count": 0}  # nothing was processed
    assert api.post("/webhooks.json", json=_hook()).status_code == 200  # count=1: used up


def test_fault_status_body_and_count(admin: httpx.Client, api: httpx.Client) -> None:
    _fault(admin, kind="status", status=503, count=2)
    first, second = api.get("/webhooks.json"), api.get("/webhooks.json")
    assert first.status_code == second.status_code == 503
    assert first.json() == {"errors": "Service Unavailable"}
    assert api.get("/webhooks.json").status_code == 200
    _fault(admin, kind="status", status=500, body={"errors": "boom", "code": 7})
    resp = api.get("/webhooks.json")
    assert (resp.status_code, resp.json()) == (500, {"errors": "boom", "code": 7})


def test_fault_delay(admin: httpx.Client, api: httpx.Client) -> None:
    _fault(admin, kind="delay", delay=0.4)
    started = time.monotonic()
    resp = api.post("/webhooks.json", json=_hook())
    assert time.monotonic() - started >= 0.4
    assert resp.status_code == 200


def test_fault_drop(admin: httpx.Client, api: httpx.Client) -> None:
    _fault(admin, method="POST", kind="drop")
    with pytest.raises(httpx.TransportError):
        api.post("/webhooks.json", json=_hook())
    assert api.get("/webhooks/count.json").json() == {"count": 0}  # never processed


def test_fault_commit_then_drop(admin: httpx.Client, api: httpx.Client) -> None:
    _fault(admin, method="POST", kind="commit_then_drop")
    with pytest.raises(httpx.TransportError):
        api.post("/webhooks.json", json=_hook())
    hooks = api.get("/webhooks.json").json()["webhooks"]
    assert [(w["topic"], w["address"]) for w in hooks] == [("orders/create", "https://hooks.example.com/a")]


def test_fault_malformed(admin: httpx.Client, api: httpx.Client) -> None:
    _fault(admin, method="POST", kind="malformed")
    resp = api.post("/webhooks.json", json=_hook())
    assert resp.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        resp.json()
    assert api.get("/webhooks/count.json").json() == {"count": 1}


def test_fault_truncated(admin: httpx.Client, api: httpx.Client) -> None:
    _fault(admin, method="POST", kind="truncated")
    with pytest.raises(httpx.TransportError):
        api.post("/webhooks.json", json=_hook())
    assert api.get("/webhooks/count.json").json() == {"count": 1}


def test_fault_admin(admin: httpx.Client, api: httpx.Client) -> None:
    _fault(admin, path=r"^/other/", kind="status", status=500, count=3)
    assert api.get("/webhooks.json").status_code == 200  # path regex did not match
    assert [f["remaining"] for f in admin.get("/_sandbox/faults").json()["faults"]] == [3]
    assert admin.delete("/_sandbox/faults").status_code == 200
    assert admin.get("/_sandbox/faults").json() == {"faults": []}
    bad = [
        {"platform": "nope", "kind": "drop"},
        {"platform": "shopline", "kind": "explode"},
        {"platform": "shopline", "kind": "drop", "path": "("},
        {"platform": "shopline", "kind": "drop", "count": 0},
        {"platform": "shopline", "kind": "drop", "surprise": 1},
    ]
    for spec in bad:
        assert admin.post("/_sandbox/faults", json=spec).status_code == 400, spec
    assert admin.post("/_sandbox/faults", content=b"{").status_code == 400


# -- admin, log, state file ----------------------------------------------------------------------


def test_health_state_and_seed(admin: httpx.Client, api: httpx.Client) -> None:
    health = admin.get("/_sandbox/health").json()
    assert health["status"] == "ok"
    assert health["platforms"]["shopline"]["url_template"] == "/shopline/{handle}"
    api.post("/webhooks.json", json=_hook())
    state = admin.get("/_sandbox/state").json()
    assert state["shopline"]["next_id"] == 13815
    assert [w["id"] for w in state["shopline"]["stores"]["open001"]] == [13814]
    admin.post("/_sandbox/reset")
    assert admin.get("/_sandbox/state").json()["shopline"] == {"next_id": 13814, "stores": {}}
    assert admin.post("/_sandbox/state", json=state).status_code == 200
    assert api.get("/webhooks/count.json").json() == {"count": 1}
    assert admin.post("/_sandbox/state", json={"shopline": {"stores": 3}}).status_code == 400


def test_request_log_never_holds_tokens(
    sandbox: tuple[str, Path], admin: httpx.Client, api: httpx.Client
) -> None:
    api.post("/webhooks.json", json=_hook())
    api.get("/webhooks.json", params={"access_token": TOKEN})
    _fault(admin, kind="drop")
    with pytest.raises(httpx.TransportError):
        api.get("/webhooks.json")
    resp = admin.get("/_sandbox/requests", params={"platform": "shopline"})
    entries = resp.json()["requests"]
    assert [(e["method"], e["status"], e["fault"]) for e in entries] == [
        ("POST", 200, None),
        ("GET", 200, None),
        ("GET", None, "drop"),
    ]
    assert set(entries[0]) == {"time", "platform", "method", "path", "status", "duration_ms", "fault"}
    assert entries[0]["path"] == f"/shopline/open001/admin/openapi/{VERSION}/webhooks.json"
    assert TOKEN not in resp.text
    assert TOKEN not in admin.get("/_sandbox/stats").text
    assert TOKEN not in admin.get("/_sandbox/state").text
    assert TOKEN not in sandbox[1].read_text()
    assert admin.get("/_sandbox/requests", params={"platform": "up42"}).json() == {"requests": []}
    admin.delete("/_sandbox/requests")
    assert admin.get("/_sandbox/requests").json() == {"requests": []}


def test_state_file_survives_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state" / "sandbox.json"
    proc, url = start_sandbox_process("--state-file", str(state_file), "--token", TOKEN)
    try:
        with _shopline(url) as api:
            assert api.post("/webhooks.json", json=_hook()).status_code == 200
            assert api.post("/webhooks.json", json=_hook("orders/paid")).status_code == 200
            assert api.delete("/13815/webhooks.json").status_code == 200
            hooks = api.get("/webhooks.json").json()
    finally:
        assert stop_sandbox_process(proc) == 0
    assert json.loads(state_file.read_text())["shopline"]["next_id"] == 13816
    assert TOKEN not in state_file.read_text()
    assert [p.name for p in state_file.parent.iterdir()] == ["sandbox.json"]  # no temp files left

    proc, url = start_sandbox_process("--state-file", str(state_file), "--token", TOKEN)
    try:
        with _shopline(url) as api:
            assert api.get("/webhooks.json").json() == hooks
            assert api.post("/webhooks.json", json=_hook("orders/paid")).json()["webhook"]["id"] == 13816
    finally:
        assert stop_sandbox_process(proc) == 0


def test_cli_refuses_remote_host(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--host", "0.0.0.0", "--port", "0"])
    assert exc.value.code == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_in_process_sandbox(tmp_path: Path) -> None:
    with start_sandbox(state_file=tmp_path / "s.json", token="fixed", rate_limits=False) as running:
        base = running.base_url("shopline").format(handle="shop1")
        assert base == f"http://127.0.0.1:{running.port}/shopline/shop1"
        with httpx.Client(base_url=f"{base}/admin/openapi/{VERSION}", timeout=10) as client:
            resp = client.post("/webhooks.json", json=_hook(), headers={"Authorization": "Bearer fixed"})
            assert resp.status_code == 200
            assert client.get("/webhooks.json", headers={"Authorization": "Bearer x"}).status_code == 401
    assert json.loads((tmp_path / "s.json").read_text())["shopline"]["stores"]["shop1"][0]["id"] == 13814
