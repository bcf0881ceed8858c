"""Check that a webhook delivery really comes from the platform: one function per platform.

Each ``verify_*`` takes the **raw request body as bytes** (exactly as received: parsing and re-serializing
JSON changes the bytes and breaks the signature) and the header value(s), and answers ``True`` or
``False``. With ``raise_on_failure=True`` a failure raises :class:`pulumi_webhooks.errors.SignatureError`
instead, whose message says why (missing header, malformed value, mismatch, too old) without quoting a
header value or the secret. Misuse (a body that is not bytes, an empty secret, a ``max_age`` that is not
a finite positive number) raises ``TypeError`` or ``ValueError`` either way. Comparisons run in constant
time (:func:`hmac.compare_digest`); header values longer than 8 KiB are refused unparsed, and every
parser is linear (structured fields: ``http_sf``, the RFC 8941/9651 reference parser). ``check_up42`` and
``check_delivery`` answer a :class:`Verification`: what was proven (``fresh``, ``body_verified``).

| platform | header | algorithm (docs/receiving.md) |
|---|---|---|
| CJdropshipping | ``sign`` | base64 HMAC-SHA256 of the body, keyed with the openId as a string |
| SHOPLINE | ``X-Shopline-Hmac-Sha256`` | HMAC-SHA256 of the body with the app secret; hex or base64 |
| Shoplazza | ``X-Shoplazza-Hmac-Sha256`` | base64 HMAC-SHA256 of the body with the app's client secret |
| UP42 | ``Signature`` + ``Signature-Input`` | base64 HMAC-SHA256 with the webhook secret over the values of the
  headers listed in ``Signature-Input: up42-sig=(...)``; ``created`` not in the future and under 300 s old |

No web framework is needed (standard library only; importing this module loads neither pulumi nor
httpx). The ``sign_*`` functions compute the same values; ``pulumi-webhooks trigger`` and the sandbox's
deliveries use them, and so can a receiver's own tests.

A receiver, in any framework (Flask shown)::

    from pulumi_webhooks.verify import verify_shopline

    @app.post("/shopline/orders")
    def orders():
        if not verify_shopline(request.get_data(), request.headers.get("X-Shopline-Hmac-Sha256"), APP_SECRET):
            abort(401)
        ...
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal, cast

import http_sf

from pulumi_webhooks._core.errors import SignatureError

Secret = str | bytes
Body = bytes | bytearray | memoryview

CJ_HEADER = "sign"
SHOPLINE_HEADER = "X-Shopline-Hmac-Sha256"
SHOPLAZZA_HEADER = "X-Shoplazza-Hmac-Sha256"
UP42_LABEL = "up42-sig"
UP42_MAX_AGE = 300  # seconds: UP42's own snippet rejects `now - created >= 300` (and any future `created`)
# Seconds a signed Date may lie ahead: it is written in whole seconds a moment after `created`.
UP42_FUTURE_SKEW = 5
UP42_COMPONENTS = ("content-digest", "date")  # what sign_up42 covers unless told otherwise
MAX_HEADER = 8192  # characters: a longer signature or signed header value is refused unparsed

_NAMES = {
    "cjdropshipping": "CJdropshipping",
    "shopline": "SHOPLINE",
    "shoplazza": "Shoplazza",
    "up42": "UP42",
}
# Single character classes with fixed or disjoint repeats: they cannot backtrack.
_HEX = re.compile(r"[0-9a-fA-F]{64}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")
_SHOWN_NAME = 40


def _shown(name: str) -> str:
    """A header or component name as a reason may quote it: only a name of header-name characters (cut
    to 40), since everything else in these headers is the sender's text and reasons reach receivers'
    logs."""
    bare = name[1:] if name.startswith("@") else name
    if _HEADER_NAME.fullmatch(bare.lower()) is None:
        return "(a name that is not a token)"
    return name if len(name) <= _SHOWN_NAME else f"{name[:_SHOWN_NAME]}… ({len(name)} characters)"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_IMF_FIXDATE = re.compile(
    rf"({'|'.join(_WEEKDAYS)}), ([0-9]{{2}}) ({'|'.join(_MONTHS)}) ([0-9]{{4}}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)
_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
_DIGEST_SIZE = hashlib.sha256().digest_size


@dataclass(frozen=True)
class Verification:
    """What checking one delivery proved. True in a boolean context exactly when ``valid``.

    - ``valid``: the signature holds and nothing checked failed;
    - ``fresh``: freshness rests on signed bytes (UP42: a signed ``Date`` within ``max_age``); the
      ``created`` parameter UP42 sends is outside its HMAC, so it never makes a delivery fresh;
    - ``body_verified``: the signature covers these body bytes (SHOPLINE, Shoplazza, CJ: always, when
      valid; UP42: only through a signed ``Content-Digest`` or ``Digest`` that matches the body);
    - ``reason``: why it is not valid (never a header value or the secret).
    """

    platform: str
    valid: bool
    fresh: bool
    body_verified: bool
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.valid


# -- signing -------------------------------------------------------------------------------------------


def sign_cjdropshipping(body: Body, open_id: str | int) -> str:
    """The ``sign`` header CJ sends: base64 HMAC-SHA256 of the body, keyed with ``str(open_id)``."""
    return _b64(_mac(_key(_open_id(open_id), "open_id"), _raw(body)))


def sign_shopline(body: Body, secret: Secret, *, encoding: Literal["hex", "base64"] = "hex") -> str:
    """The ``X-Shopline-Hmac-Sha256`` header: HMAC-SHA256 of the body with the app secret, in lowercase
    hex (what SHOPLINE's official SDK checks) or base64 (what its docs' example looks like)."""
    digest = _mac(_key(secret, "secret"), _raw(body))
    if encoding == "hex":
        return digest.hex()
    if encoding == "base64":
        return _b64(digest)
    raise ValueError(f"encoding must be 'hex' or 'base64', got {encoding!r}")


def sign_shoplazza(body: Body, secret: Secret) -> str:
    """The ``X-Shoplazza-Hmac-Sha256`` header: base64 HMAC-SHA256 of the body with the client secret."""
    return _b64(_mac(_key(secret, "secret"), _raw(body)))


def content_digest(body: Body) -> str:
    """A ``Content-Digest`` header value for ``body`` (RFC 9530): ``sha-256=:<base64>:``."""
    return f"sha-256=:{_b64(hashlib.sha256(_raw(body)).digest())}:"


def sign_up42(
    headers: Mapping[str, str],
    secret: Secret,
    *,
    components: Sequence[str] = UP42_COMPONENTS,
    created: int | None = None,
) -> dict[str, str]:
    """The ``Signature-Input`` and ``Signature`` headers UP42 adds to a delivery carrying ``headers``.

    ``components`` names the headers covered (their values are concatenated in that order, with no
    separator); ``created`` defaults to now (unix seconds)."""
    key = _key(secret, "secret")
    found = _lower(headers)
    names = [name.lower() for name in components]
    if not names:
        raise ValueError("components must name at least one header")
    missing = [name for name in names if name not in found]
    if missing:
        raise ValueError(f"headers to sign are missing: {', '.join(missing)}")
    stamp = int(time.time()) if created is None else int(created)
    listed = " ".join(f'"{name}"' for name in names)
    signature = _b64(_mac(key, "".join(found[name] for name in names).encode()))
    return {
        "Signature-Input": f"{UP42_LABEL}=({listed});created={stamp}",
        "Signature": f"{UP42_LABEL}={signature}",
    }


# -- verifying -----------------------------------------------------------------------------------------


def verify_cjdropshipping(
    body: Body, sign: str | bytes | None, open_id: str | int, *, raise_on_failure: bool = False
) -> bool:
    """Check CJdropshipping's ``sign`` header against the raw body and your account's openId.

    ``open_id`` is the ``openId`` CJ returned with your access token (the resource output ``open_id``);
    it is the signing key, so keep it as secret as a password. CJ sends no timestamp: deduplicate on
    ``messageId``::

        ok = verify_cjdropshipping(await request.body(), request.headers.get("sign"), CJ_OPEN_ID)
    """
    return _finish("cjdropshipping", _cj_problem(body, sign, open_id), raise_on_failure)


def verify_shopline(
    body: Body, header: str | bytes | None, secret: Secret, *, raise_on_failure: bool = False
) -> bool:
    """Check ``X-Shopline-Hmac-Sha256`` against the raw body and the app secret (Partner Portal → Apps →
    App credentials). Both encodings seen in SHOPLINE's sources pass: lowercase (or uppercase) hex, as
    the official SDK computes it, and base64, as the docs' example shows. SHOPLINE sends no timestamp:
    deduplicate on ``X-Shopline-Webhook-Id``::

        ok = verify_shopline(request.get_data(), request.headers.get("X-Shopline-Hmac-Sha256"), APP_SECRET)
    """
    return _finish("shopline", _shopline_problem(body, header, secret), raise_on_failure)


def verify_shoplazza(
    body: Body, header: str | bytes | None, secret: Secret, *, raise_on_failure: bool = False
) -> bool:
    """Check ``X-Shoplazza-Hmac-Sha256`` (base64) against the raw body and the app's client secret
    (the Partner Center's app credentials). Shoplazza sends no timestamp: deduplicate on
    ``X-Shoplazza-Deduplication-ID``::

        ok = verify_shoplazza(await request.body(), request.headers.get("X-Shoplazza-Hmac-Sha256"), SECRET)
    """
    return _finish("shoplazza", _shoplazza_problem(body, header, secret), raise_on_failure)


def _cj_problem(body: Body, sign: str | bytes | _Problem | None, open_id: object) -> str | None:
    key = _key(_open_id(open_id), "open_id")
    return _compare_b64(CJ_HEADER, sign, _mac(key, _raw(body)))


def _shopline_problem(body: Body, header: str | bytes | _Problem | None, secret: object) -> str | None:
    expected = _mac(_key(secret, "secret"), _raw(body))
    value = _text(SHOPLINE_HEADER, header)
    if isinstance(value, _Problem):
        return value.reason
    if _HEX.fullmatch(value):
        return None if hmac.compare_digest(bytes.fromhex(value), expected) else _mismatch(SHOPLINE_HEADER)
    return _compare_b64(SHOPLINE_HEADER, value, expected, allow_hex=True)


def _shoplazza_problem(body: Body, header: str | bytes | _Problem | None, secret: object) -> str | None:
    expected = _mac(_key(secret, "secret"), _raw(body))
    return _compare_b64(SHOPLAZZA_HEADER, header, expected)


def _body_only(platform: str, problem: str | None) -> Verification:
    # These platforms sign the whole body and send no timestamp: nothing signed proves freshness.
    return Verification(_NAMES[platform], problem is None, False, problem is None, problem)


def verify_up42(
    headers: Mapping[str, str],
    secret: Secret,
    *,
    body: Body | None = None,
    now: float | None = None,
    max_age: float = UP42_MAX_AGE,
    strict: bool = False,
    raise_on_failure: bool = False,
) -> bool:
    """Check UP42's ``Signature`` / ``Signature-Input`` headers with the webhook's ``secret``.

    ``headers`` are the request's headers (any mapping; names are matched case-insensitively). The
    signature is the base64 HMAC-SHA256 of the values of the headers listed in
    ``Signature-Input: up42-sig=("h1" "h2" …);created=<unix seconds>``, concatenated in that order, as
    UP42's own validation snippet computes it. It fails when a listed header is missing, when
    ``created`` lies in the future or ``now - created >= max_age``, when ``expires`` has passed, when a
    signed ``Date`` is not an IMF-fixdate at most ``max_age`` old, and when a signed ``Content-Digest``
    (RFC 9530) or ``Digest`` does not match ``body`` (the raw bytes, when given)::

        ok = verify_up42(request.headers, WEBHOOK_SECRET, body=request.get_data())

    Neither ``created`` nor the header names are covered by UP42's HMAC: only a signed ``Date`` proves
    freshness and only a signed digest proves the body. A delivery signing neither still verifies (UP42's
    snippet accepts it); :func:`check_up42` says what was proven, and ``strict=True`` (which needs
    ``body``) rejects a delivery unless both were. A webhook created without a secret is delivered
    unsigned: there is nothing to verify.
    """
    result = check_up42(headers, secret, body=body, now=now, max_age=max_age, strict=strict)
    return _finish("up42", result.reason, raise_on_failure)


def check_up42(
    headers: Mapping[str, str],
    secret: Secret,
    *,
    body: Body | None = None,
    now: float | None = None,
    max_age: float = UP42_MAX_AGE,
    strict: bool = False,
) -> Verification:
    """:func:`verify_up42`, answering what was proven: ``valid``, ``fresh`` (a signed ``Date`` inside
    ``max_age``), ``body_verified`` (a signed digest matches ``body``) and, when not valid, ``reason``::

        result = check_up42(request.headers, WEBHOOK_SECRET, body=request.get_data())
        if not result.valid:
            abort(401)
        if not result.fresh:
            ...  # nothing signed says when it was sent: deduplicate before acting on it
    """
    key = _key(secret, "secret")
    data = None if body is None else _raw(body)
    if strict and data is None:
        raise ValueError("strict=True needs the raw body: it requires a signed digest that matches it")
    limit = _positive_seconds(max_age, "max_age")
    moment = time.time() if now is None else _finite(now, "now")
    return _up42_check(_headers(headers), key, data, moment, limit, strict)


def check_delivery(
    platform: str,
    body: Body,
    headers: Mapping[str, str],
    secret: Secret | int,
    *,
    now: float | None = None,
    strict: bool = False,
) -> Verification:
    """:func:`verify_delivery`, answering what was proven (see :class:`Verification`). SHOPLINE,
    Shoplazza and CJ sign the whole body and send no timestamp: ``body_verified`` is ``valid`` and
    ``fresh`` is always false (deduplicate on their delivery ids). ``strict=True`` is for UP42 only."""
    if not isinstance(platform, str):
        raise TypeError(f"platform must be str, not {type(platform).__name__}")
    name = platform.strip().lower()
    if name == "up42":
        if isinstance(secret, int):
            raise TypeError("the UP42 secret must be str or bytes")
        return check_up42(headers, secret, body=body, now=now, strict=strict)
    if strict:
        raise ValueError(f"strict=True applies to UP42 only: {_NAMES.get(name, platform)} signs no timestamp")
    found = _headers(headers)
    if name in ("cj", "cjdropshipping"):
        if not isinstance(secret, (str, int)):
            raise TypeError("the CJdropshipping key is the openId, a str or int")
        problem = _cj_problem(body, _single(found, CJ_HEADER), secret)
        return _body_only("cjdropshipping", problem)
    if isinstance(secret, int):
        raise TypeError(f"the {_NAMES.get(name, platform)} secret must be str or bytes")
    if name == "shopline":
        return _body_only("shopline", _shopline_problem(body, _single(found, SHOPLINE_HEADER), secret))
    if name == "shoplazza":
        return _body_only("shoplazza", _shoplazza_problem(body, _single(found, SHOPLAZZA_HEADER), secret))
    raise ValueError(
        f"unknown platform {platform!r}: expected one of cjdropshipping, shopline, shoplazza, up42"
    )


def verify_delivery(
    platform: str,
    body: Body,
    headers: Mapping[str, str],
    secret: Secret | int,
    *,
    now: float | None = None,
    strict: bool = False,
    raise_on_failure: bool = False,
) -> bool:
    """Verify a delivery of ``platform`` (``cjdropshipping`` or ``cj``, ``shopline``, ``shoplazza``, ``up42``)
    from its raw body and all its headers (any mapping; names are matched case-insensitively).

    ``secret`` is the platform's signing key: CJ's openId, SHOPLINE's app secret, Shoplazza's client
    secret, the UP42 webhook's secret (the UP42 check includes the body, see :func:`verify_up42`;
    ``strict=True`` applies to UP42 only)."""
    result = check_delivery(platform, body, headers, secret, now=now, strict=strict)
    if result.valid:
        return True
    if raise_on_failure:
        raise SignatureError(result.platform, result.reason or "rejected")
    return False


# -- UP42 ----------------------------------------------------------------------------------------------


def _up42_check(
    headers: _HeaderMap, key: bytes, body: bytes | None, now: float, max_age: float, strict: bool
) -> Verification:
    fresh = body_verified = False

    def rejected(reason: str) -> Verification:
        return Verification(_NAMES["up42"], False, fresh, body_verified, reason)

    inputs = _single(headers, "signature-input")
    signature = _single(headers, "signature")
    for name, value in (("Signature-Input", inputs), ("Signature", signature)):
        if isinstance(value, _Problem):
            return rejected(value.reason)
        if not value or not value.strip(" \t"):
            return rejected(f"missing header {name}")
    assert isinstance(inputs, str) and isinstance(signature, str)
    parsed = _signature_input(inputs)
    if isinstance(parsed, _Problem):
        return rejected(parsed.reason)
    components, created, expires = parsed
    provided = _signature_value(signature)
    if isinstance(provided, _Problem):
        return rejected(provided.reason)
    values: list[str] = []
    for name in components:
        value = _single(headers, name)
        if isinstance(value, _Problem):
            return rejected(value.reason)
        if value is None:
            return rejected(f"missing header {_shown(name)} (listed in Signature-Input)")
        values.append(value)
    try:
        signed_text = "".join(values).encode("utf-8")  # what UP42's snippet computes
    except UnicodeEncodeError:  # a str decoded with surrogateescape (aiohttp) from bytes that are not UTF-8
        return rejected("a signed header value holds bytes that are not text (pass the raw header bytes)")
    expected = _mac(key, signed_text)
    if not provided.matches(expected):
        return rejected("Signature does not match the signed headers and secret")
    # The MAC holds. `created` and `expires` are not covered by it: checked as UP42's snippet does, but
    # freshness rests only on a signed Date.
    if created > now:
        return rejected(f"created lies {created - now:.0f} s in the future")
    if now - created >= max_age:
        return rejected(f"created is {now - created:.0f} s old (at most {max_age:g} s accepted)")
    if expires is not None and now > expires:
        return rejected("the signature has expired")
    signed = dict(zip(components, values, strict=True))
    if "date" in signed:
        problem = _date_problem(signed["date"], now, max_age)
        if problem is not None:
            return rejected(problem)
        fresh = True
    digests = [name for name in ("content-digest", "digest") if name in signed]
    for name in digests:
        problem = _digest_problem(name, signed[name], body)
        if problem is not None:
            return rejected(problem)
    body_verified = body is not None and bool(digests)
    if strict:
        empty = [name for name, value in signed.items() if not value.strip(" \t")]
        if empty:
            return rejected(f"strict: the signed header {_shown(empty[0])} is empty")
        if not fresh:
            return rejected(
                "strict: no Date among the signed headers, so nothing signed says when it was sent"
            )
        if not body_verified:
            return rejected("strict: no Content-Digest or Digest among the signed headers covers the body")
    return Verification(_NAMES["up42"], True, fresh, body_verified)


# http_sf gives each dictionary member, and each item of an inner list, as (value, parameters); the value
# of an inner list is the list of its items.
_SfMember = tuple[object, dict[str, object]]


def _sf_dictionary(value: str) -> dict[str, _SfMember] | str:
    """An RFC 8941 dictionary's members, or why the value is not one. Why says where, never what: an
    http_sf message may quote the value."""
    if len(value) > MAX_HEADER:
        return f"longer than {MAX_HEADER} characters"
    if not value.isascii():
        return "not ASCII"
    try:
        members = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    except http_sf.StructuredFieldError as exc:
        return f"invalid at character {exc.position}"
    return cast("dict[str, _SfMember]", members)


def _signature_input(value: str) -> tuple[list[str], int, int | None] | _Problem:
    members = _sf_dictionary(value)
    if isinstance(members, str):
        return _Problem(f"Signature-Input is not a structured-field dictionary ({members})")
    entry = members.get(UP42_LABEL)
    if entry is None:
        return _Problem(f"Signature-Input has no {UP42_LABEL} entry")
    items, params = entry
    if not isinstance(items, list):
        return _Problem(f"Signature-Input {UP42_LABEL} is malformed: not a list of header names")
    components: list[str] = []
    listed: set[str] = set()
    for item, item_params in cast("list[_SfMember]", items):
        name = str(item) if isinstance(item, http_sf.Token) else item
        if not isinstance(name, str) or not name:
            return _Problem(f"Signature-Input {UP42_LABEL} is malformed: an item is not a header name")
        if item_params:
            return _Problem("Signature-Input gives component parameters, which UP42's scheme does not use")
        name = name.lower()
        if name.startswith("@"):
            return _Problem(
                f"Signature-Input lists derived component {_shown(name)}, which UP42's scheme does not use"
            )
        if _HEADER_NAME.fullmatch(name) is None:
            return _Problem(f"Signature-Input {UP42_LABEL} is malformed: an item is not a header name")
        if name in listed:
            return _Problem(f"Signature-Input lists {_shown(name)} twice")
        listed.add(name)  # a set: a list's `in` made 2,400 distinct names cost 24 ms
        components.append(name)
    if not components:
        return _Problem("Signature-Input lists no header")
    created = params.get("created")
    if created is None:
        return _Problem("Signature-Input has no created time")
    if type(created) is not int or created <= 0:
        return _Problem("Signature-Input created is not a positive integer")
    expires = params.get("expires")
    if expires is not None and type(expires) is not int:
        return _Problem("Signature-Input expires is not an integer")
    return components, created, expires


@dataclass(frozen=True)
class _ProvidedSignature:
    text: str | None = None  # UP42's `up42-sig=<base64>`: compared as text, as UP42's snippet does
    raw: bytes | None = None  # RFC 9421's `up42-sig=:<base64>:`

    def matches(self, expected: bytes) -> bool:
        if self.raw is not None:
            return hmac.compare_digest(self.raw, expected)
        assert self.text is not None
        return hmac.compare_digest(self.text.encode("ascii"), _b64(expected).encode("ascii"))


def _signature_value(value: str) -> _ProvidedSignature | _Problem:
    """``up42-sig=<base64>`` (what UP42 sends; not valid RFC 8941 because of the padding ``=``) or the RFC
    9421 dictionary ``up42-sig=:<base64>:``, alone or next to other members."""
    if len(value) > MAX_HEADER:
        return _Problem(f"Signature is longer than {MAX_HEADER} characters")
    not_hmac = _Problem("Signature is not a base64 HMAC-SHA256")
    parsed = _sf_dictionary(value)
    if not isinstance(parsed, str):
        member = parsed.get(UP42_LABEL)
        if member is None:
            return _Problem(f"Signature has no {UP42_LABEL} entry")
        raw = member[0]
        if not isinstance(raw, bytes) or len(raw) != _DIGEST_SIZE:
            return not_hmac
        return _ProvidedSignature(raw=raw)
    members: dict[str, str] = {}
    for part in value.split(","):  # base64 has no comma: a linear split
        name, sep, encoded = part.strip(" \t").partition("=")
        if not sep or not name:
            return _Problem("Signature is not a dictionary of signatures")
        if name in members:
            return _Problem(f"Signature has {_shown(name)} twice")
        members[name] = encoded
    entry = members.get(UP42_LABEL)
    if entry is None:
        return _Problem(f"Signature has no {UP42_LABEL} entry")
    text = entry[1:-1] if len(entry) > 1 and entry[0] == entry[-1] == ":" else entry
    decoded = _b64decode(text) if _BASE64.fullmatch(text) else None
    if decoded is None or len(decoded) != _DIGEST_SIZE:
        return not_hmac
    return _ProvidedSignature(text=text)


def _date_problem(value: str, now: float, max_age: float) -> str | None:
    stamp = _imf_fixdate(value)
    if stamp is None:
        return "the signed Date header is not an IMF-fixdate (e.g. Sun, 06 Nov 1994 08:49:37 GMT)"
    age = now - stamp
    if age >= max_age:
        return f"the signed Date header is {age:.0f} s old (at most {max_age:g} s accepted)"
    if age < -UP42_FUTURE_SKEW:
        return f"the signed Date header lies {-age:.0f} s in the future"
    return None


def _imf_fixdate(value: str) -> float | None:
    """RFC 9110 section 5.6.7: ``Sun, 06 Nov 1994 08:49:37 GMT`` exactly (weekday checked), or None."""
    match = _IMF_FIXDATE.fullmatch(value.strip(" \t")) if len(value) <= 64 else None
    if match is None:
        return None
    weekday, day, month, year, hour, minute, second = match.groups()
    try:
        moment = datetime(
            int(year),
            _MONTHS.index(month) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone.utc,
        )
    except ValueError:
        return None
    if _WEEKDAYS[moment.weekday()] != weekday:
        return None
    return moment.timestamp()


def _digest_problem(name: str, value: str, body: bytes | None) -> str | None:
    header = "Content-Digest" if name == "content-digest" else "Digest"
    digests: dict[str, bytes] = {}
    if name == "content-digest":  # RFC 9530: `sha-256=:<base64>:`, a dictionary of byte sequences
        members = _sf_dictionary(value)
        if isinstance(members, str):
            return f"the signed Content-Digest is not a structured-field dictionary ({members})"
        for algorithm, (digest, _) in members.items():
            if algorithm in _DIGESTS:
                if not isinstance(digest, bytes):
                    return "the signed Content-Digest holds a value that is not a byte sequence"
                digests[algorithm] = digest
    else:  # RFC 3230: `SHA-256=<base64>`, comma-separated
        if len(value) > MAX_HEADER:
            return f"the signed Digest is longer than {MAX_HEADER} characters"
        for part in value.split(","):
            algorithm, sep, encoded = part.strip(" \t").partition("=")
            algorithm = algorithm.lower()
            if not sep or not algorithm:
                return "the signed Digest is malformed"
            if algorithm in _DIGESTS:
                decoded = _b64decode(encoded) if _BASE64.fullmatch(encoded) else None
                if decoded is None:
                    return "the signed Digest holds a value that is not base64"
                digests[algorithm] = decoded
    if not digests:
        return f"the signed {header} uses no supported algorithm (sha-256, sha-512)"
    if body is None:
        return None
    for algorithm, provided in digests.items():
        if not hmac.compare_digest(provided, _DIGESTS[algorithm](body).digest()):
            return "the body does not match the signed digest"
    return None


# -- helpers -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """A header that cannot be used (given twice with different values, too long): why, as a reason."""

    reason: str


_HeaderMap = dict[str, "str | _Problem"]


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _compare_b64(
    header: str, value: str | bytes | _Problem | None, expected: bytes, *, allow_hex: bool = False
) -> str | None:
    text = _text(header, value)
    if isinstance(text, _Problem):
        return text.reason
    # Compared as text, as CJ's docs say; canonical base64 of the expected digest is the only match.
    if not text.isascii() or _BASE64.fullmatch(text) is None or _b64decode(text) is None:
        return f"{header} is not {'hex or ' if allow_hex else ''}base64"
    return (
        None
        if hmac.compare_digest(text.encode("ascii"), _b64(expected).encode("ascii"))
        else _mismatch(header)
    )


def _mismatch(header: str) -> str:
    return f"{header} does not match the body and secret"


def _text(header: str, value: str | bytes | _Problem | None) -> str | _Problem:
    """A signature header's value without surrounding blanks (HTTP's SP/HTAB only), or why not."""
    if isinstance(value, _Problem):
        return value
    if value is None:
        return _Problem(f"missing header {header}")
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("latin-1")
    if not isinstance(value, str):
        raise TypeError(f"a header value must be str, bytes or None, not {type(value).__name__}")
    if len(value) > MAX_HEADER:
        return _Problem(f"{header} is longer than {MAX_HEADER} characters")
    value = value.strip(" \t")
    return value or _Problem(f"missing header {header}")


def _raw(body: object) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError(
        f"body must be the raw request body as bytes, not {type(body).__name__}: parsing and "
        "re-serializing a body changes its bytes and breaks the signature"
    )


def _key(secret: object, what: str) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, (bytes, bytearray)):
        raise TypeError(f"{what} must be str or bytes, not {type(secret).__name__}")
    if not secret:
        raise ValueError(f"{what} is empty: an empty key would accept anyone's signature")
    return bytes(secret)


def _open_id(open_id: object) -> str:
    if isinstance(open_id, bool) or not isinstance(open_id, (str, int)):
        raise TypeError(f"open_id must be str or int, not {type(open_id).__name__}")
    return str(open_id).strip()


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number of seconds")
    return float(value)


def _positive_seconds(value: object, what: str) -> float:
    seconds = _finite(value, what)
    if seconds <= 0:
        raise ValueError(f"{what} must be a finite positive number of seconds")
    return seconds


def _items(headers: object) -> list[tuple[str, str]]:
    if not isinstance(headers, Mapping) and not hasattr(headers, "items"):
        raise TypeError(f"headers must be a mapping of names to values, not {type(headers).__name__}")
    return [(_latin1(name).lower(), _latin1(value)) for name, value in headers.items()]


def _latin1(text: object) -> str:
    # Raw ASGI headers are bytes; HTTP header bytes map one to one onto latin-1.
    return bytes(text).decode("latin-1") if isinstance(text, (bytes, bytearray)) else str(text)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return dict(_items(headers))


def _headers(headers: Mapping[str, str]) -> _HeaderMap:
    """Names lowercased. A name given twice (``Date`` and ``date``, or a multi-dict's repeats) with
    different values is ambiguous: which one was signed cannot be told, so it is refused when used."""
    found: _HeaderMap = {}
    for name, value in _items(headers):
        seen = found.get(name)
        if seen is not None and seen != value:
            found[name] = _Problem(f"header {name} is given more than once")
        elif len(value) > MAX_HEADER:
            found[name] = _Problem(f"header {name} is longer than {MAX_HEADER} characters")
        else:
            found[name] = value
    return found


def _single(headers: _HeaderMap, name: str) -> str | _Problem | None:
    return headers.get(name.lower())


def _finish(platform: str, problem: str | None, raise_on_failure: bool) -> bool:
    if problem is None:
        return True
    if raise_on_failure:
        raise SignatureError(_NAMES[platform], problem)
    return False


__all__ = [
    "CJ_HEADER",
    "MAX_HEADER",
    "SHOPLAZZA_HEADER",
    "SHOPLINE_HEADER",
    "UP42_FUTURE_SKEW",
    "UP42_MAX_AGE",
    "Verification",
    "check_delivery",
    "check_up42",
    "content_digest",
    "sign_cjdropshipping",
    "sign_shoplazza",
    "sign_shopline",
    "sign_up42",
    "verify_cjdropshipping",
    "verify_delivery",
    "verify_shoplazza",
    "verify_shopline",
    "verify_up42",
]
