"""The sandbox dashboard (`GET /_sandbox/`) in a real headless Chromium, driven through chromedriver's
W3C WebDriver API (plain HTTP on loopback, no client library), against the session's sandbox subprocess.

Chromium and chromedriver are Debian packages (`chromium`, `chromium-driver`) that `make test` installs
(`make browser`). Without them the browser tests fail, saying why (apt-get's answer when `make browser`
could not install them): they are never skipped, in CI or anywhere else.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SandboxProcess, start_sandbox_process, stop_sandbox_process

from pulumi_webhooks.sandbox._dashboard import MASK, RECENT_REQUESTS, render_fragment

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # elsewhere than Debian: point at your own
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL_LOG = Path(__file__).resolve().parents[2] / ".browser-install.log"  # written by `make browser`
WIDTH, HEIGHT = 1280, 900
WAIT = 20.0  # seconds to wait for the page to show a change (it polls every 2 s)

SHOPLINE_STORE = "dash-store"
SHOPLINE_ADDRESS = "https://hooks.example.com/shopline?q=<b>bold</b>&x=1"  # markup in user data
SHOPLAZZA_SHOP = "dash-shop"
UP42_WS = "0cb1eaa0-89a3-11ec-a8a3-0242ac120002"
UP42_NAME = '<img src=x onerror="document.title=1">alerts</td><script>document.title=2</script>'
UP42_SECRET = "whsec-up42-5e1f0c9d8b7a"  # distinctive, so the page can be searched for it
CJ_KEY = "CJ4440001@api@7b1e0c2d3f4a5b6c7d8e9f0a1b2c3d4e"


class Chromium:
    """One headless Chromium session through chromedriver; only loopback is reachable from it."""

    def __init__(self, profile: Path) -> None:
        missing = [p for p in (CHROMIUM, CHROMEDRIVER) if shutil.which(p) is None]
        if missing:
            pytest.fail(missing_browser(missing), pytrace=False)
        self._driver = subprocess.Popen(
            [CHROMEDRIVER, "--port=0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self._driver.stdout is not None
        port = None
        for line in self._driver.stdout:  # a few banner lines, then the port (EOF if it died)
            if found := re.search(r"started successfully on port (\d+)", line):
                port = int(found[1])
                break
        if port is None:
            self._driver.kill()
            pytest.fail("chromedriver did not start")
        self._http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        args = [
            "--headless=new",
            "--no-sandbox",  # tests may run as root (CI containers)
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--window-size={WIDTH},{HEIGHT}",
            "--force-device-scale-factor=1",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            # Anything but loopback (which Chromium never proxies) goes to a closed port: fails, never leaves.
            "--proxy-server=http://127.0.0.1:9",
        ]
        capabilities = {"browserName": "chrome", "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}
        resp = self._http.post("/session", json={"capabilities": {"alwaysMatch": capabilities}})
        if resp.status_code != 200:
            self.close()
            pytest.fail(f"chromium did not start: {resp.text[:500]}")
        self._session = f"/session/{resp.json()['value']['sessionId']}"
        # --window-size counts the browser's own frame: grow the window until the page gets the full size.
        frame_width, frame_height = self.run("return [outerWidth - innerWidth, outerHeight - innerHeight]")
        self._call("POST", "/window/rect", {"width": WIDTH + frame_width, "height": HEIGHT + frame_height})

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        resp = self._http.request(method, self._session + path, json=body)
        assert resp.status_code == 200, resp.text[:500]
        return resp.json()["value"]

    def open(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        """The value of a JavaScript function body run in the page (`arguments[i]` are `args`)."""
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait_for(self, script: str, *args: Any) -> Any:
        """Run `script` until it returns something truthy (the page refreshes itself every 2 s)."""
        deadline = time.monotonic() + WAIT
        while not (value := self.run(script, *args)):
            if time.monotonic() > deadline:
                pytest.fail(f"the page never satisfied {script!r}; it shows:\n{self.text()}")
            time.sleep(0.1)
        return value

    def text(self) -> str:
        text: str = self.run("return document.body.innerText")
        return text

    def screenshot(self) -> bytes:
        return base64.b64decode(self._call("GET", "/screenshot"))

    def close(self) -> None:
        if hasattr(self, "_session"):
            self._http.delete(self._session)
        self._http.close()
        self._driver.terminate()
        self._driver.wait(timeout=10)


def missing_browser(missing: list[str]) -> str:
    """Why the browser tests cannot run, and how to make them."""
    why = (
        f"{' and '.join(missing)} not found: `make test` installs Debian's chromium and chromium-driver "
        "(apt-get install chromium chromium-driver; elsewhere, set CHROMIUM and CHROMEDRIVER to their paths)"
    )
    if INSTALL_LOG.exists():
        answer = " / ".join(line for line in INSTALL_LOG.read_text().splitlines()[-3:] if line.strip())
        why += f". `make browser` could not install them; apt-get said: {answer}"
    return why


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        chromium = Chromium(Path(profile))
        try:
            yield chromium
        finally:
            chromium.close()


# -- the platforms, through their APIs -------------------------------------------------------------


@dataclass
class Created:
    shopline_id: str
    shoplazza_id: str
    up42_id: str
    up42_token: str
    cj_tokens: tuple[str, str]


def create_subscriptions(url: str) -> Created:
    with httpx.Client(base_url=url, timeout=10) as http:
        shopline = http.post(
            f"/shopline/{SHOPLINE_STORE}/admin/openapi/v20260301/webhooks.json",
            headers={"Authorization": "Bearer shopline-token-1"},
            json={
                "webhook": {"address": SHOPLINE_ADDRESS, "api_version": "v20260301", "topic": "orders/create"}
            },
        )
        assert shopline.status_code == 200, shopline.text
        shoplazza = http.post(
            f"/shoplazza/{SHOPLAZZA_SHOP}/openapi/2022-01/webhooks",
            headers={"Access-Token": "shoplazza-token-1"},
            json={"address": "https://hooks.example.com/shoplazza", "topic": "products/update"},
        )
        assert shoplazza.status_code == 200, shoplazza.text
        up42_token = http.post(
            "/up42/auth/realms/public/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "up42-api",
                "username": "u@example.com",
                "password": "pw",
            },
        ).json()["access_token"]
        up42 = http.post(
            f"/up42/api/workspaces/{UP42_WS}/webhooks",
            headers={"Authorization": f"Bearer {up42_token}"},
            json={
                "url": "https://hooks.example.com/up42",
                "name": UP42_NAME,
                "active": True,
                "events": ["job.status", "order.status"],
                "secret": UP42_SECRET,
            },
        )
        assert up42.status_code == 201, up42.text
        grant = http.post("/cjdropshipping/api2.0/v1/authentication/getAccessToken", json={"apiKey": CJ_KEY})
        cj_grant = grant.json()["data"]
        groups = {
            # CJ takes exactly one URL for either type (an empty list is refused)
            g: {"type": "CANCEL", "callbackUrls": ["https://hooks.example.com/cj-off"]}
            for g in ("product", "stock", "order", "logistics")
        }
        groups["order"] = {"type": "ENABLE", "callbackUrls": ["https://hooks.example.com/cj-order"]}
        cj = http.post(
            "/cjdropshipping/api2.0/v1/webhook/set",
            headers={"CJ-Access-Token": cj_grant["accessToken"]},
            json=groups,
        )
        assert cj.json()["code"] == 200, cj.text
        return Created(
            str(shopline.json()["webhook"]["id"]),
            shoplazza.json()["webhook"]["id"],
            up42.json()["data"]["id"],
            up42_token,
            (cj_grant["accessToken"], cj_grant["refreshToken"]),
        )


# The rows of a section's table; a subscription's is led by the owner (store, shop...) of its group.
ROWS = """
return Array.from(document.querySelectorAll(`section[data-platform="${arguments[0]}"] tbody tr:not(.owner)`))
  .map(tr => {
    const cells = Array.from(tr.cells).map(td => td.innerText), owner = tr.closest("tbody").dataset.owner;
    return owner === undefined ? cells : [owner, ...cells];
  });
"""


def rows(browser: Chromium, platform: str) -> list[list[str]]:
    found: list[list[str]] = browser.run(ROWS, platform)
    return found


# -- the page in Chromium --------------------------------------------------------------------------


def test_dashboard_shows_every_platforms_subscriptions_and_requests(
    sandbox: SandboxProcess, browser: Chromium
) -> None:
    created = create_subscriptions(sandbox.url)
    sandbox.fault("shoplazza", "status", status=503, count=1)
    failed = httpx.get(
        f"{sandbox.url}/shoplazza/{SHOPLAZZA_SHOP}/openapi/2022-01/webhooks", headers={"Access-Token": "t"}
    )
    assert failed.status_code == 503

    browser.open(f"{sandbox.url}/_sandbox/")
    assert browser.run("return document.title") == "pulumi-webhooks sandbox"  # injected scripts never ran

    # One row per subscription: owner, id, topics, address, details, created, updated.
    [shopline] = rows(browser, "shopline")
    assert shopline[:5] == [
        SHOPLINE_STORE,
        created.shopline_id,
        "orders/create",
        SHOPLINE_ADDRESS,
        "API v20260301",
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", shopline[5]) and shopline[6] == shopline[5]
    [shoplazza] = rows(browser, "shoplazza")
    assert shoplazza[:5] == [
        SHOPLAZZA_SHOP,
        created.shoplazza_id,
        "products/update",
        "https://hooks.example.com/shoplazza",
        "format json",
    ]
    [up42] = rows(browser, "up42")
    assert up42[:5] == [
        UP42_WS,
        created.up42_id,
        "job.status\norder.status",
        "https://hooks.example.com/up42",
        UP42_NAME,
    ]
    assert rows(browser, "cjdropshipping") == [
        ["CJ4440001", "\u2014", "product", "none", "CANCEL", "\u2014", "\u2014"],
        ["CJ4440001", "\u2014", "stock", "none", "CANCEL", "\u2014", "\u2014"],
        ["CJ4440001", "\u2014", "order", "https://hooks.example.com/cj-order", "ENABLE", "\u2014", "\u2014"],
        ["CJ4440001", "\u2014", "logistics", "none", "CANCEL", "\u2014", "\u2014"],
    ]

    # Markup in user data is text: nothing was injected into the page.
    counts = browser.run(
        "return [document.images.length, document.scripts.length, document.querySelectorAll('b').length]"
    )
    assert counts == [0, 1, 0]

    # The requests, newest first: the faulted one on top, with its outcome.
    requests = rows(browser, "requests")
    assert len(requests) == len(sandbox.requests())
    newest = requests[0]
    assert newest[1:5] == ["shoplazza", "GET", f"/shoplazza/{SHOPLAZZA_SHOP}/openapi/2022-01/webhooks", "503"]
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", newest[0]) and newest[6] == "status"
    assert re.fullmatch(r"\d+\.\d ms", newest[5])
    assert [
        "shopline",
        "POST",
        f"/shopline/{SHOPLINE_STORE}/admin/openapi/v20260301/webhooks.json",
        "200",
    ] in [r[1:5] for r in requests]

    # No secret reaches the browser: signing secret, API key, tokens, CJ's openId and token hashes.
    dom: str = browser.run("return document.documentElement.outerHTML")
    open_id = sandbox.state()["cjdropshipping"]["accounts"]["CJ4440001"]["open_id"]
    hashes = [
        *sandbox.state()["cjdropshipping"]["access_tokens"],
        *sandbox.state()["cjdropshipping"]["last_grant"],
    ]
    for secret in [UP42_SECRET, CJ_KEY, created.up42_token, *created.cj_tokens, str(open_id), *hashes]:
        assert secret not in dom

    # The page's own style is applied (the Content-Security-Policy admits it by hash).
    header = browser.run("return getComputedStyle(document.querySelector('header')).backgroundColor")
    assert header == "rgb(36, 41, 47)"


def test_dashboard_screenshot_renders_the_tables(
    sandbox: SandboxProcess, browser: Chromium, tmp_path: Path
) -> None:
    create_subscriptions(sandbox.url)
    browser.open(f"{sandbox.url}/_sandbox/dashboard")
    assert browser.run("return [innerWidth, innerHeight]") == [WIDTH, HEIGHT]
    shot = tmp_path / "dashboard.png"  # kept by pytest for a person to look at
    shot.write_bytes(browser.screenshot())

    image = decode_png(shot.read_bytes())
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    # Not blank: text (dark ink) all over the page, and in every platform's table.
    assert image.dark_pixels(0, 0, WIDTH, HEIGHT) > 5000
    for platform in ("shopline", "shoplazza", "up42", "cjdropshipping"):
        box = browser.run(
            "const r = document.querySelector(`section[data-platform='${arguments[0]}'] table`)"
            ".getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom].map(Math.round)",
            platform,
        )
        left, top, right, bottom = box
        assert 0 <= left < right <= WIDTH and 0 <= top < HEIGHT - 60, (platform, box)  # on screen
        # Its header and first rows of text (ink); an empty region would hold none.
        assert image.dark_pixels(left, top, right, min(bottom, HEIGHT)) > 300, platform
    # The page background is not dark: only text and the title bar are.
    assert image.dark_pixels(0, 60, WIDTH, HEIGHT) < (WIDTH * (HEIGHT - 60)) // 10


def test_dashboard_refreshes_itself(sandbox: SandboxProcess, browser: Chromium) -> None:
    browser.open(f"{sandbox.url}/_sandbox/")
    assert browser.run("return document.querySelector('[data-platform=shopline] .empty').innerText") == (
        "No subscriptions."
    )
    created = create_subscriptions(sandbox.url)
    browser.wait_for(
        "return document.querySelector('[data-platform=shopline] tbody tr:not(.owner) td')?.innerText === arguments[0]",
        created.shopline_id,
    )
    assert browser.run("return document.getElementById('live').className") == "ok"

    sandbox.reset()  # every subscription and the log gone: the page follows
    browser.wait_for("return document.querySelectorAll('tbody tr').length === 0")
    assert "0 subscriptions · 0 requests logged" in browser.text()


def test_dashboard_says_when_the_sandbox_is_gone(browser: Chromium) -> None:
    own, url = start_sandbox_process()
    try:
        browser.open(f"{url}/_sandbox/")
        browser.wait_for("return document.getElementById('live').className === 'ok'")
    finally:
        assert stop_sandbox_process(own) == 0
    browser.wait_for("return document.getElementById('live').className === 'down'")
    assert "sandbox unreachable" in browser.run("return document.getElementById('live').innerText")


# -- the endpoints over HTTP -----------------------------------------------------------------------


def test_dashboard_endpoints(sandbox: SandboxProcess) -> None:
    create_subscriptions(sandbox.url)
    pages = [
        sandbox.admin.get(p)
        for p in ("/_sandbox", "/_sandbox/", "/_sandbox/dashboard", "/_sandbox/dashboard/")
    ]
    for page in pages:
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["cache-control"] == "no-store"
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and re.search(r"script-src 'sha256-[A-Za-z0-9+/]+=*';", csp)
        assert page.text.startswith("<!doctype html>")
        assert UP42_SECRET not in page.text and CJ_KEY not in page.text
    fragment = sandbox.admin.get("/_sandbox/dashboard/fragment")
    assert fragment.status_code == 200 and fragment.headers["content-type"] == "text/html; charset=utf-8"
    assert "<html" not in fragment.text and fragment.text in pages[0].text  # the page embeds the fragment
    assert "&lt;img src=x onerror=&quot;document.title=1&quot;&gt;" in fragment.text
    # Read-only: no other method, no other path.
    assert sandbox.admin.post("/_sandbox/dashboard").status_code == 404
    assert sandbox.admin.get("/_sandbox/dashboard/other").status_code == 404
    # The dashboard's own requests are not platform requests: they never enter the log.
    assert all(not r["path"].startswith("/_sandbox") for r in sandbox.requests())


def test_unknown_or_unexpected_snapshots_are_shown_masked() -> None:
    snapshot = {
        "newplatform": {
            "hooks": [{"id": "h1", "signing_secret": "s-123", "accessToken": "a-1", "openId": 424242424242}]
        },
        "shopline": {"unexpected": True},  # a snapshot the SHOPLINE view does not know
    }
    html = render_fragment(snapshot, [])
    assert "h1" in html and "unexpected" in html
    assert "s-123" not in html and "a-1" not in html and "424242424242" not in html
    assert html.count(MASK) == 3
    assert "No requests yet." in html


def test_only_the_newest_requests_are_listed() -> None:
    log = [
        {
            "time": 1_700_000_000 + i,
            "platform": "shopline",
            "method": "GET",
            "path": f"/shopline/s/{i}",
            "status": 200,
            "duration_ms": 1.0,
            "fault": None,
        }
        for i in range(RECENT_REQUESTS + 50)
    ]
    html = render_fragment({}, log)
    paths = re.findall(r"/shopline/s/(\d+)<", html)
    assert paths == [str(i) for i in reversed(range(50, RECENT_REQUESTS + 50))]
    assert (
        f"{RECENT_REQUESTS + 50} requests logged" in html
        and f"the last {RECENT_REQUESTS}, newest first" in html
    )


# -- PNG, decoded with the standard library ----------------------------------------------------------


@dataclass
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]

    def dark_pixels(self, left: int, top: int, right: int, bottom: int) -> int:
        """Pixels in the box darker than mid-grey (text, borders of high contrast)."""
        count = 0
        c = self.channels
        for row in self.rows[top:bottom]:
            for x in range(left, right):
                r, g, b = row[x * c], row[x * c + 1], row[x * c + 2]
                count += r + g + b < 3 * 128
        return count


def decode_png(data: bytes) -> Image:
    """An 8-bit RGB or RGBA PNG (what Chromium writes) as rows of unfiltered pixel bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, channels)
        rows.append(row)
        previous = row
    return Image(width, height, channels, rows)


def _unfilter(kind: int, row: bytearray, up: bytes, bpp: int) -> bytes:
    if kind == 0:
        return bytes(row)
    if kind == 2:
        return bytes((a + b) & 0xFF for a, b in zip(row, up, strict=True))
    predict: Callable[[int, int, int], int] = {
        1: lambda left, above, corner: left,
        3: lambda left, above, corner: (left + above) // 2,
        4: _paeth,
    }[kind]
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        corner = up[i - bpp] if i >= bpp else 0
        row[i] = (row[i] + predict(left, up[i], corner)) & 0xFF
    return bytes(row)


def _paeth(left: int, above: int, corner: int) -> int:
    p = left + above - corner
    pa, pb, pc = abs(p - left), abs(p - above), abs(p - corner)
    if pa <= pb and pa <= pc:
        return left
    return above if pb <= pc else corner


# -- without a browser: the tests fail and say why, never skip ----------------------------------------------
def test_without_chromium_the_browser_tests_fail_saying_why(tmp_path: Path) -> None:
    test = f"{Path(__file__).resolve()}::test_dashboard_refreshes_itself"
    env = {**os.environ, "CHROMIUM": str(tmp_path / "no-chromium"), "CI": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", test],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout  # a failure (an error in the fixture), not a pass or a skip
    assert "1 error" in done.stdout and "skipped" not in done.stdout, done.stdout
    assert f"{tmp_path / 'no-chromium'} " in done.stdout
    assert "not found: `make test` installs Debian's chromium and chromium-driver" in done.stdout


def test_the_reason_quotes_what_apt_get_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / ".browser-install.log"
    log.write_text("Reading package lists...\nE: Unable to locate package chromium-driver\n")
    monkeypatch.setattr(sys.modules[__name__], "INSTALL_LOG", log)
    why = missing_browser(["/usr/bin/chromedriver"])
    assert why.startswith("/usr/bin/chromedriver not found")
    assert why.endswith(
        "apt-get said: Reading package lists... / E: Unable to locate package chromium-driver"
    )
