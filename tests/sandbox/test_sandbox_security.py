"""The sandbox is a local server (issue 12 items 16-18): it refuses foreign Host and Origin headers and
non-JSON control writes, matches fault paths in linear time, stops on SIGTERM even while a request
hangs, and answers a bad Content-Length with 400. Against the real sandbox subprocess."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import SandboxProcess, start_sandbox_process, stop_sandbox_process
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pulumi_webhooks.sandbox._core import MAX_FAULT_PATH, MAX_PATH_PATTERN, compile_path_pattern

HOOKS = "/shopline/sec/admin/openapi/v20260301/webhooks.json"
AUTH = {"Authorization": "Bearer sec-token"}
HOOK = {
    "webhook": {
        "topic": "orders/create",
        "address": "https://hooks.example.com/a",
        "api_version": "v20260301",
    }
}


def port_of(sandbox: SandboxProcess) -> int:
    port = urlsplit(sandbox.url).port
    assert port is not None
    return port


def raw(url: str, request: bytes) -> bytes:
    """Send bytes as they are (no client fixes them up) and read until the server closes."""
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def subscriptions(sandbox: SandboxProcess) -> int:
    return len(sandbox.state()["shopline"]["stores"].get("sec", []))


@pytest.fixture
def seeded(sandbox: SandboxProcess) -> SandboxProcess:
    sandbox.admin.post(HOOKS, json=HOOK, headers=AUTH).raise_for_status()
    assert subscriptions(sandbox) == 1
    return sandbox


# -- item 16: Host, Origin, Content-Type -----------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1:1",
        "localhost:{port}0",
        "sub.localhost:{port}",
        "127.0.0.1:{port}@evil.example",
        "10.0.0.1:{port}",
        "127.0.0.1:{port}, evil.example",
        "",
    ],
)
def test_a_foreign_host_reads_no_state_and_no_platform_api(seeded: SandboxProcess, host: str) -> None:
    value = host.format(port=port_of(seeded))
    for path in ("/_sandbox/state", HOOKS, "/_sandbox/"):
        response = seeded.admin.get(path, headers={**AUTH, "Host": value})
        assert response.status_code == 421, (value, path)
        assert "sandbox-secret" not in response.text and "hooks.example.com" not in response.text
    refused = seeded.admin.post("/_sandbox/reset", json={}, headers={"Host": value})
    assert refused.status_code == 421 and subscriptions(seeded) == 1


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}", "127.0.0.2:{port}"]
)
def test_loopback_hosts_with_the_sandboxs_port_are_served(seeded: SandboxProcess, host: str) -> None:
    response = seeded.admin.get("/_sandbox/state", headers={"Host": host.format(port=port_of(seeded))})
    assert response.status_code == 200 and "shopline" in response.json()


def test_a_request_without_host_is_refused(sandbox: SandboxProcess) -> None:
    answer = raw(sandbox.url, b"GET /_sandbox/state HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 421 "), answer[:80]


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "http://evil.example:8787", "file://", "http://127.0.0.1.evil.example"],
)
def test_a_cross_site_origin_is_refused_before_anything_changes(seeded: SandboxProcess, origin: str) -> None:
    headers = {"Origin": origin}
    assert seeded.admin.post("/_sandbox/reset", json={}, headers=headers).status_code == 403
    assert seeded.admin.post("/_sandbox/settings", json={"token": "x"}, headers=headers).status_code == 403
    assert seeded.admin.get("/_sandbox/state", headers=headers).status_code == 403
    assert seeded.admin.post(HOOKS, json=HOOK, headers={**AUTH, **headers}).status_code == 403
    assert subscriptions(seeded) == 1
    assert seeded.admin.get("/_sandbox/settings").json()["token_set"] is False


def test_a_loopback_origin_may_call_the_control_api(seeded: SandboxProcess) -> None:
    for origin in ("http://localhost:3000", f"http://127.0.0.1:{port_of(seeded)}", "http://[::1]:5173"):
        assert seeded.admin.get("/_sandbox/state", headers={"Origin": origin}).status_code == 200
    assert (
        seeded.admin.post("/_sandbox/reset", json={}, headers={"Origin": "http://localhost:3000"}).status_code
        == 200
    )
    assert subscriptions(seeded) == 0


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("text/plain", 415),
        ("text/plain;charset=UTF-8", 415),
        ("application/x-www-form-urlencoded", 415),
        ("multipart/form-data; boundary=x", 415),
        (None, 400),
    ],
)
def test_a_control_write_that_is_not_declared_json_is_refused(
    seeded: SandboxProcess, content_type: str | None, status: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    for path, body in [
        ("/_sandbox/reset", b"{}"),
        ("/_sandbox/settings", b'{"token": "attacker"}'),
        ("/_sandbox/state", b'{"shopline": {"next_id": 1, "stores": {}}}'),
        ("/_sandbox/faults", b'{"platform": "shopline", "kind": "drop"}'),
        ("/up42/_admin/settings", b'{"token_lifetime": 1}'),
        ("/cjdropshipping/_sandbox/settings", b'{"account_qps": 100}'),
    ]:
        response = seeded.admin.post(path, content=body, headers=headers)
        assert response.status_code == status, (path, response.text)
        assert "application/json" in response.json()["error"]
    assert subscriptions(seeded) == 1
    assert seeded.admin.get("/_sandbox/settings").json()["token_set"] is False
    assert seeded.admin.get("/_sandbox/faults").json() == {"faults": []}


def test_json_control_writes_and_bodiless_ones_still_work(seeded: SandboxProcess) -> None:
    typed = {"Content-Type": "application/merge-patch+json"}
    assert (
        seeded.admin.post("/_sandbox/settings", content=b'{"latency": 0}', headers=typed).status_code == 200
    )
    assert seeded.admin.delete("/_sandbox/requests").status_code == 200
    assert seeded.admin.post("/up42/_admin/revoke-tokens").status_code == 200
    assert seeded.admin.post("/_sandbox/reset").status_code == 200  # no body, no type, no Origin
    assert subscriptions(seeded) == 0


# -- item 18: Content-Length -----------------------------------------------------------------------------------


@pytest.fixture
def own_sandbox(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A sandbox subprocess of this test's own, its stderr in a file."""
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        proc, url = start_sandbox_process(stderr=stderr)
        try:
            yield url, log
        finally:
            if proc.poll() is None:
                stop_sandbox_process(proc)


@pytest.mark.parametrize(
    "length", ["abc", "-1", "+5", "1_0", "\uff15", "0x10", "1e3", " ", "99999999999999999999"]
)
def test_a_bad_content_length_answers_400_without_a_traceback(
    own_sandbox: tuple[str, Path], length: str
) -> None:
    url, log = own_sandbox
    netloc = urlsplit(url).netloc.encode()
    request = b"POST /_sandbox/reset HTTP/1.1\r\nHost: " + netloc + b"\r\nContent-Type: application/json\r\n"
    answer = raw(url, request + b"Content-Length: " + length.encode() + b"\r\n\r\n{}")
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:80]
    assert b"Content-Length must be one decimal number" in answer
    twice = request + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    assert raw(url, twice).startswith(b"HTTP/1.1 400 ")
    assert httpx.get(f"{url}/_sandbox/health").json()["status"] == "ok"  # still serving
    assert "Traceback" not in log.read_text()


# -- item 17: bounded fault patterns, SIGTERM ------------------------------------------------------------------


def test_a_catastrophic_pattern_no_longer_hangs_the_sandbox(tmp_path: Path) -> None:
    with (tmp_path / "stderr.txt").open("w") as stderr:
        proc, url = start_sandbox_process(stderr=stderr)
        try:
            with httpx.Client(base_url=url, timeout=10) as admin:
                spec = {"platform": "shopline", "kind": "status", "status": 500, "path": r"(a+)+$"}
                assert admin.post("/_sandbox/faults", json=spec).status_code == 200
                # Python's `re` needs hours for this path; the sandbox answers at once (10 s is the margin).
                answer = admin.get("/shopline/" + "a" * 40 + "!", headers=AUTH)
                assert answer.status_code == 404
                assert admin.get("/_sandbox/faults").json()["faults"][0]["remaining"] == 1
                assert admin.get("/shopline/" + "a" * 40, headers=AUTH).status_code == 500  # it does match
        finally:
            assert stop_sandbox_process(proc) == 0  # within 10 s


def test_sigterm_stops_the_sandbox_while_a_request_hangs(tmp_path: Path) -> None:
    with (tmp_path / "stderr.txt").open("w") as stderr:
        proc, url = start_sandbox_process(stderr=stderr)
        httpx.post(
            f"{url}/_sandbox/faults", json={"platform": "shopline", "kind": "delay", "delay": 300}
        ).raise_for_status()
        outcome: list[object] = []

        def hang() -> None:
            try:
                outcome.append(httpx.get(f"{url}{HOOKS}", headers=AUTH, timeout=60).status_code)
            except httpx.HTTPError as exc:
                outcome.append(type(exc).__name__)

        waiter = threading.Thread(target=hang, daemon=True)
        waiter.start()
        deadline = time.monotonic() + 10
        while httpx.get(f"{url}/_sandbox/faults").json()["faults"] != [] and time.monotonic() < deadline:
            time.sleep(0.05)  # the fault is taken when the request arrives: it is hanging now
        assert stop_sandbox_process(proc) == 0  # within 10 s, not after the 300 s delay
        waiter.join(timeout=10)
        assert outcome and outcome[0] != 200


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(?=a)", "invalid perl operator: (?="),
        (r"(?<=a)b", "invalid perl operator: (?<="),
        (r"(a)\1", "invalid escape sequence: \\1"),
        ("a**", "bad repetition operator"),
        ("(", "missing )"),
        ("[a", "missing ]"),
        ("a{1001}", "invalid repetition size"),
        ("((a{100}){100}){100}", "invalid repetition size"),  # RE2 bounds nested repeats too
        (r"\p{L}{1000}", "pattern too large"),  # and the compiled program's memory
        ("a" * (MAX_PATH_PATTERN + 1), "longer than 200 characters"),
    ],
)
def test_patterns_re2_cannot_compile_are_refused(sandbox: SandboxProcess, pattern: str, why: str) -> None:
    response = sandbox.admin.post(
        "/_sandbox/faults", json={"platform": "shopline", "kind": "drop", "path": pattern}
    )
    assert response.status_code == 400, response.text
    assert "invalid path pattern" in response.json()["error"] and why in response.json()["error"]
    assert sandbox.admin.get("/_sandbox/faults").json()["faults"] == []


def test_re2_syntax_is_accepted_and_long_paths_match_no_fault(sandbox: SandboxProcess) -> None:
    spec = {"platform": "shopline", "kind": "status", "status": 500, "count": 2}
    for pattern in (r"(?i)^/A+$", r"(?P<run>a)+$"):
        assert sandbox.admin.post("/_sandbox/faults", json={**spec, "path": pattern}).status_code == 200
    assert sandbox.admin.get("/shopline/" + "a" * MAX_FAULT_PATH, headers=AUTH).status_code == 404
    assert [fault["remaining"] for fault in sandbox.admin.get("/_sandbox/faults").json()["faults"]] == [2, 2]
    assert sandbox.admin.get("/shopline/" + "a" * (MAX_FAULT_PATH - 1), headers=AUTH).status_code == 500


def test_the_patterns_the_repository_uses_keep_their_meaning() -> None:
    uses = [
        r"/token$",
        r"/webhooks$",
        r"webhooks\.json$",
        r"^/other/",
        "webhook/set",
        "setting/get",
        r"/webhooks/events$",
        r"/sec/admin/openapi/v1/\d+/webhooks\.json$",
        r"/webhooks/[^/]+$",
        "/[^/]+$",
    ]
    paths = [
        "/auth/token",
        "/token/x",
        "/webhooks",
        "/a/webhooks.json",
        "/other/1",
        "/x/other/",
        "/webhook/set",
        "/api2.0/v1/setting/get",
        "/webhooks/events",
        "/sec/admin/openapi/v1/12/webhooks.json",
        "/webhooks/ab/c",
        "",
    ]
    for pattern in uses:
        for path in paths:
            assert (compile_path_pattern(pattern).search(path) is not None) == bool(
                re.search(pattern, path)
            ), (
                pattern,
                path,
            )


@st.composite
def patterns(draw: st.DrawFn, depth: int = 0) -> str:
    atoms = ["a", "b", "/", ".", r"\.", "[ab]", "[^a]", r"\d", r"\w", "[a-c1]", "1", "(?:a|1)", "(?i:A)"]
    if depth < 2:
        atoms.append("(" + "|".join(draw(st.lists(patterns(depth + 1), min_size=1, max_size=3))) + ")")
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        atom = draw(st.sampled_from(atoms))
        # `{,2}` is left out: Python's `re` reads it as `{0,2}`, RE2 as the literal text "{,2}".
        parts.append(
            atom + draw(st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}", "{0,2}", "*?", "+?"]))
        )
    return draw(st.sampled_from(["", "^"])) + "".join(parts) + draw(st.sampled_from(["", "$"]))


@settings(max_examples=300, deadline=None)
@given(pattern=patterns(), path=st.text(alphabet="ab/1.c", max_size=12))
def test_fault_patterns_answer_as_re_search(pattern: str, path: str) -> None:
    # Nested groups can draw a pattern over the sandbox's length cap, which is refused (tested above).
    assume(len(pattern) <= MAX_PATH_PATTERN)
    assert (compile_path_pattern(pattern).search(path) is not None) == bool(re.search(pattern, path))
