"""Hostile callback URLs, generated (hypothesis): every address a platform could be tricked into calling
on the user's own network is rejected, by the URL rule and by every provider's check, naming the field.

The arbitrary-value properties of check and diff (never raise, failures name a field, identical inputs
never diff, set-like lists order-insensitive) are in tests/core/test_properties.py, for all four
providers; the fixed list of known tricks is in tests/core/test_urls.py.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import pytest
from conftest import EngineFactory
from hostile import hostile_urls
from hypothesis import given, settings
from hypothesis import strategies as st

import pulumi_webhooks.cjdropshipping as cj
import pulumi_webhooks.shoplazza as shoplazza
import pulumi_webhooks.shopline as shopline
import pulumi_webhooks.up42 as up42
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


# -- through the real provider host: the hostile-URL corpus, CR/LF in inputs, huge echoed values --------
HOST_ENV = {
    "SHOPLINE_ACCESS_TOKEN": "hostile-inputs-credential",
    "SHOPLAZZA_ACCESS_TOKEN": "hostile-inputs-credential",
    "UP42_ACCESS_TOKEN": "hostile-inputs-credential",
    "CJ_API_KEY": "CJ1@api@hostile-inputs-credential",
    "UP42_BASE_URL": "http://127.0.0.1:9",  # the event catalog: a closed loopback port
}
WORKSPACE = "0cb1eaa0-89a3-11ec-a8a3-0242ac120002"


def declare(platform: str, resource_name: str, /, **inputs: Any) -> None:
    """One resource of ``platform`` with valid inputs, ``inputs`` replacing some of them."""
    if platform == "shopline":
        base: dict[str, Any] = {"handle": "open001", "topic": "orders/create", "api_version": "v20260301"}
        shopline.Webhook(resource_name, **{"address": "https://hooks.example.com/x", **base, **inputs})
    elif platform == "shoplazza":
        base = {"shop": "shop1", "topic": "orders/create", "address": "https://hooks.example.com/x"}
        shoplazza.Webhook(resource_name, **{**base, **inputs})
    elif platform == "up42":
        base = {"workspace_id": WORKSPACE, "events": ["job.status"], "url": "https://hooks.example.com/x"}
        up42.Webhook(resource_name, **{**base, **inputs})
    else:
        cj.WebhookSettings(resource_name, **{"product_url": "https://hooks.example.com/x", **inputs})


URL_FIELDS = {"shopline": "address", "shoplazza": "address", "up42": "url", "cjdropshipping": "product_url"}


def test_the_hostile_url_corpus_fails_every_providers_check_in_the_host(make_engine: EngineFactory) -> None:
    urls = hostile_urls()
    engine = make_engine(env=HOST_ENV)
    counts = {}
    for platform, field in URL_FIELDS.items():

        def program(platform: str = platform, field: str = field) -> None:
            for index, url in enumerate(urls):
                declare(platform, f"h{index}", **{field: url})

        result = engine.preview(program)
        assert len(result.steps) == len(urls)
        rejected = {s.name for s in result.steps if [p for p, _ in s.failures] == [field]}
        counts[platform] = len(rejected)
        passed = [repr(urls[i]) for i in range(len(urls)) if f"h{i}" not in rejected]
        print(f"{platform}: {len(rejected)} of {len(urls)} hostile URLs rejected")
        assert passed == [], f"{platform} let through: {passed}"
        for step in result.steps:  # the reason quotes at most a short excerpt of the URL
            assert all(len(reason) < 300 for _, reason in step.failures), step.failures
    assert set(counts.values()) == {len(urls)}


LINE_BREAKS = ["\n", "\r", "\r\n", "\x85", "\u2028", "\x00", "\x1b"]
TEXT_INPUTS = {
    "shopline": ["handle", "topic", "api_version"],
    "shoplazza": ["shop", "topic"],
    "up42": ["name", "workspace_id"],
}


@pytest.mark.parametrize("platform", list(TEXT_INPUTS))
def test_text_inputs_with_line_breaks_fail_check_naming_the_field(
    make_engine: EngineFactory, platform: str
) -> None:
    engine = make_engine(env=HOST_ENV)
    cases = [(field, brk) for field in TEXT_INPUTS[platform] for brk in LINE_BREAKS]
    valid = {"handle": "open001", "topic": "orders/create", "api_version": "v20260301", "shop": "shop1"}
    valid |= {"name": "jobs", "workspace_id": WORKSPACE}

    def program() -> None:
        for index, (field, brk) in enumerate(cases):
            # The value is a valid one with the break at its end: only the break can fail it.
            declare(platform, f"c{index}", **{field: valid[field] + brk})

    result = engine.preview(program)
    by_name = {s.name: s for s in result.steps}
    for index, (field, brk) in enumerate(cases):
        failures = by_name[f"c{index}"].failures
        assert [p for p, _ in failures] == [field], (field, repr(brk), failures)
        assert "line breaks or control characters" in failures[0][1], failures


HUGE = 1024 * 1024


@pytest.mark.parametrize(
    ("platform", "field"),
    [
        ("shopline", "topic"),
        ("shopline", "handle"),
        ("shoplazza", "topic"),
        ("up42", "workspace_id"),
        ("up42", "events"),
        ("shopline", "address"),
    ],
)
def test_a_megabyte_input_is_echoed_as_a_short_excerpt(
    make_engine: EngineFactory, platform: str, field: str
) -> None:
    engine = make_engine(env=HOST_ENV)
    value: Any = "orders/" + "x" * HUGE
    if field == "events":
        value = ["job." + "y" * HUGE]
    started = time.monotonic()
    result = engine.preview(lambda: declare(platform, "big", **{field: value}))
    elapsed = time.monotonic() - started
    (step,) = result.steps
    assert [p for p, _ in step.failures] == [field], step.failures
    reason = step.failures[0][1]
    assert len(reason) < 400, len(reason)
    print(f"{platform} {field}: a 1 MiB value gave a {len(reason)}-character reason in {elapsed:.2f} s")
