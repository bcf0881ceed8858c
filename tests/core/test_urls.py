"""Callback-URL and API-base-URL rules (pure functions: no server needed)."""

from __future__ import annotations

import pytest

from pulumi_webhooks._core.urls import api_base_url_problem, callback_url_problem, is_loopback_host

REJECTED = [
    ("http://hooks.example.com/x", "https://"),
    ("ftp://hooks.example.com/x", "https://"),
    ("hooks.example.com/x", "https://"),
    ("https://localhost/x", "public host"),
    ("https://localhost./x", "public host"),
    ("https://api.localhost/x", "public host"),
    ("https://printer.local/x", "public host"),
    ("https://127.0.0.1/x", "public host"),
    ("https://127.1/x", "public host"),
    ("https://2130706433/x", "public host"),
    ("https://0x7f000001/x", "public host"),
    ("https://0.0.0.0/x", "public host"),
    ("https://[::1]/x", "public host"),
    ("https://[::ffff:127.0.0.1]/x", "public host"),
    ("https://[fd12:3456::1]/x", "public host"),
    ("https://[fe80::1]/x", "public host"),
    ("https://10.0.0.8/x", "public host"),
    ("https://172.16.4.4/x", "public host"),
    ("https://192.168.1.1/x", "public host"),
    ("https://169.254.169.254/latest/meta-data", "public host"),
    ("https://100.64.0.1/x", "public host"),
    ("https://240.0.0.1/x", "public host"),
    ("https://224.0.0.1/x", "public host"),
    ("https://user@localhost/x", "user info"),
    ("https://user:pw@hooks.example.com/x", "user info"),
    ("https://intranet/x", "domain"),
    ("https://hooks.example.com/x#frag", "fragment"),
    ("https://hooks.example.com/a b", "spaces"),
    (" https://hooks.example.com/x", "spaces"),
    ("https://hooks.example.com:99999/x", "valid URL"),
    ("https://bad_host!.com/x", "host name"),
    ("", "empty"),
]


@pytest.mark.parametrize(("url", "expected"), REJECTED)
def test_rejected_callback_urls_name_the_reason(url: str, expected: str) -> None:
    reason = callback_url_problem(url)
    assert reason is not None, url
    assert expected in reason


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/shopline",
        "https://hooks.example.com:8443/a?b=c",
        "https://8.8.8.8/hook",
        "https://[2001:4860:4860::8888]/hook",
        "https://xn--bcher-kva.example/hook",
        "https://hooks.example.com./trailing-dot",
    ],
)
def test_public_https_urls_pass(url: str) -> None:
    assert callback_url_problem(url) is None


def test_length_limit_counts_characters() -> None:
    base = "https://hooks.example.com/"
    assert callback_url_problem(base + "a" * (255 - len(base)), max_length=255) is None
    reason = callback_url_problem(base + "a" * (256 - len(base)), max_length=255)
    assert reason is not None and "255" in reason


def test_api_base_urls_allow_http_only_on_loopback() -> None:
    assert api_base_url_problem("http://127.0.0.1:8787/shopline/{handle}") is None
    assert api_base_url_problem("http://localhost:1/x") is None
    assert api_base_url_problem("http://[::1]:1/x") is None
    assert api_base_url_problem("https://{handle}.myshopline.com") is None
    assert api_base_url_problem("http://{handle}.myshopline.com") is not None
    assert api_base_url_problem("http://10.0.0.1/x") is not None
    assert is_loopback_host("127.0.0.2") and not is_loopback_host("example.com")
