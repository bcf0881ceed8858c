"""Check that a webhook delivery really comes from the platform: one function per platform.

Each ``verify_*`` takes the **raw request body as bytes** (exactly as received: parsing and re-serializing
JSON changes the bytes and breaks the signature) and the header value(s), and answers ``True`` or
``False``. With ``raise_on_failure=True`` a failure raises :class:`pulumi_webhooks.errors.SignatureError`
instead, whose message says why (missing header, malformed value, mismatch, too old) without quoting a
header value or the secret. Misuse (a body that is not bytes, an empty secret) raises ``TypeError`` or
``ValueError`` either way. Comparisons run in constant time (:func:`hmac.compare_digest`).

| platform | header | algorithm (reference/platforms.md) |
|---|---|---|
| CJdropshipping | ``sign`` | base64 HMAC-SHA256 of the body, keyed with the openId as a string |
| SHOPLINE | ``X-Shopline-Hmac-Sha256`` | HMAC-SHA256 of the body with the app secret; hex or base64 |
| Shoplazza | ``X-Shoplazza-Hmac-Sha256`` | base64 HMAC-SHA256 of the body with the app's client secret |
| UP42 | ``Signature`` + ``Signature-Input`` | base64 HMAC-SHA256 with the webhook secret over the values of the
  headers listed in ``Signature-Input: up42-sig=(...)``; ``created`` at most 300 s old |

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
import re
import time
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Literal

from pulumi_webhooks._core.errors import SignatureError

Secret = str | bytes
Body = bytes | bytearray | memoryview

CJ_HEADER = "sign"
SHOPLINE_HEADER = "X-Shopline-Hmac-Sha256"
SHOPLAZZA_HEADER = "X-Shoplazza-Hmac-Sha256"
UP42_LABEL = "up42-sig"
UP42_MAX_AGE = 300  # seconds: UP42's own receivers reject `now - created >= 300`
UP42_FUTURE_SKEW = 30  # seconds a signature may come from the future (clocks of sender and receiver drift)
UP42_COMPONENTS = ("content-digest", "date")  # what sign_up42 covers unless told otherwise

_NAMES = {
    "cjdropshipping": "CJdropshipping",
    "shopline": "SHOPLINE",
    "shoplazza": "Shoplazza",
    "up42": "UP42",
}
_HEX = re.compile(r"[0-9a-fA-F]{64}")
_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


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
    it is the signing key, so keep it as secret as a password::

        ok = verify_cjdropshipping(await request.body(), request.headers.get("sign"), CJ_OPEN_ID)
    """
    key = _key(_open_id(open_id), "open_id")
    data = _raw(body)
    return _finish("cjdropshipping", _compare_b64(CJ_HEADER, sign, _mac(key, data)), raise_on_failure)


def verify_shopline(
    body: Body, header: str | bytes | None, secret: Secret, *, raise_on_failure: bool = False
) -> bool:
    """Check ``X-Shopline-Hmac-Sha256`` against the raw body and the app secret (Partner Portal → Apps →
    App credentials). Both encodings seen in SHOPLINE's sources pass: lowercase (or uppercase) hex, as
    the official SDK computes it, and base64, as the docs' example shows::

        ok = verify_shopline(request.get_data(), request.headers.get("X-Shopline-Hmac-Sha256"), APP_SECRET)
    """
    key = _key(secret, "secret")
    expected = _mac(key, _raw(body))
    value = _text(header)
    if value is None:
        return _finish("shopline", f"missing header {SHOPLINE_HEADER}", raise_on_failure)
    if _HEX.fullmatch(value):
        problem = None if hmac.compare_digest(bytes.fromhex(value), expected) else _mismatch(SHOPLINE_HEADER)
    else:
        problem = _compare_b64(SHOPLINE_HEADER, value, expected, allow_hex=True)
    return _finish("shopline", problem, raise_on_failure)


def verify_shoplazza(
    body: Body, header: str | bytes | None, secret: Secret, *, raise_on_failure: bool = False
) -> bool:
    """Check ``X-Shoplazza-Hmac-Sha256`` (base64) against the raw body and the app's client secret
    (the Partner Center's app credentials)::

        ok = verify_shoplazza(await request.body(), request.headers.get("X-Shoplazza-Hmac-Sha256"), SECRET)
    """
    key = _key(secret, "secret")
    expected = _mac(key, _raw(body))
    return _finish("shoplazza", _compare_b64(SHOPLAZZA_HEADER, header, expected), raise_on_failure)


def verify_up42(
    headers: Mapping[str, str],
    secret: Secret,
    *,
    body: Body | None = None,
    now: float | None = None,
    max_age: float = UP42_MAX_AGE,
    raise_on_failure: bool = False,
) -> bool:
    """Check UP42's ``Signature`` / ``Signature-Input`` headers with the webhook's ``secret``.

    ``headers`` are the request's headers (any mapping; names are matched case-insensitively). The
    signature is the base64 HMAC-SHA256 of the values of the headers listed in
    ``Signature-Input: up42-sig=("h1" "h2" …);created=<unix seconds>``, concatenated in that order. It
    fails when a listed header is missing, when ``now - created >= max_age`` or ``created`` lies more
    than 30 s ahead, when a signed ``Date`` header is as old, and when ``expires`` has passed.

    Pass ``body`` (the raw bytes) to check the body too: the signature covers header values only, so the
    body is authentic only through a signed ``Content-Digest`` (RFC 9530) or ``Digest`` header that
    matches it; with ``body`` given and no such header among the signed ones, the check fails::

        ok = verify_up42(request.headers, WEBHOOK_SECRET, body=request.get_data())

    A webhook created without a secret is delivered unsigned: there is nothing to verify.
    """
    key = _key(secret, "secret")
    data = None if body is None else _raw(body)
    if max_age <= 0:
        raise ValueError("max_age must be positive")
    moment = time.time() if now is None else now
    return _finish("up42", _up42_problem(_lower(headers), key, data, moment, max_age), raise_on_failure)


def verify_delivery(
    platform: str,
    body: Body,
    headers: Mapping[str, str],
    secret: Secret | int,
    *,
    now: float | None = None,
    raise_on_failure: bool = False,
) -> bool:
    """Verify a delivery of ``platform`` (``cjdropshipping`` or ``cj``, ``shopline``, ``shoplazza``, ``up42``)
    from its raw body and all its headers (any mapping; names are matched case-insensitively).

    ``secret`` is the platform's signing key: CJ's openId, SHOPLINE's app secret, Shoplazza's client
    secret, the UP42 webhook's secret (the UP42 check includes the body, see :func:`verify_up42`)."""
    name = platform.strip().lower()
    found = _lower(headers)
    if name in ("cj", "cjdropshipping"):
        if not isinstance(secret, (str, int)):
            raise TypeError("the CJdropshipping key is the openId, a str or int")
        return verify_cjdropshipping(body, found.get(CJ_HEADER), secret, raise_on_failure=raise_on_failure)
    if isinstance(secret, int):
        raise TypeError(f"the {_NAMES.get(name, name)} secret must be str or bytes")
    if name == "shopline":
        header = found.get(SHOPLINE_HEADER.lower())
        return verify_shopline(body, header, secret, raise_on_failure=raise_on_failure)
    if name == "shoplazza":
        header = found.get(SHOPLAZZA_HEADER.lower())
        return verify_shoplazza(body, header, secret, raise_on_failure=raise_on_failure)
    if name == "up42":
        return verify_up42(found, secret, body=body, now=now, raise_on_failure=raise_on_failure)
    raise ValueError(
        f"unknown platform {platform!r}: expected one of cjdropshipping, shopline, shoplazza, up42"
    )


# -- UP42 ----------------------------------------------------------------------------------------------


def _up42_problem(
    headers: Mapping[str, str], key: bytes, body: bytes | None, now: float, max_age: float
) -> str | None:
    for name in ("signature-input", "signature"):
        if not headers.get(name, "").strip():
            return f"missing header {name.title()}"
    entry = _sf_dictionary(headers["signature-input"]).get(UP42_LABEL)
    if entry is None:
        return f"Signature-Input has no {UP42_LABEL} entry"
    parsed = _inner_list(entry)
    if parsed is None:
        return f"Signature-Input {UP42_LABEL} is malformed"
    components, params = parsed
    signature = _sf_dictionary(headers["signature"]).get(UP42_LABEL)
    if signature is None:
        return f"Signature has no {UP42_LABEL} entry"
    provided = _b64decode(signature.strip().strip(":"))
    if provided is None or len(provided) != hashlib.sha256().digest_size:
        return "Signature is not a base64 HMAC-SHA256"
    if not components:
        return "Signature-Input lists no header"
    for name in components:
        if name.startswith("@"):
            return f"Signature-Input lists derived component {name}, which UP42's scheme does not use"
        if name not in headers:
            return f"missing header {name} (listed in Signature-Input)"
    expected = _mac(key, "".join(headers[name] for name in components).encode())
    if not hmac.compare_digest(provided, expected):
        return _mismatch("Signature")
    # `created` itself is not covered by this scheme's HMAC: a signed Date header is checked as well.
    created = _int(params.get("created"))
    if created is None:
        return "Signature-Input has no created time"
    problem = _age_problem("created", created, now, max_age)
    if problem is None and "date" in components:
        problem = _date_problem(headers["date"], now, max_age)
    expires = _int(params.get("expires"))
    if problem is None and expires is not None and now > expires:
        problem = "the signature has expired"
    if problem is None and body is not None:
        problem = _body_problem(headers, components, body)
    return problem


def _age_problem(what: str, stamp: float, now: float, max_age: float) -> str | None:
    age = now - stamp
    if age >= max_age:
        return f"{what} is {age:.0f} s old (at most {max_age:g} s accepted)"
    if age < -UP42_FUTURE_SKEW:
        return f"{what} lies {-age:.0f} s in the future"
    return None


def _date_problem(value: str, now: float, max_age: float) -> str | None:
    try:
        stamp = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return "the signed Date header is not an HTTP date"
    return _age_problem("the signed Date header", stamp, now, max_age)


def _body_problem(headers: Mapping[str, str], components: Sequence[str], body: bytes) -> str | None:
    if "content-digest" in components:
        digests = {
            k.lower(): v.strip().strip(":") for k, v in _sf_dictionary(headers["content-digest"]).items()
        }
    elif "digest" in components:  # RFC 3230: `SHA-256=<base64>`
        digests = {}
        for part in headers["digest"].split(","):
            algorithm, _, value = part.strip().partition("=")
            digests[algorithm.lower()] = value.strip()
    else:
        return "the signature does not cover the body (no Content-Digest among the signed headers)"
    known = {name: value for name, value in digests.items() if name in _DIGESTS}
    if not known:
        return "the signed body digest uses no supported algorithm (sha-256, sha-512)"
    for name, value in known.items():
        provided = _b64decode(value)
        if provided is None or not hmac.compare_digest(provided, _DIGESTS[name](body).digest()):
            return "the body does not match the signed digest"
    return None


def _sf_dictionary(text: str) -> dict[str, str]:
    """The members of a structured-field dictionary (RFC 8941), each as its raw value text."""
    members: dict[str, str] = {}
    for part in _split_top_level(text):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            members[name.strip().lower()] = value.strip()
    return members


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


_INNER = re.compile(r'^\(\s*((?:"[^"\\]*"\s*)*)\)((?:\s*;\s*[a-z*][a-z0-9_.*-]*(?:=[^;]*)?)*)\s*$')
_QUOTED = re.compile(r'"([^"\\]*)"')


def _inner_list(value: str) -> tuple[list[str], dict[str, str]] | None:
    """``("a" "b");created=1;keyid="k"`` -> (["a", "b"], {"created": "1", "keyid": "k"})."""
    match = _INNER.match(value)
    if match is None:
        return None
    components = [name.lower() for name in _QUOTED.findall(match[1])]
    params: dict[str, str] = {}
    for param in match[2].split(";"):
        name, _, raw = param.strip().partition("=")
        if name:
            params[name.lower()] = raw.strip().strip('"')
    return components, params


# -- helpers -------------------------------------------------------------------------------------------


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _compare_b64(
    header: str, value: str | bytes | None, expected: bytes, *, allow_hex: bool = False
) -> str | None:
    text = _text(value)
    if text is None:
        return f"missing header {header}"
    # Compared as text, as CJ's docs say; canonical base64 of the expected digest is the only match.
    if not text.isascii():
        return f"{header} is not {'hex or ' if allow_hex else ''}base64"
    if _b64decode(text) is None:
        return f"{header} is not {'hex or ' if allow_hex else ''}base64"
    return (
        None
        if hmac.compare_digest(text.encode("ascii"), _b64(expected).encode("ascii"))
        else _mismatch(header)
    )


def _mismatch(header: str) -> str:
    return f"{header} does not match the body and secret"


def _text(value: str | bytes | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        raise TypeError(f"a header value must be str, bytes or None, not {type(value).__name__}")
    value = value.strip()
    return value or None


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


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(headers, Mapping) and not hasattr(headers, "items"):
        raise TypeError(f"headers must be a mapping of names to values, not {type(headers).__name__}")
    return {str(name).lower(): str(value) for name, value in headers.items()}


def _finish(platform: str, problem: str | None, raise_on_failure: bool) -> bool:
    if problem is None:
        return True
    if raise_on_failure:
        raise SignatureError(_NAMES[platform], problem)
    return False


__all__ = [
    "CJ_HEADER",
    "SHOPLAZZA_HEADER",
    "SHOPLINE_HEADER",
    "UP42_MAX_AGE",
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
