"""UP42's signature scheme, hardened (issue 12 items 1-3): linear parsing, freshness and body only from
signed bytes, and compatibility with UP42's own published check.

`snippet_accepts` restates the check of UP42's validation snippet (public repository up42/up42-webhooks,
snippets/validate_webhook.py, summarised in the vendor reference's "Round 2"): the signature is the part
of `Signature` after the first `=`, compared as text with base64(HMAC-SHA256(secret, the values of the
headers named inside `up42-sig=(...)`, concatenated)); `created=<10-20 digits>` must not be in the future
and be less than 300 s old. Deliveries here are signed by hand with `hmac`, not with `sign_up42`.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import hmac
import itertools
import re
import string
import time
from email.utils import formatdate

import http_sf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_webhooks.errors import SignatureError
from pulumi_webhooks.verify import (
    MAX_HEADER,
    check_delivery,
    check_up42,
    verify_delivery,
    verify_shoplazza,
    verify_shopline,
    verify_up42,
)

SECRET = "QWZTFnMEXhqZKNmu"
NOW = 1_800_000_000
BODY = b'{"event":"job.status","body":{"jobId":"1df1ebb0","status":"SUCCEEDED"}}'
BOUND = 0.010  # seconds of CPU: "any header up to 8 KiB is parsed or rejected in under 10 ms"
REPORTED = 'up42-sig=("date")' + ";a=b      " * 10 + ";"  # the 118-byte header of the report


def snippet_accepts(headers: dict[str, str], secret: str, now: float) -> bool:
    lower = {name.lower(): value for name, value in headers.items()}
    inputs, signature = lower["signature-input"], lower["signature"]
    stamp = re.search(r"created=([0-9]{10,20})", inputs)
    listed = re.search(r"up42-sig=\(([^)]*)\);", inputs)
    if stamp is None or listed is None:
        return False
    created, current = int(stamp[1]), int(now)
    if not (created <= current and current - created < 300):
        return False
    names = re.findall(r'[^"\s]+', listed[1])
    try:
        message = "".join(lower[name] for name in names)
    except KeyError:
        return False
    mac = hmac.digest(secret.encode(), message.encode(), hashlib.sha256)
    return hmac.compare_digest(signature.split("=", 1)[1].encode(), base64.b64encode(mac))


def signed(
    headers: dict[str, str], names: list[str], *, created: int = NOW, secret: str = SECRET
) -> dict[str, str]:
    """A delivery as UP42 sends one: `Signature-Input` listing `names`, `Signature: up42-sig=<base64>`."""
    lower = {name.lower(): value for name, value in headers.items()}
    mac = hmac.digest(secret.encode(), "".join(lower[n] for n in names).encode(), hashlib.sha256)
    listed = " ".join(f'"{n}"' for n in names)
    return {
        **headers,
        "Signature-Input": f"up42-sig=({listed});created={created}",
        "Signature": "up42-sig=" + base64.b64encode(mac).decode(),
    }


def digest_of(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def genuine(moment: int = NOW, body: bytes = BODY) -> dict[str, str]:
    headers = {"Date": formatdate(moment, usegmt=True), "Content-Digest": digest_of(body)}
    return signed(headers, ["content-digest", "date"], created=moment)


def cpu_seconds(call: object, *args: object, **kwargs: object) -> float:
    """CPU time of this thread for one call: what a request holds the interpreter for, whatever else the
    machine runs. The best of 3 with the collector paused: the work is deterministic, while a garbage
    collection of the test process's heap or a preempted core is not the parser's cost."""
    assert callable(call)
    best = float("inf")
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(3):
            started = time.thread_time()
            call(*args, **kwargs)
            best = min(best, time.thread_time() - started)
    finally:
        if was_enabled:
            gc.enable()
    return best


# -- item 1: linear parsing ------------------------------------------------------------------------------


def test_the_reported_header_is_rejected_in_under_10_ms() -> None:
    assert len(REPORTED) == 118
    headers = {**genuine(), "Signature-Input": REPORTED}
    result = check_up42(headers, SECRET, body=BODY, now=NOW)
    assert not result.valid and "Signature-Input is not a structured-field dictionary" in str(result.reason)
    assert cpu_seconds(check_up42, headers, SECRET, body=BODY, now=NOW) < BOUND
    longer = 'up42-sig=("date")' + ";a=b      " * 800 + ";"  # the same shape at 8 KiB
    assert len(longer) <= MAX_HEADER
    assert cpu_seconds(check_up42, {**genuine(), "Signature-Input": longer}, SECRET, now=NOW) < BOUND


DISTINCT_NAMES = [
    "".join(letters)
    for size in (1, 2, 3)
    for letters in itertools.product(string.ascii_lowercase, repeat=size)
][:2200]  # about 2,200 names in 8 KiB
WORST = {  # the costliest shapes measured (about 4 ms with http_sf): an element every 2-4 characters
    "parameters": "up42-sig=1" + ";a" * 4090,
    "inner list": "up42-sig=(" + "a " * 4090 + ")",
    "strings": "up42-sig=(" + '"" ' * 2726 + ")",
    "members": ",".join(["a=1"] * 2048),
    "spaced members": ", ".join(["a=1"] * 1600),
    "bare keys": ",".join(["a"] * 4096),
    "escapes": 'up42-sig=("' + '\\"' * 4085 + '")',
    "byte sequences": "up42-sig=(" + ":: " * 2726 + ")",
    "dates": "up42-sig=(" + "@1 " * 2726 + ")",  # RFC 9651 types parse too
    "item parameters": "up42-sig=(" + "t;a " * 2045 + ")",
    "distinct names": "up42-sig=(" + " ".join(DISTINCT_NAMES) + ")",  # nothing repeats: no early stop
}


@pytest.mark.parametrize("shape", sorted(WORST))
def test_the_costliest_8_kib_shapes_stay_under_10_ms(shape: str) -> None:
    value = WORST[shape]
    assert len(value) <= MAX_HEADER
    for where in ("Signature-Input", "Signature", "Content-Digest"):
        headers = {**genuine(), where: value}
        assert cpu_seconds(check_up42, headers, SECRET, body=BODY, now=NOW) < BOUND, where
        assert not check_up42(headers, SECRET, body=BODY, now=NOW).valid


STRUCTURAL = '()";=,:*?-.\\ \t/+aAz09_%@'
UNITS = [";a=b      ", '("a" ', '"\\', "(", ":", "a=(", ";a", '"', "=:", " ", ",a=", "((", "a=?", "1.", "*"]


@st.composite
def hostile(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.text(alphabet=STRUCTURAL, max_size=MAX_HEADER))
    prefix = draw(
        st.sampled_from(["", 'up42-sig=("date")', "up42-sig=", 'up42-sig=("content-digest" "date")'])
    )
    unit = draw(st.lists(st.sampled_from(UNITS), min_size=1, max_size=4).map("".join))
    tail = draw(st.text(alphabet=STRUCTURAL, max_size=4))
    repeat = max(0, (MAX_HEADER - len(prefix) - len(tail)) // len(unit))
    return prefix + unit * draw(st.integers(0, repeat)) + tail


@settings(max_examples=150, deadline=None)
@given(value=hostile(), where=st.sampled_from(["Signature-Input", "Signature", "Content-Digest", "Date"]))
def test_any_header_up_to_8_kib_is_parsed_or_rejected_in_under_10_ms(value: str, where: str) -> None:
    headers = {**genuine(), where: value}
    elapsed = cpu_seconds(check_up42, headers, SECRET, body=BODY, now=NOW)
    assert elapsed < BOUND, f"{elapsed * 1000:.1f} ms for {len(value)} characters in {where}"
    if where in ("Content-Digest", "Date") and value != genuine()[where]:
        assert not check_up42(headers, SECRET, body=BODY, now=NOW).valid  # a signed value changed


@settings(max_examples=100, deadline=None)
@given(value=hostile())
def test_the_structured_field_parser_fails_cleanly_and_quickly(value: str) -> None:
    for kind in ("dictionary", "list"):
        assert cpu_seconds(_parse_or_fail, value.encode(), kind) < BOUND


def _parse_or_fail(value: bytes, kind: str) -> None:
    with contextlib.suppress(http_sf.StructuredFieldError):
        http_sf.parse(value, tltype=kind)


@pytest.mark.parametrize("where", ["Signature-Input", "Signature", "Content-Digest"])
def test_headers_over_8_kib_are_rejected_unparsed(where: str) -> None:
    headers = {**genuine(), where: "a" * (MAX_HEADER + 1)}
    result = check_up42(headers, SECRET, body=BODY, now=NOW)
    assert not result.valid and f"longer than {MAX_HEADER} characters" in str(result.reason)
    for verify, header in ((verify_shopline, "x"), (verify_shoplazza, "x")):
        with pytest.raises(SignatureError, match="longer than 8192 characters"):
            verify(BODY, "A" * (MAX_HEADER + 1), header, raise_on_failure=True)


def test_the_parser_gives_the_shapes_verify_reads() -> None:
    # verify.py reads http_sf's members as (value, parameters), an inner list's value as a list of them.
    parsed = http_sf.parse(b'a=1, b=?0;x="y\\"z", c=(1 "two" tok);p=:AAE=:, d, e=-1.5', tltype="dictionary")
    assert isinstance(parsed, dict)
    assert parsed["a"] == (1, {})
    assert parsed["b"] == (False, {"x": 'y"z'})
    assert parsed["c"] == ([(1, {}), ("two", {}), (http_sf.Token("tok"), {})], {"p": b"\0\1"})
    assert parsed["d"] == (True, {})
    assert parsed["e"] == (-1.5, {})
    for bad in [
        "a=1,",
        "A=1",
        'a="open',
        'a="\\x"',
        "a=1234567890123456",
        "a=(1",
        "a=:%%:",
        "a=1 b=2",
        "a=\u00e9",
        "a=1.2345",
        'a="tab\t"',
    ]:
        assert "not a structured-field dictionary" in str(
            check_up42({**genuine(), "Signature-Input": bad}, SECRET, body=BODY, now=NOW).reason
        ), bad
    # http_sf's own messages quote the value (a key, a character); the reason gives only a position.
    reason = str(check_up42({**genuine(), "Signature-Input": "confidential-key=1 x"}, SECRET, now=NOW).reason)
    assert reason.endswith("(invalid at character 19)") and "confidential" not in reason


# -- item 3 and compatibility: what UP42's snippet accepts verifies ---------------------------------------------


EXTRA = st.dictionaries(
    st.sampled_from(["x-request-id", "content-type", "user-agent", "x-up42-event"]),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30),
    max_size=4,
)


@settings(max_examples=100, deadline=None)
@given(
    body=st.binary(max_size=200),
    extra=EXTRA,
    with_date=st.booleans(),
    with_digest=st.booleans(),
    age=st.integers(0, 299),
    order=st.randoms(use_true_random=False),
)
def test_every_genuine_delivery_the_snippet_accepts_verifies(
    body: bytes, extra: dict[str, str], with_date: bool, with_digest: bool, age: int, order: object
) -> None:
    sent = NOW - age
    headers = dict(extra)
    if with_date:
        headers["date"] = formatdate(sent, usegmt=True)
    if with_digest:
        headers["content-digest"] = digest_of(body)
    names = sorted(headers)
    if not names:
        return
    order.shuffle(names)  # type: ignore[attr-defined]
    delivery = signed(headers, names, created=sent)
    assert snippet_accepts(delivery, SECRET, NOW)
    result = check_up42(delivery, SECRET, body=body, now=NOW)
    assert (result.valid, result.fresh, result.body_verified) == (True, with_date, with_digest), result.reason
    assert verify_delivery("up42", body, delivery, SECRET, now=NOW)
    strict = check_up42(delivery, SECRET, body=body, now=NOW, strict=True)
    assert strict.valid == (with_date and with_digest)


def test_a_delivery_listing_no_digest_verifies_with_body_verified_false() -> None:
    delivery = signed({"date": formatdate(NOW, usegmt=True), "x-request-id": "r-1"}, ["x-request-id", "date"])
    assert snippet_accepts(delivery, SECRET, NOW)
    result = check_delivery("up42", BODY, delivery, SECRET, now=NOW)
    assert result and (result.fresh, result.body_verified, result.reason) == (True, False, None)
    with pytest.raises(SignatureError, match="strict: no Content-Digest or Digest"):
        verify_delivery("up42", BODY, delivery, SECRET, now=NOW, strict=True, raise_on_failure=True)


# -- item 2: freshness and body only from signed bytes ---------------------------------------------------------


def test_a_renamed_signed_date_with_a_fresh_created_is_not_fresh() -> None:
    hour_ago = NOW - 3600
    old = genuine(hour_ago)
    assert not verify_up42(old, SECRET, body=BODY, now=NOW)  # replayed as is: too old
    # The attack: the signed Date moves to another name and `created` is refreshed. UP42's HMAC covers
    # neither the names nor `created`, so the signature still holds (UP42's own check accepts it).
    renamed = {k: v for k, v in old.items() if k != "Date"} | {"X-Old-Date": old["Date"]}
    renamed["Signature-Input"] = f'up42-sig=("content-digest" "x-old-date");created={NOW}'
    assert snippet_accepts(renamed, SECRET, NOW)
    result = check_up42(renamed, SECRET, body=BODY, now=NOW)
    assert result.valid and not result.fresh and result.body_verified
    with pytest.raises(SignatureError, match="strict: no Date among the signed headers"):
        verify_up42(renamed, SECRET, body=BODY, now=NOW, strict=True, raise_on_failure=True)
    assert verify_up42(genuine(), SECRET, body=BODY, now=NOW, strict=True)


def test_values_resplit_between_names_are_refused_in_strict_mode() -> None:
    # The scheme cannot bind names: A="hel", B="loworld" carries the signature of A="hello", B="world".
    original = signed({"a": "hello", "b": "world"}, ["a", "b"])
    resplit = {**original, "a": "hel", "b": "loworld"}
    assert verify_up42(resplit, SECRET, now=NOW)  # documented limit of UP42's scheme
    # Strict mode needs a signed Date and digest, each parsed strictly, so no byte can move between them.
    delivery = genuine()
    joined = delivery["Content-Digest"] + delivery["Date"]
    cut = len(delivery["Content-Digest"])
    for at in range(len(joined) + 1):
        moved = {**delivery, "Content-Digest": joined[:at], "Date": joined[at:]}
        assert verify_up42(moved, SECRET, body=BODY, now=NOW, strict=True) == (at == cut), at
        assert verify_up42(moved, SECRET, body=BODY, now=NOW) == (at == cut), at
    swapped = {**delivery, "Signature-Input": f'up42-sig=("content-digest" "date" "x-empty");created={NOW}'}
    assert verify_up42({**swapped, "X-Empty": ""}, SECRET, body=BODY, now=NOW)
    assert not verify_up42({**swapped, "X-Empty": ""}, SECRET, body=BODY, now=NOW, strict=True)


@pytest.mark.parametrize(
    ("date", "why"),
    [
        ("Sunday, 06-Nov-94 08:49:37 GMT", "not an IMF-fixdate"),  # RFC 850
        ("Sun Nov  6 08:49:37 1994", "not an IMF-fixdate"),  # asctime
        ("Fri, 15 Jan 2027 08:00:00 +0000", "not an IMF-fixdate"),
        ("Mon, 15 Jan 2027 08:00:00 GMT", "not an IMF-fixdate"),  # 15 Jan 2027 is a Friday
        ("Fri, 15 Jan 2027 08:00:00 gmt", "not an IMF-fixdate"),
        ("Fri, 32 Jan 2027 08:00:00 GMT", "not an IMF-fixdate"),
        (formatdate(NOW - 300, usegmt=True), "the signed Date header is 300 s old (at most 300 s accepted)"),
        (formatdate(NOW + 6, usegmt=True), "the signed Date header lies 6 s in the future"),
    ],
)
def test_a_signed_date_must_be_a_fresh_imf_fixdate(date: str, why: str) -> None:
    delivery = signed({"date": date, "content-digest": digest_of(BODY)}, ["content-digest", "date"])
    assert not verify_up42(delivery, SECRET, body=BODY, now=NOW)
    with pytest.raises(SignatureError, match=re.escape(why)):
        verify_up42(delivery, SECRET, body=BODY, now=NOW, raise_on_failure=True)


def test_a_signed_digest_must_match_the_body_and_be_well_formed() -> None:
    assert not verify_up42(genuine(), SECRET, body=BODY + b"x", now=NOW)
    for value in ["sha-256=abc", "md5=:AAAA:", "sha-256=:not base64:", "sha-256=:AAAA:"]:
        delivery = signed(
            {"date": formatdate(NOW, usegmt=True), "content-digest": value}, ["content-digest", "date"]
        )
        assert not verify_up42(delivery, SECRET, body=BODY, now=NOW), value
        assert not verify_up42(delivery, SECRET, now=NOW) or value == "sha-256=:AAAA:", value


@pytest.mark.parametrize("max_age", [0, -1, float("nan"), float("inf"), True, "300"])
def test_max_age_must_be_a_finite_positive_number(max_age: object) -> None:
    with pytest.raises(ValueError, match="max_age must be a finite"):
        verify_up42(genuine(), SECRET, now=NOW, max_age=max_age)  # type: ignore[arg-type]


def test_strict_mode_needs_the_body_and_is_for_up42_only() -> None:
    with pytest.raises(ValueError, match="strict=True needs the raw body"):
        check_up42(genuine(), SECRET, now=NOW, strict=True)
    with pytest.raises(ValueError, match="strict=True applies to UP42 only"):
        verify_delivery("shopline", BODY, {}, "secret", strict=True)


@pytest.mark.parametrize("value", ["\udcff", "ok\udc80\udcff", "\ud800"])  # the last: a lone surrogate
def test_a_signed_value_that_is_not_text_is_refused_not_raised(value: str) -> None:
    # aiohttp decodes header bytes that are not UTF-8 with surrogateescape: such a value cannot be the
    # UTF-8 text UP42's snippet signs, and it must come back as a reason, not as an exception (a 500).
    headers = {**signed({**genuine(), "X-A": "plain"}, ["content-digest", "date", "x-a"]), "X-A": value}
    result = check_up42(headers, SECRET, body=BODY, now=NOW)
    assert not result.valid
    assert result.reason == "a signed header value holds bytes that are not text (pass the raw header bytes)"
    if value != "\ud800":  # what aiohttp made of bytes: the same bytes given raw
        raw = {name.encode(): text.encode("utf-8", "surrogateescape") for name, text in headers.items()}
        assert not check_up42(raw, SECRET, body=BODY, now=NOW).valid  # type: ignore[arg-type]


SENDERS_TEXT = "Bearer sk_live_4f3c <script>alert(1)</script>"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("Signature", f"{SENDERS_TEXT}=1, {SENDERS_TEXT}=2"),
        ("Signature-Input", f'up42-sig=("@{SENDERS_TEXT}" "date");created={NOW}'),
        ("Signature-Input", 'up42-sig=("content-digest" "' + "x" * 5000 + '");created=' + str(NOW)),
    ],
)
def test_reasons_never_quote_the_senders_text(where: str, value: str) -> None:
    # Reasons reach receivers' logs: a name is quoted only when it is a token, and cut to 40 characters.
    result = check_up42({**genuine(), where: value}, SECRET, body=BODY, now=NOW)
    assert not result.valid and result.reason is not None
    assert "sk_live" not in result.reason and "<script>" not in result.reason, result.reason
    assert len(result.reason) < 200, result.reason


def test_a_header_given_twice_with_different_values_is_refused() -> None:
    class Pairs:  # a multi-dict's `items()`, as Starlette's Headers gives repeated headers
        def __init__(self, pairs: list[tuple[str, str]]) -> None:
            self.pairs = pairs

        def items(self) -> list[tuple[str, str]]:
            return self.pairs

    delivery = genuine()
    twice = Pairs([*delivery.items(), ("date", formatdate(NOW - 3600, usegmt=True))])
    result = check_up42(twice, SECRET, body=BODY, now=NOW)  # type: ignore[arg-type]
    assert not result.valid and result.reason == "header date is given more than once"
    repeated = Pairs([*delivery.items(), ("Date", delivery["Date"])])  # the same value twice is no ambiguity
    assert check_up42(repeated, SECRET, body=BODY, now=NOW).valid  # type: ignore[arg-type]


def test_other_platforms_prove_the_body_but_never_freshness() -> None:
    from pulumi_webhooks.verify import sign_shopline

    result = check_delivery("shopline", BODY, {"X-Shopline-Hmac-Sha256": sign_shopline(BODY, "s")}, "s")
    assert (result.valid, result.fresh, result.body_verified) == (True, False, True)
    nbsp = "\u00a0" + sign_shopline(BODY, "s")  # only HTTP's blanks (SP, HTAB) surround a header value
    assert not verify_shopline(BODY, nbsp, "s")
    assert not check_delivery("shopline", BODY, {}, "s").body_verified


SENDERS = st.text(alphabet=st.characters(codec=None, exclude_categories=()), min_size=1, max_size=300)


@settings(max_examples=300, deadline=None)
@given(value=SENDERS)
def test_any_signed_value_is_a_verdict_never_an_exception(value: str) -> None:
    # Framework-decoded header values can be anything (aiohttp's surrogate escapes included).
    headers = {**signed({**genuine(), "X-A": "plain"}, ["content-digest", "date", "x-a"]), "X-A": value}
    result = check_up42(headers, SECRET, body=BODY, now=NOW)
    assert result.valid is (value.strip(" \t") == "plain")


@settings(max_examples=300, deadline=None)
@given(name=SENDERS, where=st.sampled_from(["Signature", "Signature-Input"]))
def test_a_reason_quotes_a_name_only_when_it_is_a_short_token(name: str, where: str) -> None:
    # Reasons reach receivers' logs: the sender's text is quoted only as a token, at most 40 characters.
    value = f"{name}=1, {name}=2" if where == "Signature" else f'up42-sig=("@{name}" "date");created={NOW}'
    result = check_up42({**genuine(), where: value}, SECRET, body=BODY, now=NOW)
    assert not result.valid and result.reason is not None
    assert result.reason.isprintable(), result.reason
    token = re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9a-z]{1,40}", name.lower()) is not None
    if not token and len(name) >= 8:
        assert name not in result.reason, result.reason
