"""Callback-URL and API-base-URL rules (pure functions: no server needed)."""

from __future__ import annotations

import pytest
from hostile import hostile_urls
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- hostile callback URLs: the corpus, and generated variants (IDNA, IPv6 embeddings, invisibles) ----
def test_every_url_of_the_hostile_corpus_is_rejected() -> None:
    urls = hostile_urls()
    passed = [url for url in urls if callback_url_problem(url) is None]
    print(f"{len(urls) - len(passed)} of {len(urls)} hostile URLs rejected")
    assert len(urls) > 150 and passed == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/x", "(localhost) is local"),
        ("https://api.\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/x", "(api.localhost) is local"),
        ("https://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/x", "127.0.0.1 is a loopback"),
        ("https://xn--ls8h.example.com/x", "not valid IDNA 2008"),
        ("https://[::127.0.0.1]/x", "which embeds 127.0.0.1"),
        ("https://[::ffff:0:169.254.169.254]/x", "which embeds 169.254.169.254"),
        ("https://[64:ff9b::169.254.169.254]/x", "which embeds 169.254.169.254"),
        ("https://[2002:a9fe:a9fe::1]/x", "which embeds 169.254.169.254"),
        ("https://hooks.example.com/\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("https://hooks.example.com/\x85", "U+0085"),
        ("https://hooks.example.com/\u2028", "U+2028 LINE SEPARATOR"),
        ("https://hooks.example.com/\xa0", "U+00A0 NO-BREAK SPACE"),
        ("https://hooks.example.com\\@127.0.0.1/", "backslashes"),
        ("https://%6c%6f%63alhost/x", "percent-encoded host"),
        ("https://[fe80::1%25eth0]/x", "zone id"),
        ("https://0x7f.1/x", "127.0.0.1 is a loopback"),
        ("https://0177.0.0.1/x", "127.0.0.1 is a loopback"),
    ],
)
def test_hostile_forms_name_what_they_are(url: str, expected: str) -> None:
    reason = callback_url_problem(url)
    assert reason is not None and expected in reason, (url, reason)


@pytest.mark.parametrize(
    "url",
    [
        "https://b\u00fccher.example/hook",  # an IDN, as written and as its A-label
        "https://xn--bcher-kva.example/hook",
        "https://\uff48\uff4f\uff4f\uff4b\uff53.example.com/x",  # full-width letters of a public name
        "https://HOOKS.Example.COM/x",
        "https://[2001:4860:4860::8888]/hook",
        "https://hooks_1.example.com/x",
        "https://8.8.8.8/x",
        "https://134744072/x",  # 8.8.8.8 as one number: public, so acceptable
    ],
)
def test_normalised_public_hosts_still_pass(url: str) -> None:
    assert callback_url_problem(url) is None, callback_url_problem(url)


NOT_PUBLIC_V4 = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16"]
NOT_PUBLIC_V4 += ["172.16.0.0/12", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4"]
not_public_v4 = st.one_of(*(st.ip_addresses(v=4, network=n) for n in NOT_PUBLIC_V4))
FULL_WIDTH_DOTS = [".", "\u3002", "\uff0e", "\uff61"]


def full_width(draw: st.DrawFn, text: str) -> str:
    """``text`` with each character, at random, as is, upper-case or full-width (U+FF01..U+FF5E), and
    each dot as one of the dots UTS 46 maps to ``.``."""
    out = []
    for char in text:
        if char == ".":
            out.append(draw(st.sampled_from(FULL_WIDTH_DOTS)))
        else:
            out.append(draw(st.sampled_from([char, char.upper(), chr(ord(char) - 0x21 + 0xFF01)])))
    return "".join(out)


@st.composite
def full_width_local_urls(draw: st.DrawFn) -> str:
    host = draw(
        st.one_of(
            st.sampled_from(["localhost", "api.localhost", "printer.local", "db.internal", "nas.home.arpa"]),
            not_public_v4.map(str),
        )
    )
    return f"https://{full_width(draw, host)}/x"


@settings(max_examples=300, deadline=None)
@given(url=full_width_local_urls())
def test_full_width_forms_of_local_hosts_are_rejected(url: str) -> None:
    assert callback_url_problem(url) is not None, url


@st.composite
def embedding_urls(draw: st.DrawFn) -> str:
    """A non-public IPv4 address inside an IPv6 literal, in every embedding a router or resolver reads."""
    v4 = int(draw(not_public_v4))
    hi, lo = v4 >> 16, v4 & 0xFFFF
    teredo_client = v4 ^ 0xFFFFFFFF  # Teredo stores the client address inverted
    form = draw(
        st.sampled_from(
            [
                f"::ffff:{hi:x}:{lo:x}",  # mapped
                f"::ffff:0:{hi:x}:{lo:x}",  # translated
                f"::{hi:x}:{lo:x}",  # compatible
                f"64:ff9b::{hi:x}:{lo:x}",  # NAT64
                f"64:ff9b:1::{hi:x}:{lo:x}",  # local-use NAT64
                f"2002:{hi:x}:{lo:x}::1",  # 6to4
                f"2001:0:808:808:0:0:{teredo_client >> 16:x}:{teredo_client & 0xFFFF:x}",  # Teredo
            ]
        )
    )
    return f"https://[{form}]/x"


@settings(max_examples=300, deadline=None)
@given(url=embedding_urls())
def test_ipv6_literals_embedding_a_non_public_ipv4_are_rejected(url: str) -> None:
    assert callback_url_problem(url) is not None, url


@st.composite
def legacy_ipv4_urls(draw: st.DrawFn) -> str:
    """A non-public IPv4 address in a spelling resolvers accept: one number, hex, octal, 2 or 3 parts."""
    address = draw(not_public_v4)
    number, octets = int(address), [int(o) for o in str(address).split(".")]
    part = st.sampled_from(["{:d}", "0x{:x}", "0{:o}"])
    forms = [
        draw(part).format(number),
        ".".join(draw(part).format(o) for o in octets),
        f"{draw(part).format(octets[0])}.{draw(part).format(number & 0xFFFFFF)}",
        f"{octets[0]}.{octets[1]}.{draw(part).format(number & 0xFFFF)}",
    ]
    return f"https://{draw(st.sampled_from(forms))}/x"


@settings(max_examples=300, deadline=None)
@given(url=legacy_ipv4_urls())
def test_legacy_ipv4_spellings_of_non_public_addresses_are_rejected(url: str) -> None:
    assert callback_url_problem(url) is not None, url


INVISIBLE = "\x00\t\n\r\x1b\x7f\x85\xa0\xad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2028\u2029"
INVISIBLE += "\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\u3000\ufeff "


@settings(max_examples=300, deadline=None)
@given(
    char=st.sampled_from(INVISIBLE),
    at=st.integers(min_value=0, max_value=len("https://hooks.example.com/shopline?a=b")),
)
def test_an_invisible_character_anywhere_is_rejected(char: str, at: int) -> None:
    url = "https://hooks.example.com/shopline?a=b"
    assert callback_url_problem(url) is None
    assert callback_url_problem(url[:at] + char + url[at:]) is not None, repr(url[:at] + char + url[at:])


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=3000))
def test_a_reason_never_quotes_more_than_a_short_excerpt(text: str) -> None:
    for url in (text, f"https://{text}/x", f"https://hooks.example.com/{text}"):
        reason = callback_url_problem(url)
        assert reason is None or len(reason) < 300, (url, reason)


def test_api_base_urls_refuse_a_trailing_newline() -> None:
    assert api_base_url_problem("https://api.example.com\n") is not None
    assert api_base_url_problem("https://api.example.com") is None
