"""The sandbox counts client connections, so that benchmarks can see keep-alive reuse."""

from __future__ import annotations

import httpx
from conftest import SandboxProcess

PATH = "/shopline/conn/admin/openapi/v20260301/webhooks.json"


def test_connections_are_counted_once_each_by_their_first_request(sandbox: SandboxProcess) -> None:
    headers = {"Authorization": "Bearer conn-token"}
    with httpx.Client(base_url=sandbox.url, headers=headers) as one:
        for _ in range(3):  # one kept-alive connection
            one.get(PATH).raise_for_status()
        with httpx.Client(base_url=sandbox.url, headers=headers) as other:
            other.get(PATH).raise_for_status()
        # A connection that starts with an admin request is not a platform's.
        with httpx.Client(base_url=sandbox.url) as admin:
            admin.get("/_sandbox/health").raise_for_status()
            admin.get(PATH, headers=headers).raise_for_status()
        stats = sandbox.stats()["platforms"]
    assert stats["shopline"]["connections"] == 2
    assert stats["shopline"]["requests"] == 5
    assert all(s["connections"] == 0 for name, s in stats.items() if name != "shopline")
