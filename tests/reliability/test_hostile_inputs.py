"""Hostile callback URLs, generated (hypothesis): every address a platform could be tricked into calling
on the user's own network is rejected, by the URL rule and by every provider's check, naming the field.

The arbitrary-value properties of check and diff (never raise, failures name a field, identical inputs
never diff, set-like lists order-insensitive) are in tests/core/test_properties.py, for all four
providers; the fixed list of known tricks is in tests/core/test_urls.py.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_webhooks._core.provider import WebhookProvider
from pulumi_webhooks._core.urls import callback_url_problem
from pulumi_webhooks.cjdropshipping.provider import CjWebhookSettingsProvider
from pulumi_webhooks.shoplazza.provider import ShoplazzaWebhookProvider
from pulumi_webhooks.shopline.provider import ShoplineWebhookProvider
from pulumi_webhooks.up42.provider import Up42WebhookProvider

# Ranges no platform can (or may) deliver to: loopback, private, link-local (cloud metadata at
# 169.254.169.254), carrier-grade NAT, "this network", multicast, reserved; IPv6 loopback, unique local,
# link-local, and IPv4-mapped/6to4 forms of private IPv4.
NOT_PUBLIC_V4 = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
]
NOT_PUBLIC_V6 = ["::1/128", "fc00::/7", "fe80::/10", "ff00::/8"]

v4 = st.one_of(*(st.ip_addresses(v=4, network=n) for n in NOT_PUBLIC_V4))
v6 = st.one_of(*(st.ip_addresses(v=6, network=n) for n in NOT_PUBLIC_V6))


def v4_spellings(address: ipaddress.IPv4Address) -> st.SearchStrategy[str]:
    """The forms resolvers accept for one IPv4 address: dotted, one integer, hex, mapped into IPv6."""
    number = int(address)
    return st.sampled_from(
        [
            str(address),
            str(number),
            hex(number),
            f"[::ffff:{address}]",
            f"[2002:{number >> 16:x}:{number & 0xFFFF:x}::]",
        ]
    )


hosts = st.one_of(
    v4.flatmap(v4_spellings),
    v6.map(lambda a: f"[{a}]"),
    st.sampled_from(
        ["localhost", "localhost.", "LOCALHOST", "api.localhost", "printer.local", "db.internal"]
    ),
)
paths = st.sampled_from(["/", "/hook", "/a?b=c", ":8443/x"])
not_public = st.builds(lambda h, p: f"https://{h}{p}", hosts, paths)
userinfo = st.builds(
    lambda user, host: f"https://{user}@{host}/x",
    st.sampled_from(["user", "u:p", "a%40b"]),
    st.sampled_from(["localhost", "hooks.example.com"]),
)
wrong_scheme = st.builds(
    lambda scheme, rest: f"{scheme}{rest}",
    st.sampled_from(
        ["http://", "HTTP://", "ftp://", "ws://", "wss://", "file://", "javascript:", "gopher://", "//", ""]
    ),
    st.sampled_from(["hooks.example.com/x", "8.8.8.8/x"]),
)
hostile = st.one_of(not_public, userinfo, wrong_scheme)

VALID: dict[type[WebhookProvider[Any, Any]], tuple[str, dict[str, Any]]] = {
    ShoplineWebhookProvider: (
        "address",
        {"handle": "open001", "topic": "orders/create", "api_version": "v20260301"},
    ),
    ShoplazzaWebhookProvider: ("address", {"shop": "shop1", "topic": "orders/create"}),
    Up42WebhookProvider: (
        "url",
        {"workspace_id": "0cb1eaa0-89a3-11ec-a8a3-0242ac120002", "events": ["job.status"], "name": "n"},
    ),
    CjWebhookSettingsProvider: ("product_url", {}),
}


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHOPLINE_ACCESS_TOKEN", "SHOPLAZZA_ACCESS_TOKEN", "UP42_ACCESS_TOKEN", "CJ_API_KEY"):
        monkeypatch.setenv(name, "hostile-inputs-credential")
    monkeypatch.setenv("UP42_BASE_URL", "http://127.0.0.1:9")  # the event catalog: a closed loopback port


@settings(max_examples=400, deadline=None)
@given(url=hostile)
def test_hostile_callback_urls_are_rejected(url: str) -> None:
    assert callback_url_problem(url) is not None, url


@pytest.mark.parametrize("provider_type", list(VALID), ids=lambda p: p.platform)
def test_every_provider_rejects_them_naming_the_field(provider_type: type[WebhookProvider[Any, Any]]) -> None:
    field, inputs = VALID[provider_type]
    provider = provider_type()
    assert provider.check({}, {**inputs, field: "https://hooks.example.com/x"}).failures == []

    @settings(max_examples=100, deadline=None)
    @given(url=hostile)
    def run(url: str) -> None:
        failures = provider.check({}, {**inputs, field: url}).failures
        assert [f.property for f in failures] == [field], (url, failures)

    run()
