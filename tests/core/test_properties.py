"""Hostile inputs: property-based tests of every provider's check and diff (hypothesis).

Arbitrary values never make check or diff raise; every failure names an input field; identical inputs
never diff; set-like lists diff order-insensitively.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_webhooks._core.http import _flatten_message
from pulumi_webhooks._core.provider import UNKNOWN, InputField, WebhookProvider
from pulumi_webhooks._core.redact import ELLIPSIS, visible
from pulumi_webhooks._core.urls import _REFUSED_CATEGORIES, _refused_character
from pulumi_webhooks.cjdropshipping.provider import CjWebhookSettingsProvider
from pulumi_webhooks.shoplazza.provider import ShoplazzaWebhookProvider
from pulumi_webhooks.shopline.provider import ShoplineWebhookProvider
from pulumi_webhooks.up42.provider import Up42WebhookProvider

PROVIDERS: list[type[WebhookProvider[Any, Any]]] = [
    ShoplineWebhookProvider,
    ShoplazzaWebhookProvider,
    Up42WebhookProvider,
    CjWebhookSettingsProvider,
]


class SetProbe(WebhookProvider[Any, Any]):
    """The smallest provider with a set-like input, so the base diff's list rule is always exercised."""

    platform = "PROBE"
    fields = (InputField("name", required=True, replaces=True), InputField("events", list, as_set=True))


SET_PROVIDERS = [p for p in PROVIDERS if any(f.as_set for f in p.fields)] + [SetProbe]

CREDENTIALS = {
    "SHOPLINE_ACCESS_TOKEN": "prop-test-token",
    "SHOPLAZZA_ACCESS_TOKEN": "prop-test-token",
    "UP42_ACCESS_TOKEN": "prop-test-token",
    "CJ_API_KEY": "CJ1@api@prop-test-key",
    # UP42's check reads the public event catalog: point it at a closed loopback port, so it falls
    # back to the built-in list without sending anything off this machine.
    "UP42_BASE_URL": "http://127.0.0.1:9",
}

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=300),
    st.sampled_from(
        [
            UNKNOWN,
            "",
            "https://hooks.example.com/x",
            "http://localhost/",
            "https://[::1]/",
            "https://169.254.169.254/",
            "orders/create",
            "v20260301",
            "open001",
            "\x00",
            "https://" + "a" * 300 + ".com/",
        ]
    ),
)
value = st.one_of(
    scalar, st.lists(scalar, max_size=4), st.dictionaries(st.text(max_size=5), scalar, max_size=3)
)


def inputs_for(provider: type[WebhookProvider[Any, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    names = [f.name for f in provider.fields] + ["unexpected_field"]
    return st.dictionaries(st.sampled_from(names), value, max_size=len(names))


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, secret in CREDENTIALS.items():
        monkeypatch.setenv(name, secret)


@pytest.mark.parametrize("provider_type", PROVIDERS, ids=lambda p: p.platform)
def test_check_never_raises_and_failures_name_a_field(provider_type: type[WebhookProvider[Any, Any]]) -> None:
    provider = provider_type()
    names = {f.name for f in provider.fields} | {"unexpected_field"}

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(olds=inputs_for(provider_type), news=inputs_for(provider_type))
    def run(olds: dict[str, Any], news: dict[str, Any]) -> None:
        result = provider.check(olds, news)
        for failure in result.failures:
            assert failure.property in names, (failure.property, failure.reason)
            assert failure.reason

    run()


@pytest.mark.parametrize("provider_type", PROVIDERS, ids=lambda p: p.platform)
def test_diff_never_raises_and_identical_inputs_never_change(
    provider_type: type[WebhookProvider[Any, Any]],
) -> None:
    provider = provider_type()

    @settings(max_examples=300, deadline=None)
    @given(olds=inputs_for(provider_type), news=inputs_for(provider_type))
    def run(olds: dict[str, Any], news: dict[str, Any]) -> None:
        provider.diff("id", olds, news)
        same = provider.diff("id", news, dict(news))
        if not any(v == UNKNOWN or (isinstance(v, list) and UNKNOWN in v) for v in news.values()):
            assert same.changes is False, news
            assert same.replaces == []

    run()


@pytest.mark.parametrize("provider_type", SET_PROVIDERS, ids=lambda p: p.platform)
def test_set_like_lists_diff_order_insensitively(provider_type: type[WebhookProvider[Any, Any]]) -> None:
    set_fields = [f.name for f in provider_type.fields if f.as_set]
    provider = provider_type()

    @settings(max_examples=200, deadline=None)
    @given(items=st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=6), data=st.data())
    def run(items: list[str], data: st.DataObject) -> None:
        shuffled = data.draw(st.permutations(items))
        for name in set_fields:
            diff = provider.diff("id", {name: items}, {name: list(shuffled) + items[:1]})
            assert name not in (diff.replaces or [])
            assert diff.changes is False

    run()


# -- text a platform or a server chose -----------------------------------------------------------------
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200)  # surrogates too


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT)
def test_visible_text_prints_and_keeps_what_prints(text: str) -> None:
    # discover's table: nothing a store sends may drive the terminal (escapes, CR, bidi, surrogates).
    shown = visible(text)
    assert shown.isprintable()
    assert all(c in shown for c in text if c.isprintable())
    shown.encode("utf-8")  # writable to any terminal or file


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(body=JSON, depth=st.integers(0, 3000))
def test_an_error_body_of_any_shape_and_depth_flattens_to_a_short_line(body: Any, depth: int) -> None:
    # An error answer's message, however deep (recursion once raised past ~1000 levels).
    nested: Any = body
    for _ in range(depth):
        nested = {"errors": [nested]}
    message = _flatten_message(nested)
    assert message is None or len(message) <= 300 + len(ELLIPSIS)


def _first_refused(url: str) -> int | None:
    """Where the first refused character is, by the rule's definition: its Unicode category."""
    refused = (unicodedata.category(c) in _REFUSED_CATEGORIES or c == "\\" for c in url)
    return next((position for position, hit in enumerate(refused, 1) if hit), None)


def test_the_refused_character_shortcut_agrees_on_every_ascii_character() -> None:
    """`_refused_character` skips the per-character scan for ASCII text the shortcut finds clean: every
    ASCII character, anywhere, is found exactly when its category is refused."""
    for code in range(128):
        for url in (chr(code), f"https://hooks.example.com/{chr(code)}/x"):
            found = _refused_character(url)
            assert (found[0] if found else None) == _first_refused(url), (code, url)


@settings(max_examples=500, deadline=None)
@given(
    url=st.one_of(ANY_TEXT, st.text(st.characters(max_codepoint=127)), st.from_regex(r"https://[ -~]{0,40}"))
)
def test_the_refused_character_rule_agrees_with_its_per_character_definition(url: str) -> None:
    found = _refused_character(url)
    assert (found[0] if found else None) == _first_refused(url)
