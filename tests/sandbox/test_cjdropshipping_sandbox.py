"""The CJdropshipping emulator over HTTP: a real `python -m pulumi_webhooks.sandbox` subprocess."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from conftest import start_sandbox_process, stop_sandbox_process

KEY = "CJ5550001@api@9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"  # distinctive, so the log checks can search for it
SAME_USER_KEY = "CJ5550001@api@00000000000000000000000000000001"
OTHER_USER_KEY = "CJ7770002@api@ffffffffffffffffffffffffffffffff"
GROUPS = ("product", "stock", "order", "logistics")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    proc, found = start_sandbox_process()
    try:
        yield found
    finally:
        assert stop_sandbox_process(proc) == 0


@pytest.fixture
def admin(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.post("/_sandbox/reset").status_code == 200  # every test starts from nothing
        yield client


@pytest.fixture
def api(admin: httpx.Client) -> Iterator[httpx.Client]:
    """A client of the CJ API; the account QPS is raised (1 by default) except where a test lowers it."""
    _options(admin, account_qps=100)
    base = str(admin.base_url).rstrip("/")
    with httpx.Client(base_url=f"{base}/cjdropshipping/api2.0/v1", timeout=10) as client:
        yield client


def _options(admin: httpx.Client, **values: Any) -> dict[str, Any]:
    resp = admin.post("/cjdropshipping/_sandbox/settings", json=values)
    assert resp.status_code == 200, resp.text
    options: dict[str, Any] = resp.json()
    return options


def _grant(api: httpx.Client, key: str = KEY) -> dict[str, Any]:
    body = api.post("/authentication/getAccessToken", json={"apiKey": key}).json()
    assert body["code"] == 200, body
    data: dict[str, Any] = body["data"]
    return data


def _auth(token: str) -> dict[str, str]:
    return {"CJ-Access-Token": token}


OFF = "https://hooks.example.com/off"


def _body(**urls: str | None) -> dict[str, Any]:
    # CANCEL carries a URL too: `callbackUrls` is required with one element (seed 000_01eea84b9c132086.txt).
    return {
        g: {"type": "ENABLE", "callbackUrls": [u]}
        if (u := urls.get(g))
        else {"type": "CANCEL", "callbackUrls": [OFF]}
        for g in GROUPS
    }


def _assert_fails(resp: httpx.Response, code: int) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text  # CJ reports errors inside HTTP 200
    body: dict[str, Any] = resp.json()
    assert (body["code"], body["result"], body["success"], body["data"]) == (code, False, False, None), body
    assert UUID.fullmatch(body["requestId"])
    return body


# -- tokens ------------------------------------------------------------------------------------------


def test_get_access_token_answers_the_documented_envelope(api: httpx.Client) -> None:
    resp = api.post("/authentication/getAccessToken", json={"apiKey": KEY})
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"code", "result", "message", "data", "requestId", "success"}
    assert (body["code"], body["result"], body["message"], body["success"]) == (200, True, "Success", True)
    data = body["data"]
    assert isinstance(data["openId"], int) and len(str(data["openId"])) == 15
    assert re.fullmatch(r"[0-9a-f]{32}", data["accessToken"])
    assert data["refreshToken"] != data["accessToken"]
    access = datetime.fromisoformat(data["accessTokenExpiryDate"])
    refresh = datetime.fromisoformat(data["refreshTokenExpiryDate"])
    created = datetime.fromisoformat(data["createDate"])
    assert data["accessTokenExpiryDate"].endswith("+08:00")
    assert round((access - created).total_seconds() / 86400) == 15
    assert round((refresh - created).total_seconds() / 86400) == 180


def test_get_access_token_once_per_interval_per_key(admin: httpx.Client, api: httpx.Client) -> None:
    first = _grant(api)
    again = _assert_fails(api.post("/authentication/getAccessToken", json={"apiKey": KEY}), 1600200)
    assert "5 minutes" in again["message"]
    # Per key: another key (even of the same user) is not limited; the same user has the same openId.
    assert _grant(api, SAME_USER_KEY)["openId"] == first["openId"]
    assert _grant(api, OTHER_USER_KEY)["openId"] != first["openId"]
    stats = admin.get("/cjdropshipping/_sandbox/stats").json()
    assert stats["get_access_token"] == 4 and stats["tokens_issued"] == 3
    _options(admin, token_interval=0)
    assert _grant(api)["openId"] == first["openId"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"json": {}}, 16900403),
        ({"json": {"apiKey": ""}}, 16900403),
        ({"json": {"apiKey": 7}}, 16900403),
        ({"json": {"apiKey": "CJ1@api@" + "a" * 200}}, 1600300),
        ({"content": b"{nope", "headers": {"Content-Type": "application/json"}}, 16900205),
        ({"content": b"[]", "headers": {"Content-Type": "application/json"}}, 16900205),
        ({"content": b'{"apiKey": "x"}', "headers": {"Content-Type": "text/plain"}}, 16900203),
    ],
)
def test_get_access_token_rejects_bad_requests(api: httpx.Client, kwargs: dict[str, Any], code: int) -> None:
    _assert_fails(api.post("/authentication/getAccessToken", **kwargs), code)


def test_fixed_api_key_setting(admin: httpx.Client, api: httpx.Client) -> None:
    admin.post("/_sandbox/settings", json={"token": KEY}).raise_for_status()
    _assert_fails(api.post("/authentication/getAccessToken", json={"apiKey": OTHER_USER_KEY}), 1600001)
    assert _grant(api)["accessToken"]


def test_repeat_grants_within_24_hours_return_the_same_tokens(admin: httpx.Client, api: httpx.Client) -> None:
    # developers.cjdropshipping.com/en/api/api2/api/auth.html: "When the same account calls the Get Token
    # endpoint multiple times within 24 hours, the returned accessToken and refreshToken remain
    # consistent ... The Refresh Token endpoint also returns the same cached token within the 24-hour
    # window. After 24 hours or after an explicit logout, a new token will be generated."
    _options(admin, token_interval=0)
    first = _grant(api)
    again = _grant(api)
    assert (again["accessToken"], again["refreshToken"]) == (first["accessToken"], first["refreshToken"])
    refreshed = api.post("/authentication/refreshAccessToken", json={"refreshToken": first["refreshToken"]})
    assert refreshed.json()["data"]["accessToken"] == first["accessToken"]
    assert admin.get("/cjdropshipping/_sandbox/stats").json()["same_tokens_again"] == 2
    api.post("/authentication/logout", headers=_auth(first["accessToken"]))
    after_logout = _grant(api)
    assert after_logout["accessToken"] != first["accessToken"]
    _options(admin, token_cache_window=0)  # as after 24 hours
    assert _grant(api)["accessToken"] != after_logout["accessToken"]


def test_get_access_token_at_qps_1(admin: httpx.Client, api: httpx.Client) -> None:
    # The current auth page: "maximum 1 call per second (QPS = 1)"; the older one: once per 5 minutes.
    _options(admin, token_interval=1)
    first = _grant(api)
    refused = _assert_fails(api.post("/authentication/getAccessToken", json={"apiKey": KEY}), 1600200)
    assert "QPS" in refused["message"]
    time.sleep(1.05)
    assert _grant(api)["accessToken"] == first["accessToken"]  # and within 24 h: the same token


def test_refresh_access_token(admin: httpx.Client, api: httpx.Client) -> None:
    _options(admin, token_cache_window=0)  # past the 24 hours in which refresh returns the same token
    grant = _grant(api)
    resp = api.post("/authentication/refreshAccessToken", json={"refreshToken": grant["refreshToken"]})
    data = resp.json()["data"]
    assert "openId" not in data
    assert data["accessToken"] != grant["accessToken"]
    assert data["refreshToken"] == grant["refreshToken"]
    assert data["refreshTokenExpiryDate"] == grant["refreshTokenExpiryDate"]
    for token in (grant["accessToken"], data["accessToken"]):  # the old one stays valid until it expires
        assert api.get("/setting/get", headers=_auth(token)).json()["code"] == 200
    _assert_fails(api.post("/authentication/refreshAccessToken", json={"refreshToken": "nope"}), 1600003)
    _assert_fails(api.post("/authentication/refreshAccessToken", json={}), 16900403)
    codes = [
        api.post("/authentication/refreshAccessToken", json={"refreshToken": grant["refreshToken"]}).json()[
            "code"
        ]
        for _ in range(5)
    ]
    assert codes == [200, 200, 200, 200, 1600200]  # 5 a minute


def test_access_token_header(admin: httpx.Client, api: httpx.Client) -> None:
    _assert_fails(api.get("/setting/get"), 1600002)
    _assert_fails(api.get("/setting/get", headers=_auth("")), 1600002)
    _assert_fails(api.get("/setting/get", headers=_auth("f" * 32)), 1600001)
    grant = _grant(api)
    assert api.get("/setting/get", headers=_auth(grant["accessToken"])).json()["code"] == 200
    admin.post("/cjdropshipping/_sandbox/expire-tokens").raise_for_status()
    _assert_fails(api.get("/setting/get", headers=_auth(grant["accessToken"])), 1600001)
    assert admin.get("/cjdropshipping/_sandbox/stats").json()["rejected_tokens"] == 2
    # The refresh token outlives the access token.
    resp = api.post("/authentication/refreshAccessToken", json={"refreshToken": grant["refreshToken"]})
    fresh = resp.json()["data"]["accessToken"]
    assert api.get("/setting/get", headers=_auth(fresh)).json()["code"] == 200


def test_short_lived_tokens_expire(admin: httpx.Client, api: httpx.Client) -> None:
    _options(admin, access_token_ttl=0.3)
    token = _grant(api)["accessToken"]
    assert api.get("/setting/get", headers=_auth(token)).json()["code"] == 200
    time.sleep(0.4)
    _assert_fails(api.get("/setting/get", headers=_auth(token)), 1600001)


def test_logout_expires_both_tokens(api: httpx.Client) -> None:
    grant = _grant(api)
    assert api.post("/authentication/logout", headers=_auth(grant["accessToken"])).json()["data"] is True
    _assert_fails(api.get("/setting/get", headers=_auth(grant["accessToken"])), 1600001)
    _assert_fails(
        api.post("/authentication/refreshAccessToken", json={"refreshToken": grant["refreshToken"]}), 1600003
    )


# -- webhook/set and setting/get ------------------------------------------------------------------------


def test_set_then_get_with_the_urls_spelling(api: httpx.Client) -> None:
    token = _grant(api)["accessToken"]
    before = api.get("/setting/get", headers=_auth(token)).json()["data"]
    assert before["callback"] == {}  # nothing set yet
    assert before["setting"]["qpsLimit"] == 100
    resp = api.post("/webhook/set", json=_body(product="https://hooks.example.com/p"), headers=_auth(token))
    body = resp.json()
    assert (body["code"], body["result"], body["data"], body["success"]) == (200, True, True, True)
    data = api.get("/setting/get", headers=_auth(token)).json()["data"]
    assert data["callback"] == {
        "product": {"type": "ENABLE", "urls": ["https://hooks.example.com/p"]},
        "stock": {"type": "CANCEL", "urls": []},
        "order": {"type": "CANCEL", "urls": []},
        "logistics": {"type": "CANCEL", "urls": []},
    }
    assert {"openId", "openName", "openEmail", "setting", "root", "isSandbox"} <= set(data)


def test_callback_spelling_is_switchable(admin: httpx.Client, api: httpx.Client) -> None:
    token = _grant(api)["accessToken"]
    api.post("/webhook/set", json=_body(order="https://hooks.example.com/o"), headers=_auth(token))
    assert _options(admin, callback_spelling="callbackUrls")["callback_spelling"] == "callbackUrls"
    data = api.get("/setting/get", headers=_auth(token)).json()["data"]
    assert data["callback"]["order"] == {"type": "ENABLE", "callbackUrls": ["https://hooks.example.com/o"]}
    _options(admin, callback_spelling="absent")
    data = api.get("/setting/get", headers=_auth(token)).json()["data"]
    assert "callback" not in data and data["openId"]
    admin.post("/_sandbox/reset")
    assert admin.get("/cjdropshipping/_sandbox/settings").json()["callback_spelling"] == "urls"


def test_optional_groups_are_kept(api: httpx.Client) -> None:
    token = _grant(api)["accessToken"]
    body = {**_body(), "makeup": {"type": "ENABLE", "callbackUrls": ["https://hooks.example.com/m"]}}
    assert api.post("/webhook/set", json=body, headers=_auth(token)).json()["code"] == 200
    api.post("/webhook/set", json=_body(), headers=_auth(token))  # without makeup: it stays as it was
    callback = api.get("/setting/get", headers=_auth(token)).json()["data"]["callback"]
    assert callback["makeup"] == {"type": "ENABLE", "urls": ["https://hooks.example.com/m"]}


def _without(group: str) -> dict[str, Any]:
    body = _body()
    del body[group]
    return body


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_body(product="http://hooks.example.com/p"), 1607002),
        (_body(stock="not a url"), 1607002),
        (_body(order="https://localhost/o"), 1607001),
        (_body(order="https://127.0.0.1:8443/o"), 1607001),
        (_body(logistics="https://10.0.0.7/l"), 1607001),
        (_body(logistics="https://[::1]/l"), 1607001),
        (_body(product="https://receiver.unreachable.example/p"), 1607003),
        (_body(product="https://hooks.example.com/" + "a" * 180), 1600300),
        (_without("logistics"), 16900403),
        ({**_body(), "stock": {"type": "ALL", "callbackUrls": []}}, 1600300),
        ({**_body(), "stock": {"type": "ENABLE", "callbackUrls": []}}, 16900403),
        # webhook.html / seed 000_01eea84b9c132086.txt: callbackUrls "Y", length 1, for CANCEL as well.
        ({**_body(), "stock": {"type": "CANCEL", "callbackUrls": []}}, 16900403),
        ({**_body(), "stock": {"type": "CANCEL"}}, 16900403),
        ({**_body(), "stock": {"type": "CANCEL", "callbackUrls": ["http://hooks.example.com/s"]}}, 1607002),
        ({**_body(), "makeup": {"type": "CANCEL", "callbackUrls": []}}, 16900403),
        ({**_body(), "stock": {"type": "ENABLE"}}, 16900403),
        ({**_body(), "stock": {"type": "ENABLE", "callbackUrls": "https://a.example.com/"}}, 1600300),
        ({**_body(), "stock": "ENABLE"}, 1600300),
        (
            {
                **_body(),
                "order": {
                    "type": "ENABLE",
                    "callbackUrls": ["https://a.example.com", "https://b.example.com"],
                },
            },
            1600300,
        ),
    ],
)
def test_set_validation(api: httpx.Client, body: dict[str, Any], code: int) -> None:
    token = _grant(api)["accessToken"]
    api.post("/webhook/set", json=_body(product="https://hooks.example.com/keep"), headers=_auth(token))
    _assert_fails(api.post("/webhook/set", json=body, headers=_auth(token)), code)
    callback = api.get("/setting/get", headers=_auth(token)).json()["data"]["callback"]
    assert callback["product"]["urls"] == ["https://hooks.example.com/keep"]  # nothing half-applied


def test_unreachable_suffix_is_configurable(admin: httpx.Client, api: httpx.Client) -> None:
    token = _grant(api)["accessToken"]
    _options(admin, unreachable_suffix=".down.example.net")
    ok = api.post("/webhook/set", json=_body(product="https://a.unreachable.example/p"), headers=_auth(token))
    assert ok.json()["code"] == 200
    down = api.post(
        "/webhook/set", json=_body(product="https://hooks.down.example.net/p"), headers=_auth(token)
    )
    assert _assert_fails(down, 1607003)["message"] == "Webhook url error, Http Status must be 200"


def test_accounts_are_per_cj_user(admin: httpx.Client, api: httpx.Client) -> None:
    mine, same_user = _grant(api)["accessToken"], _grant(api, SAME_USER_KEY)["accessToken"]
    other = _grant(api, OTHER_USER_KEY)["accessToken"]
    api.post("/webhook/set", json=_body(order="https://hooks.example.com/o"), headers=_auth(mine))
    assert "order" in api.get("/setting/get", headers=_auth(same_user)).json()["data"]["callback"]
    assert api.get("/setting/get", headers=_auth(other)).json()["data"]["callback"] == {}


def test_routing_errors(api: httpx.Client, admin: httpx.Client) -> None:
    token = _grant(api)["accessToken"]
    _assert_fails(api.get("/webhook/set", headers=_auth(token)), 16900202)
    # platforms.md §1.5: errors come back as HTTP 200 with result false; 1600101 "Interface not found".
    resp = api.get("/webhook/list", headers=_auth(token))
    assert _assert_fails(resp, 1600101)["message"] == "Interface not found"
    _assert_fails(api.post("/authentication/nope", json={}), 1600101)
    _assert_fails(admin.get("/cjdropshipping/other"), 1600101)  # outside /api2.0/v1 too
    assert admin.get("/cjdropshipping/_sandbox/nope").status_code == 404
    assert admin.post("/cjdropshipping/_sandbox/settings", json={"account_qps": 0}).status_code == 400
    assert admin.post("/cjdropshipping/_sandbox/settings", json={"surprise": 1}).status_code == 400
    assert (
        admin.post("/cjdropshipping/_sandbox/settings", json={"callback_spelling": "url"}).status_code == 400
    )


# -- rate limits, faults, state -----------------------------------------------------------------------


def test_account_qps_answers_1600200_inside_http_200(admin: httpx.Client, api: httpx.Client) -> None:
    admin.post("/_sandbox/reset")
    assert admin.get("/cjdropshipping/_sandbox/settings").json()["account_qps"] == 1  # the lowest level
    token, other = _grant(api)["accessToken"], _grant(api, OTHER_USER_KEY)["accessToken"]
    assert api.get("/setting/get", headers=_auth(token)).json()["code"] == 200
    _assert_fails(api.get("/setting/get", headers=_auth(token)), 1600200)
    assert api.get("/setting/get", headers=_auth(other)).json()["code"] == 200  # per account
    assert admin.get("/cjdropshipping/_sandbox/stats").json()["rate_limited"] == 1
    time.sleep(1.05)
    assert api.get("/setting/get", headers=_auth(token)).json()["code"] == 200
    _options(admin, account_qps=4)
    time.sleep(1.05)
    codes = [api.get("/setting/get", headers=_auth(token)).json()["code"] for _ in range(5)]
    assert codes == [200, 200, 200, 200, 1600200]
    time.sleep(0.3)  # drains at 4 a second
    assert api.get("/setting/get", headers=_auth(token)).json()["data"]["setting"]["qpsLimit"] == 4


def test_status_fault_uses_the_cj_envelope(admin: httpx.Client, api: httpx.Client) -> None:
    admin.post("/_sandbox/faults", json={"platform": "cjdropshipping", "kind": "status", "status": 502})
    resp = api.get("/setting/get")
    assert resp.status_code == 502
    assert resp.json()["result"] is False and resp.json()["code"] == 502


def test_state_holds_no_usable_token_or_key_and_round_trips(admin: httpx.Client, api: httpx.Client) -> None:
    grant = _grant(api)
    api.post(
        "/webhook/set", json=_body(stock="https://hooks.example.com/s"), headers=_auth(grant["accessToken"])
    )
    state = admin.get("/_sandbox/state").json()
    text = str(state)
    for secret in (KEY, grant["accessToken"], grant["refreshToken"]):
        assert secret not in text
    assert list(state["cjdropshipping"]["accounts"]) == ["CJ5550001"]
    admin.post("/_sandbox/reset")
    _assert_fails(api.get("/setting/get", headers=_auth(grant["accessToken"])), 1600001)
    assert admin.post("/_sandbox/state", json={"cjdropshipping": state["cjdropshipping"]}).status_code == 200
    data = api.get("/setting/get", headers=_auth(grant["accessToken"])).json()["data"]
    assert data["callback"]["stock"]["urls"] == ["https://hooks.example.com/s"]
    bad = {"cjdropshipping": {"accounts": {"x": {"open_id": "nope"}}}}
    assert admin.post("/_sandbox/state", json=bad).status_code == 400
    log = admin.get("/_sandbox/requests", params={"platform": "cjdropshipping"}).text
    assert KEY not in log and grant["accessToken"] not in log
