"""The Shoplazza emulator over HTTP: the session's sandbox subprocess (conftest), reset for every test."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SandboxProcess

from pulumi_webhooks.sandbox import start_sandbox
from pulumi_webhooks.shoplazza import TOPICS

TOKEN = "spz-5f2c9a7e1d3b"  # distinctive, so the log checks can search for it
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
VERSIONS = ("2022-01", "2026-01")


def _api(url: str, version: str, shop: str = "store-a", token: str | None = TOKEN) -> httpx.Client:
    headers = {"Access-Token": token} if token is not None else {}
    return httpx.Client(base_url=f"{url}/shoplazza/{shop}/openapi/{version}", headers=headers, timeout=10)


def _body(version: str, **fields: Any) -> dict[str, Any]:
    """A create/update body in the version's wire format (wrapped from 2025-06 on)."""
    return {"webhook": fields} if version >= "2025-06" else fields


def _hook(version: str, topic: str = "orders/create", address: str = "https://hooks.example.com/a") -> Any:
    return _body(version, address=address, topic=topic)


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def api(sandbox: SandboxProcess, version: str) -> Iterator[httpx.Client]:
    with _api(sandbox.url, version) as client:
        yield client


# -- the endpoints -------------------------------------------------------------------------------


def test_create_list_get_count_update_delete(api: httpx.Client, version: str) -> None:
    resp = api.post("/webhooks", json=_hook(version))
    assert resp.status_code == 200, resp.text
    assert UUID.fullmatch(resp.headers["X-Request-Id"])
    hook = resp.json()["webhook"]
    assert UUID.fullmatch(hook["id"])
    assert (hook["address"], hook["topic"], hook["format"]) == (
        "https://hooks.example.com/a",
        "orders/create",
        "json",
    )
    assert TIMESTAMP.fullmatch(hook["created_at"]) and hook["updated_at"] == hook["created_at"]
    assert set(hook) == {"id", "address", "topic", "created_at", "updated_at", "format"}

    listed = api.get("/webhooks").json()
    assert listed["webhooks"] == [hook]
    if version >= "2025-06":
        assert listed["has_more"] is False and isinstance(listed["cursor"], str)
    else:
        assert set(listed) == {"webhooks"}
    assert api.get(f"/webhooks/{hook['id']}").json() == {"webhook": hook}
    assert api.get("/webhooks/count").json() == {"count": 1}
    assert api.get("/webhooks/count", params={"topic": "orders/paid"}).json() == {"count": 0}

    resp = api.put(f"/webhooks/{hook['id']}", json=_body(version, address="https://hooks.example.com/b"))
    assert resp.status_code == 200
    moved = resp.json()["webhook"]
    assert (moved["id"], moved["address"], moved["topic"]) == (
        hook["id"],
        "https://hooks.example.com/b",
        "orders/create",
    )
    assert moved["created_at"] == hook["created_at"]
    resp = api.put(f"/webhooks/{hook['id']}", json=_body(version, topic="orders/paid"))
    assert resp.json()["webhook"]["topic"] == "orders/paid"
    assert resp.json()["webhook"]["address"] == "https://hooks.example.com/b"
    assert api.get(f"/webhooks/{hook['id']}").json() == resp.json()

    resp = api.delete(f"/webhooks/{hook['id']}")
    assert (resp.status_code, resp.json()) == (200, {})
    resp = api.get(f"/webhooks/{hook['id']}")
    assert (resp.status_code, resp.json()) == (404, {"errors": ["record not found!"]})
    assert api.get("/webhooks/count").json() == {"count": 0}


def test_each_version_takes_only_its_own_body_shape(sandbox: SandboxProcess) -> None:
    flat = {"address": "https://hooks.example.com/a", "topic": "orders/create"}
    with _api(sandbox.url, "2022-01") as old, _api(sandbox.url, "2026-01") as new:
        resp = old.post("/webhooks", json={"webhook": flat})
        assert resp.status_code == 422
        assert resp.json() == {"errors": {"address": ["can't be blank"], "topic": ["can't be blank"]}}
        resp = new.post("/webhooks", json=flat)
        assert (resp.status_code, resp.json()) == (422, {"errors": {"webhook": ["can't be blank"]}})
        assert new.post("/webhooks", json={"webhook": flat}).status_code == 200
        # The same subscriptions, whichever version reads them.
        assert old.get("/webhooks").json()["webhooks"] == new.get("/webhooks").json()["webhooks"]
        resp = new.post("/webhooks", json={"webhook": {**flat, "topic": "orders/paid"}})
        assert resp.status_code == 200
        hook_id = resp.json()["webhook"]["id"]
        assert (
            old.put(f"/webhooks/{hook_id}", json={"webhook": {"topic": "orders/update"}}).status_code == 422
        )
        assert new.put(f"/webhooks/{hook_id}", json={"topic": "orders/update"}).status_code == 422


def test_one_subscription_per_topic_and_shop(
    sandbox: SandboxProcess, api: httpx.Client, version: str
) -> None:
    first = api.post("/webhooks", json=_hook(version)).json()["webhook"]
    resp = api.post("/webhooks", json=_hook(version, address="https://hooks.example.com/other"))
    assert (resp.status_code, resp.json()) == (422, {"errors": ["Topic already exists"]})
    # Another topic, or the same topic in another shop, is fine.
    second = api.post("/webhooks", json=_hook(version, "orders/paid")).json()["webhook"]
    with _api(sandbox.url, version, shop="store-b") as other:
        assert other.post("/webhooks", json=_hook(version)).status_code == 200
        assert other.get("/webhooks/count").json() == {"count": 1}
    # Moving onto a taken topic is refused; keeping one's own topic is not a duplicate.
    resp = api.put(f"/webhooks/{second['id']}", json=_body(version, topic="orders/create"))
    assert (resp.status_code, resp.json()) == (422, {"errors": ["Topic already exists"]})
    resp = api.put(f"/webhooks/{first['id']}", json=_body(version, topic="orders/create"))
    assert resp.status_code == 200
    assert api.get("/webhooks/count").json() == {"count": 2}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"address": "http://hooks.example.com/a", "topic": "orders/create"}, {"address": ["is invalid"]}),
        ({"address": "not a url", "topic": "orders/create"}, {"address": ["is invalid"]}),
        ({"address": "", "topic": "orders/create"}, {"address": ["can't be blank"]}),
        ({"topic": "orders/create"}, {"address": ["can't be blank"]}),
        ({"address": "https://hooks.example.com/a", "topic": ""}, {"topic": ["can't be blank"]}),
        ({"address": "", "topic": ""}, {"address": ["can't be blank"], "topic": ["can't be blank"]}),
    ],
)
def test_create_validation(api: httpx.Client, version: str, fields: dict[str, str], errors: Any) -> None:
    resp = api.post("/webhooks", json=_body(version, **fields))
    assert (resp.status_code, resp.json()) == (422, {"errors": errors})
    assert api.get("/webhooks/count").json() == {"count": 0}


def test_unknown_topic_lists_the_allowed_ones(api: httpx.Client, version: str) -> None:
    resp = api.post("/webhooks", json=_hook(version, "carts/create"))
    assert resp.status_code == 422
    [message] = resp.json()["errors"]
    assert message.startswith("Topic is not allowed, allowed topic are: app/expired,app/uninstalled,")
    # The list as seed 003_496d880053325e1d.txt quotes it: every catalog topic but the page's own example.
    assert set(message.split(": ", 1)[1].split(",")) == TOPICS - {"app/subscriptions_update"}
    for topic in sorted(TOPICS):  # every catalog topic is accepted, the example too
        assert api.post("/webhooks", json=_hook(version, topic)).status_code == 200, topic


def test_the_create_pages_example_topic_is_accepted(api: httpx.Client, version: str) -> None:
    """Seed 003_496d880053325e1d.txt (create-webhook page): "Event name (e.g., orders/cancelled,
    app/subscriptions_update)"; its 422 list omits the example, a documented example must work anyway."""
    resp = api.post("/webhooks", json=_hook(version, "app/subscriptions_update"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["webhook"]["topic"] == "app/subscriptions_update"


def test_count_takes_the_address_and_topic_filters(api: httpx.Client, version: str) -> None:
    """platforms.md §4.2/§4.3 and §4.7: `GET /webhooks/count?topic=…&address=…` counts the matching
    subscriptions ({"count": 1} in the docs' sample); `topic` may list several, comma-separated."""
    for topic, address in (
        ("orders/create", "https://example.com/webhook"),
        ("orders/delete", "https://example.com/webhook"),
        ("orders/paid", "https://example.com/other"),  # one subscription per topic ("Topic already exists")
    ):
        assert api.post("/webhooks", json=_hook(version, topic, address)).status_code == 200

    def count(**params: str) -> Any:
        return api.get("/webhooks/count", params=params).json()

    assert count() == {"count": 3}
    assert count(topic="orders/create", address="https://example.com/webhook") == {"count": 1}
    assert count(address="https://example.com/webhook") == {"count": 2}
    assert count(topic="orders/create,orders/paid") == {"count": 2}
    assert count(topic="orders/create,orders/delete", address="https://example.com/webhook") == {"count": 2}
    assert count(topic="orders/paid", address="https://example.com/webhook") == {"count": 0}


def test_update_validation(api: httpx.Client, version: str) -> None:
    hook = api.post("/webhooks", json=_hook(version)).json()["webhook"]
    path = f"/webhooks/{hook['id']}"
    cases = [
        (_body(version), {"address": ["can't be blank"], "topic": ["can't be blank"]}),
        (_body(version, address=""), {"address": ["can't be blank"]}),
        (_body(version, address="ftp://hooks.example.com/a"), {"address": ["is invalid"]}),
        (_body(version, topic=""), {"topic": ["can't be blank"]}),
    ]
    for body, errors in cases:
        resp = api.put(path, json=body)
        assert (resp.status_code, resp.json()) == (422, {"errors": errors}), body
    resp = api.put(path, json=_body(version, topic="orders/nope"))
    assert resp.status_code == 422 and resp.json()["errors"][0].startswith("Topic is not allowed")
    assert api.get(path).json() == {"webhook": hook}  # nothing changed


def test_bad_requests(api: httpx.Client, version: str) -> None:
    json_type = {"Content-Type": "application/json"}
    for content in (b"{not json", b"[]", b'"text"'):
        resp = api.post("/webhooks", content=content, headers=json_type)
        assert resp.status_code == 400 and isinstance(resp.json()["errors"], list), content
    resp = api.post("/webhooks", json=_body(version, address="https://hooks.example.com/a", topic=7))
    assert resp.status_code == 400
    resp = api.post("/webhooks", content=json.dumps(_hook(version)), headers={"Content-Type": "text/plain"})
    assert resp.status_code == 400
    assert api.get("/webhooks/count").json() == {"count": 0}


# -- lists: filters and both paging schemes ------------------------------------------------------


def _seed(api: httpx.Client, version: str, count: int) -> list[dict[str, Any]]:
    return [
        api.post("/webhooks", json=_hook(version, topic, f"https://hooks.example.com/{i % 2}")).json()[
            "webhook"
        ]
        for i, topic in enumerate(sorted(TOPICS)[:count])
    ]


def test_list_filters(api: httpx.Client, version: str) -> None:
    hooks = _seed(api, version, 5)
    topics = f"{hooks[0]['topic']},{hooks[3]['topic']}"
    listed = api.get("/webhooks", params={"topic": topics}).json()["webhooks"]
    assert [w["id"] for w in listed] == [hooks[0]["id"], hooks[3]["id"]]
    listed = api.get("/webhooks", params={"address": "https://hooks.example.com/1"}).json()["webhooks"]
    assert [w["id"] for w in listed] == [hooks[1]["id"], hooks[3]["id"]]
    assert api.get("/webhooks/count", params={"address": "https://hooks.example.com/0"}).json() == {
        "count": 3
    }
    created = hooks[0]["created_at"]
    assert len(api.get("/webhooks", params={"created_at_min": created}).json()["webhooks"]) == 5
    assert api.get("/webhooks", params={"updated_at_min": "2999-01-01T00:00:00Z"}).json()["webhooks"] == []
    assert (
        len(api.get("/webhooks", params={"created_at_max": "2999-01-01T00:00:00+08:00"}).json()["webhooks"])
        == 5
    )
    resp = api.get("/webhooks", params={"created_at_min": "yesterday"})
    assert (resp.status_code, resp.json()) == (422, {"errors": {"created_at_min": ["is invalid"]}})


def test_list_pages_by_limit_and_page_in_2022_01(sandbox: SandboxProcess) -> None:
    with _api(sandbox.url, "2022-01") as api:
        hooks = _seed(api, "2022-01", 5)
        pages = [
            api.get("/webhooks", params={"limit": 2, "page": p}).json()["webhooks"] for p in (1, 2, 3, 4)
        ]
        assert [[w["id"] for w in page] for page in pages] == [
            [hooks[0]["id"], hooks[1]["id"]],
            [hooks[2]["id"], hooks[3]["id"]],
            [hooks[4]["id"]],
            [],
        ]
        assert len(api.get("/webhooks").json()["webhooks"]) == 5  # default limit 50
        resp = api.get("/webhooks", params={"limit": 251, "page": 0})
        assert resp.status_code == 422
        assert resp.json() == {
            "errors": {
                "limit": ["must be less than or equal to 250"],
                "page": ["must be greater than or equal to 1"],
            }
        }
        assert api.get("/webhooks", params={"limit": "many"}).json() == {
            "errors": {"limit": ["is not a number"]}
        }
        assert api.get("/webhooks", params={"limit": 250}).status_code == 200


def test_list_pages_by_cursor_in_2026_01(sandbox: SandboxProcess) -> None:
    with _api(sandbox.url, "2026-01") as api:
        hooks = _seed(api, "2026-01", 5)
        seen: list[str] = []
        params: dict[str, Any] = {"page_size": 2}
        for _ in range(3):
            page = api.get("/webhooks", params=params).json()
            seen += [w["id"] for w in page["webhooks"]]
            params = {"page_size": 2, "cursor": page["cursor"]}
        assert seen == [h["id"] for h in hooks]
        assert page["has_more"] is False
        first = api.get("/webhooks", params={"page_size": 2}).json()
        assert first["has_more"] is True and first["cursor"]
        # The cursor survives a deletion of the item it points after.
        api.delete(f"/webhooks/{hooks[1]['id']}")
        after = api.get("/webhooks", params={"page_size": 2, "cursor": first["cursor"]}).json()
        assert [w["id"] for w in after["webhooks"]] == [hooks[2]["id"], hooks[3]["id"]]
        # `limit`/`page` belong to 2022-01: ignored here.
        assert len(api.get("/webhooks", params={"limit": 1, "page": 3}).json()["webhooks"]) == 4
        for params, field in (({"cursor": "not-a-cursor"}, "cursor"), ({"page_size": 251}, "page_size")):
            resp = api.get("/webhooks", params=params)
            assert resp.status_code == 422 and field in resp.json()["errors"], params


# -- auth, unknown paths, rate limits ------------------------------------------------------------


def test_auth(sandbox: SandboxProcess) -> None:
    path = f"{sandbox.url}/shoplazza/store-a/openapi/2022-01/webhooks"
    for headers in ({}, {"Access-Token": ""}, {"Authorization": f"Bearer {TOKEN}"}):
        resp = httpx.get(path, headers=headers)
        assert (resp.status_code, resp.json()) == (401, {"error": "Unauthorized"}), headers
        assert "X-Request-Id" in resp.headers
    # A fixed token: any other token is refused; reset returns to the startup setting (any token).
    sandbox.settings(token="right-token")
    with (
        _api(sandbox.url, "2022-01", token="wrong") as wrong,
        _api(sandbox.url, "2022-01", token="right-token") as right,
    ):
        assert wrong.get("/webhooks").status_code == 401
        assert right.get("/webhooks").status_code == 200
        sandbox.reset()
        assert wrong.get("/webhooks").status_code == 200


def test_not_found(sandbox: SandboxProcess, api: httpx.Client, version: str) -> None:
    missing = "/webhooks/91d138d0-2a31-49da-a61d-506ada8c3743"
    for method in ("GET", "PUT", "DELETE"):
        body = _body(version, address="https://hooks.example.com/b") if method == "PUT" else None
        resp = api.request(method, missing, json=body)
        assert (resp.status_code, resp.json()) == (404, {"errors": ["record not found!"]}), method
    headers = {"Access-Token": TOKEN}
    for path in (
        "/shoplazza/store-a/openapi/2023-01/webhooks",  # a version we do not emulate
        "/shoplazza/store-a/openapi/2022-01/products",
        "/shoplazza/store-a/webhooks",
    ):
        resp = httpx.get(sandbox.url + path, headers=headers)
        assert (resp.status_code, resp.json()) == (404, {"error": "page not found"}), path
    assert api.post("/webhooks/count", json={}).status_code == 404


def test_rate_limit_bucket_of_60_draining_at_2_per_second(sandbox: SandboxProcess) -> None:
    with _api(sandbox.url, "2026-01") as api:
        assert [api.get("/webhooks/count").status_code for _ in range(60)] == [200] * 60
        more = [api.get("/webhooks/count") for _ in range(10)]
        limited = [r for r in more if r.status_code == 429]
        assert limited, [r.status_code for r in more]
        assert limited[0].json() == {"errors": ["Too Many Requests"]}
        assert "X-Request-Id" in limited[0].headers
        # Per shop (and app): another shop, or another token, has its own bucket.
        with _api(sandbox.url, "2022-01", shop="store-b") as other_shop:
            assert other_shop.get("/webhooks/count").status_code == 200
        with _api(sandbox.url, "2022-01", token="another-app") as other_app:
            assert other_app.get("/webhooks/count").status_code == 200
        assert sandbox.stats()["platforms"]["shoplazza"]["rate_limited"] == len(limited)
        time.sleep(0.6)  # one request drains in 0.5 s
        assert api.get("/webhooks/count").status_code == 200
        sandbox.settings(rate_limits=False)
        assert {api.get("/webhooks/count").status_code for _ in range(10)} == {200}


# -- faults, state, log --------------------------------------------------------------------------


def test_faults_use_the_platform_envelope(sandbox: SandboxProcess, api: httpx.Client, version: str) -> None:
    sandbox.fault("shoplazza", "status", method="POST", status=429, retry_after=2)
    resp = api.post("/webhooks", json=_hook(version))
    assert (resp.status_code, resp.json()) == (429, {"errors": ["Too Many Requests"]})
    assert resp.headers["Retry-After"] == "2" and "X-Request-Id" in resp.headers
    assert api.get("/webhooks/count").json() == {"count": 0}  # nothing was processed
    sandbox.fault("shoplazza", "commit_then_drop", method="POST")
    with pytest.raises(httpx.TransportError):
        api.post("/webhooks", json=_hook(version))
    assert api.get("/webhooks/count").json() == {"count": 1}  # committed before the drop


def test_state_snapshot_reset_and_seed(sandbox: SandboxProcess, api: httpx.Client, version: str) -> None:
    hook = api.post("/webhooks", json=_hook(version)).json()["webhook"]
    state = sandbox.state()["shoplazza"]
    assert state == {"next_seq": 2, "shops": {"store-a": [{**hook, "seq": 1}]}}
    sandbox.reset()
    assert sandbox.state()["shoplazza"] == {"next_seq": 1, "shops": {}}
    resp = sandbox.admin.post("/_sandbox/state", json={"shoplazza": state})
    assert resp.status_code == 200
    assert api.get(f"/webhooks/{hook['id']}").json() == {"webhook": hook}
    assert sandbox.admin.post("/_sandbox/state", json={"shoplazza": {"shops": 3}}).status_code == 400


def test_request_log_never_holds_tokens(sandbox: SandboxProcess, api: httpx.Client, version: str) -> None:
    api.post("/webhooks", json=_hook(version))
    api.get("/webhooks", params={"topic": "orders/create"})
    entries = sandbox.requests("shoplazza")
    assert [(e["method"], e["status"]) for e in entries] == [("POST", 200), ("GET", 200)]
    assert entries[0]["path"] == f"/shoplazza/store-a/openapi/{version}/webhooks"
    for text in (repr(entries), repr(sandbox.stats()), repr(sandbox.state())):
        assert TOKEN not in text


def test_state_file_survives_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    with start_sandbox(state_file=state_file, token=TOKEN, rate_limits=False) as running:
        base = running.base_url("shoplazza").format(shop="store-a")
        assert base == f"http://127.0.0.1:{running.port}/shoplazza/store-a"
        with _api(running.url, "2026-01") as api:
            kept = api.post("/webhooks", json=_hook("2026-01")).json()["webhook"]
            gone = api.post("/webhooks", json=_hook("2026-01", "orders/paid")).json()["webhook"]
            assert api.delete(f"/webhooks/{gone['id']}").status_code == 200
    saved = json.loads(state_file.read_text())["shoplazza"]
    assert saved["next_seq"] == 3 and [w["id"] for w in saved["shops"]["store-a"]] == [kept["id"]]
    assert TOKEN not in state_file.read_text()
    with start_sandbox(state_file=state_file, token=TOKEN) as running, _api(running.url, "2022-01") as api:
        assert api.get("/webhooks").json() == {"webhooks": [kept]}
        api.post("/webhooks", json=_hook("2022-01", "orders/paid"))
        assert json.loads(state_file.read_text())["shoplazza"]["next_seq"] == 4
