"""`pulumi_webhooks.verify` against vectors computed independently of it, with OpenSSL.

Each expected value below was computed once with the OpenSSL 3.0 command line (the commands are next to
the values; `printf '%s'` writes the body's exact UTF-8 bytes), so a test passes only when the module
implements the documented algorithm, not merely when it agrees with itself.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from email.utils import formatdate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_webhooks.errors import SignatureError, WebhookError
from pulumi_webhooks.verify import (
    check_up42,
    content_digest,
    sign_cjdropshipping,
    sign_shoplazza,
    sign_shopline,
    sign_up42,
    verify_cjdropshipping,
    verify_delivery,
    verify_shoplazza,
    verify_shopline,
    verify_up42,
)

# CJ: the docs' LOGISTIC delivery (shortened), signed with the docs' example openId 12312.
# printf '%s' "$CJ_BODY" | openssl dgst -sha256 -hmac 12312 -binary | openssl base64 -A
CJ_BODY = (
    b'{"messageId":"7cceede817dc47ed9748328b64353c5c","type":"LOGISTIC","messageType":"UPDATE","openId":12312,'
    b'"params":{"orderId":"210823100016290555","logisticName":"CJPacket Ordinary","trackingNumber":"number12345678",'
    b'"trackingStatus":12}}'
)
CJ_OPEN_ID = 12312
CJ_SIGN = "/TuyCjWPMx9FaUywyuy2joJzyLcmtZ6wMx9hIvYEkzY="

# SHOPLINE, with a non-ASCII body (raw UTF-8 bytes are what is signed).
# printf '%s' "$SL_BODY" | openssl dgst -sha256 -hmac 'shpss_7f3a9c2e51d04b68' -hex
# printf '%s' "$SL_BODY" | openssl dgst -sha256 -hmac 'shpss_7f3a9c2e51d04b68' -binary | openssl base64 -A
SL_BODY = '{"id":"21064483841234567890","name":"#1001","total_price":"59.80","customer":{"first_name":"Zoë"}}'.encode()
SL_SECRET = "shpss_7f3a9c2e51d04b68"
SL_HEX = "1f73d35e447ca6f6623f3a5045fd589fe7dc45aa1cb8464176b73f06069d31ce"
SL_B64 = "H3PTXkR8pvZiPzpQRf1Yn+fcRaocuEZBdrc/BgadMc4="

# Shoplazza.
# printf '%s' "$SZ_BODY" | openssl dgst -sha256 -hmac 'spz_client_secret_4e8d' -binary | openssl base64 -A
SZ_BODY = b'{"id":"37593634-c272-4ed5-9096-1a4f1212125e","topic":"orders/create","total_price":"59.80"}'
SZ_SECRET = "spz_client_secret_4e8d"
SZ_SIGN = "VPyWRXDCFOLiL94Fs2+tADPSkRtC9dPBpvidmpCXe/w="

# UP42: Signature over the values of content-digest and date, concatenated, with the docs' example secret.
# DIG="sha-256=:$(printf '%s' "$UP_BODY" | openssl dgst -sha256 -binary | openssl base64 -A):"
# printf '%s%s' "$DIG" "$UP_DATE" | openssl dgst -sha256 -hmac 'QWZTFnMEXhqZKNmu' -binary | openssl base64 -A
UP_BODY = (
    b'{"event":"job.status","body":{"jobId":"1df1ebb0-78a4-55d9-b806-15d22e391bd3","status":"SUCCEEDED"}}'
)
UP_SECRET = "QWZTFnMEXhqZKNmu"
UP_CREATED = 1700000000
UP_DATE = "Tue, 14 Nov 2023 22:13:20 GMT"  # date -u -d @1700000000
UP_DIGEST = "sha-256=:ljXx65hRIVkPpZJk0tp0hTPFDvK+3qAXyDTHjNKvxhw=:"
UP_SIGNATURE = "pmZCxYkzPvXBIiE+Ixoijle57PGxBjM+4TqhVhgSCSQ="


def up42_headers(**changes: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Date": UP_DATE,
        "Content-Digest": UP_DIGEST,
        "Signature-Input": f'up42-sig=("content-digest" "date");created={UP_CREATED}',
        "Signature": f"up42-sig={UP_SIGNATURE}",
    }
    headers.update(changes)
    return headers


def reason(call: object, *args: object, **kwargs: object) -> str:
    """The SignatureError message a failing check raises with raise_on_failure=True."""
    assert callable(call)
    with pytest.raises(SignatureError) as caught:
        call(*args, raise_on_failure=True, **kwargs)
    return str(caught.value)


# -- the independent vectors -------------------------------------------------------------------------


def test_sign_functions_reproduce_the_openssl_vectors() -> None:
    assert sign_cjdropshipping(CJ_BODY, CJ_OPEN_ID) == CJ_SIGN
    assert sign_cjdropshipping(CJ_BODY, "12312") == CJ_SIGN  # the key is the openId's string form
    assert sign_shopline(SL_BODY, SL_SECRET) == SL_HEX
    assert sign_shopline(SL_BODY, SL_SECRET, encoding="base64") == SL_B64
    assert sign_shoplazza(SZ_BODY, SZ_SECRET) == SZ_SIGN
    assert content_digest(UP_BODY) == UP_DIGEST
    signed = sign_up42({"date": UP_DATE, "content-digest": UP_DIGEST}, UP_SECRET, created=UP_CREATED)
    assert signed == {
        "Signature-Input": f'up42-sig=("content-digest" "date");created={UP_CREATED}',
        "Signature": f"up42-sig={UP_SIGNATURE}",
    }


def test_cjdropshipping_accepts_the_vector_in_every_bytes_form() -> None:
    for body in (CJ_BODY, bytearray(CJ_BODY), memoryview(CJ_BODY)):
        assert verify_cjdropshipping(body, CJ_SIGN, CJ_OPEN_ID)
        assert verify_cjdropshipping(body, CJ_SIGN, "12312")
    assert verify_cjdropshipping(CJ_BODY, f"  {CJ_SIGN} ", CJ_OPEN_ID)  # surrounding blanks of a header value
    assert verify_cjdropshipping(CJ_BODY, CJ_SIGN.encode(), CJ_OPEN_ID)  # raw header bytes (ASGI)


def test_shopline_accepts_hex_upper_hex_and_base64() -> None:
    assert verify_shopline(SL_BODY, SL_HEX, SL_SECRET)
    assert verify_shopline(SL_BODY, SL_HEX.upper(), SL_SECRET)
    assert verify_shopline(SL_BODY, SL_B64, SL_SECRET)
    assert verify_shopline(SL_BODY, SL_HEX, SL_SECRET.encode())  # bytes secrets work too


def test_shoplazza_accepts_the_vector() -> None:
    assert verify_shoplazza(SZ_BODY, SZ_SIGN, SZ_SECRET)


def test_up42_accepts_the_vector_with_and_without_the_body() -> None:
    now = UP_CREATED + 10
    assert verify_up42(up42_headers(), UP_SECRET, now=now)
    assert verify_up42(up42_headers(), UP_SECRET, body=UP_BODY, now=now)
    lower = {name.lower(): value for name, value in up42_headers().items()}
    assert verify_up42(lower, UP_SECRET, body=UP_BODY, now=now)  # header names are case-insensitive
    rfc9421 = up42_headers(Signature=f"up42-sig=:{UP_SIGNATURE}:")  # the HTTP Message Signatures spelling
    assert verify_up42(rfc9421, UP_SECRET, body=UP_BODY, now=now)
    more = up42_headers(
        **{"Signature-Input": f'up42-sig=("content-digest" "date");created={UP_CREATED};alg="hmac-sha256"'}
    )
    assert verify_up42(more, UP_SECRET, now=now)  # parameters other than created are ignored
    two = up42_headers(
        **{
            "Signature-Input": f'other=("date");created=1, up42-sig=("content-digest" "date");created={UP_CREATED}',
            "Signature": f"other=:AAAA:, up42-sig={UP_SIGNATURE}",
        }
    )
    assert verify_up42(two, UP_SECRET, now=now)  # a dictionary with another member


# -- failures ------------------------------------------------------------------------------------------


def test_tampered_body_fails_everywhere() -> None:
    assert not verify_cjdropshipping(CJ_BODY.replace(b"12312,", b"12313,"), CJ_SIGN, CJ_OPEN_ID)
    assert not verify_shopline(SL_BODY + b" ", SL_HEX, SL_SECRET)
    assert not verify_shopline(SL_BODY.replace(b"59.80", b"0.01"), SL_B64, SL_SECRET)
    assert not verify_shoplazza(SZ_BODY.replace(b"59.80", b"5.98"), SZ_SIGN, SZ_SECRET)
    tampered = UP_BODY.replace(b"SUCCEEDED", b"FAILED")
    assert not verify_up42(up42_headers(), UP_SECRET, body=tampered, now=UP_CREATED)
    message = reason(verify_up42, up42_headers(), UP_SECRET, body=tampered, now=UP_CREATED)
    assert message == "UP42 webhook signature rejected: the body does not match the signed digest"


def test_reencoded_json_fails() -> None:
    # What a receiver that parses and re-serializes the body would check: other bytes, another signature.
    reencoded = SL_BODY.decode().replace("ë", "\\u00eb").encode()
    assert not verify_shopline(reencoded, SL_HEX, SL_SECRET)


def test_wrong_secret_fails_everywhere() -> None:
    assert not verify_cjdropshipping(CJ_BODY, CJ_SIGN, 12313)
    assert not verify_shopline(SL_BODY, SL_HEX, SL_SECRET + "x")
    assert not verify_shopline(SL_BODY, SL_B64, SL_SECRET + "x")
    assert not verify_shoplazza(SZ_BODY, SZ_SIGN, "another")
    assert not verify_up42(up42_headers(), "another-secret", now=UP_CREATED)
    assert reason(verify_shoplazza, SZ_BODY, SZ_SIGN, "another") == (
        "Shoplazza webhook signature rejected: X-Shoplazza-Hmac-Sha256 does not match the body and secret"
    )


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header_fails_and_says_which(header: str | None) -> None:
    assert not verify_cjdropshipping(CJ_BODY, header, CJ_OPEN_ID)
    assert not verify_shopline(SL_BODY, header, SL_SECRET)
    assert not verify_shoplazza(SZ_BODY, header, SZ_SECRET)
    assert reason(verify_cjdropshipping, CJ_BODY, header, CJ_OPEN_ID).endswith("missing header sign")
    assert reason(verify_shopline, SL_BODY, header, SL_SECRET).endswith(
        "missing header X-Shopline-Hmac-Sha256"
    )
    assert reason(verify_shoplazza, SZ_BODY, header, SZ_SECRET).endswith(
        "missing header X-Shoplazza-Hmac-Sha256"
    )


@pytest.mark.parametrize("value", ["not base64!", "ÿÿÿÿ", SL_HEX[:-1], SL_B64[:-4], SL_HEX + "00", "=" * 44])
def test_malformed_values_fail(value: str) -> None:
    assert not verify_shopline(SL_BODY, value, SL_SECRET)
    assert not verify_shoplazza(SZ_BODY, value, SZ_SECRET)
    assert not verify_cjdropshipping(CJ_BODY, value, CJ_OPEN_ID)


def test_base64_is_compared_as_the_canonical_text() -> None:
    # Same decoded bytes, but not the string CJ/Shoplazza send: compared as text, as CJ's docs say.
    assert not verify_shoplazza(SZ_BODY, SZ_SIGN.rstrip("="), SZ_SECRET)


def test_the_error_names_platform_and_reason_never_the_secret_or_the_value() -> None:
    with pytest.raises(SignatureError) as caught:
        verify_shopline(SL_BODY, SL_B64, "not-the-secret-6f1e", raise_on_failure=True)
    error = caught.value
    assert isinstance(error, WebhookError)
    assert (error.platform, error.reason) == (
        "SHOPLINE",
        "X-Shopline-Hmac-Sha256 does not match the body and secret",
    )
    for text in (str(error), repr(error)):
        assert "not-the-secret-6f1e" not in text and SL_B64 not in text
    assert type(error).__module__ == "pulumi_webhooks.errors"


def test_success_with_raise_on_failure_returns_true() -> None:
    assert verify_shopline(SL_BODY, SL_HEX, SL_SECRET, raise_on_failure=True) is True
    assert verify_up42(up42_headers(), UP_SECRET, body=UP_BODY, now=UP_CREATED, raise_on_failure=True) is True


# -- UP42 freshness and structure ----------------------------------------------------------------------


def test_up42_created_must_be_younger_than_300_seconds() -> None:
    # The signed Date header says the same time as `created`, so both age together.
    assert verify_up42(up42_headers(), UP_SECRET, now=UP_CREATED + 299)
    assert not verify_up42(up42_headers(), UP_SECRET, now=UP_CREATED + 300)
    assert reason(verify_up42, up42_headers(), UP_SECRET, now=UP_CREATED + 301).endswith(
        "created is 301 s old (at most 300 s accepted)"
    )
    assert verify_up42(up42_headers(), UP_SECRET, now=UP_CREATED + 500, max_age=600)


def test_up42_created_in_the_future_fails_as_up42s_snippet_rejects_it() -> None:
    assert verify_up42(up42_headers(), UP_SECRET, now=UP_CREATED)
    assert reason(verify_up42, up42_headers(), UP_SECRET, now=UP_CREATED - 1).endswith(
        "created lies 1 s in the future"
    )


def test_up42_a_replay_with_a_fresh_created_fails_on_the_signed_date() -> None:
    # `created` is outside the HMAC: an attacker can refresh it, but not the signed Date header.
    later = UP_CREATED + 3600
    replay = up42_headers(**{"Signature-Input": f'up42-sig=("content-digest" "date");created={later}'})
    assert reason(verify_up42, replay, UP_SECRET, now=later + 1).endswith(
        "the signed Date header is 3601 s old (at most 300 s accepted)"
    )


def test_up42_expires_parameter_is_honoured() -> None:
    headers = up42_headers(
        **{
            "Signature-Input": f'up42-sig=("content-digest" "date");created={UP_CREATED};expires={UP_CREATED + 5}'
        }
    )
    assert verify_up42(headers, UP_SECRET, now=UP_CREATED + 5)
    assert reason(verify_up42, headers, UP_SECRET, now=UP_CREATED + 6).endswith("the signature has expired")


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"Signature-Input": ""}, "missing header Signature-Input"),
        ({"Signature": ""}, "missing header Signature"),
        ({"Signature-Input": 'sig1=("date");created=1700000000'}, "Signature-Input has no up42-sig entry"),
        (
            {"Signature-Input": "up42-sig=content-digest;created=1700000000"},
            "Signature-Input up42-sig is malformed: not a list of header names",
        ),
        ({"Signature-Input": 'up42-sig=("content-digest" "date")'}, "Signature-Input has no created time"),
        ({"Signature-Input": "up42-sig=();created=1700000000"}, "Signature-Input lists no header"),
        ({"Signature": "sig1=abc"}, "Signature has no up42-sig entry"),
        ({"Signature": "up42-sig=%%%"}, "Signature is not a base64 HMAC-SHA256"),
        ({"Signature": "up42-sig=AAAA"}, "Signature is not a base64 HMAC-SHA256"),
        (
            {"Signature-Input": 'up42-sig=("content-digest" "x-missing");created=1700000000'},
            "missing header x-missing (listed in Signature-Input)",
        ),
        (
            {"Signature-Input": 'up42-sig=("@method" "date");created=1700000000'},
            "Signature-Input lists derived component @method, which UP42's scheme does not use",
        ),
        ({"Date": "Tue, 14 Nov 2023 22:13:21 GMT"}, "Signature does not match the signed headers and secret"),
    ],
)
def test_up42_structural_failures(changes: dict[str, str], why: str) -> None:
    headers = up42_headers(**changes)
    assert not verify_up42(headers, UP_SECRET, now=UP_CREATED)
    assert (
        reason(verify_up42, headers, UP_SECRET, now=UP_CREATED) == f"UP42 webhook signature rejected: {why}"
    )


def test_up42_without_a_signed_digest_verifies_but_not_the_body() -> None:
    # Issue 12 item 3: UP42's own snippet accepts a delivery whose listed headers include no digest.
    date_only = sign_up42({"Date": UP_DATE}, UP_SECRET, components=["date"], created=UP_CREATED)
    headers = {"Date": UP_DATE, **date_only}
    assert verify_up42(headers, UP_SECRET, now=UP_CREATED)
    assert verify_up42(headers, UP_SECRET, body=UP_BODY, now=UP_CREATED)
    assert verify_delivery("up42", UP_BODY, headers, UP_SECRET, now=UP_CREATED)
    result = check_up42(headers, UP_SECRET, body=UP_BODY, now=UP_CREATED)
    assert (result.valid, result.fresh, result.body_verified) == (True, True, False)
    assert reason(verify_up42, headers, UP_SECRET, body=UP_BODY, now=UP_CREATED, strict=True).endswith(
        "strict: no Content-Digest or Digest among the signed headers covers the body"
    )


def test_up42_rfc3230_digest_header_covers_the_body() -> None:
    # printf '%s' "$UP_BODY" | openssl dgst -sha256 -binary | openssl base64 -A
    digest = "SHA-256=ljXx65hRIVkPpZJk0tp0hTPFDvK+3qAXyDTHjNKvxhw="
    signed = sign_up42(
        {"Digest": digest, "Date": UP_DATE}, UP_SECRET, components=["digest", "date"], created=UP_CREATED
    )
    headers = {"Digest": digest, "Date": UP_DATE, **signed}
    assert verify_up42(headers, UP_SECRET, body=UP_BODY, now=UP_CREATED)
    assert not verify_up42(headers, UP_SECRET, body=UP_BODY + b" ", now=UP_CREATED)


# -- misuse is an exception, not False -----------------------------------------------------------------


@pytest.mark.parametrize("body", [SL_BODY.decode(), {"id": 1}, None])
def test_a_body_that_is_not_bytes_is_a_type_error(body: object) -> None:
    with pytest.raises(TypeError, match="raw request body as bytes"):
        verify_shopline(body, SL_HEX, SL_SECRET)  # type: ignore[arg-type]


def test_an_empty_secret_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        verify_shopline(SL_BODY, SL_HEX, "")
    with pytest.raises(ValueError, match="empty"):
        verify_cjdropshipping(CJ_BODY, CJ_SIGN, " ")
    with pytest.raises(ValueError, match="empty"):
        verify_up42(up42_headers(), b"")


# -- verify_delivery -----------------------------------------------------------------------------------


def test_verify_delivery_dispatches_on_the_platform_with_any_header_case() -> None:
    assert verify_delivery("cj", CJ_BODY, {"Sign": CJ_SIGN}, CJ_OPEN_ID)
    assert verify_delivery("cjdropshipping", CJ_BODY, {"sign": CJ_SIGN}, "12312")
    assert verify_delivery("SHOPLINE", SL_BODY, {"x-shopline-hmac-sha256": SL_HEX}, SL_SECRET)
    assert verify_delivery("shoplazza", SZ_BODY, {"X-SHOPLAZZA-HMAC-SHA256": SZ_SIGN}, SZ_SECRET)
    assert verify_delivery("up42", UP_BODY, up42_headers(), UP_SECRET, now=UP_CREATED)
    assert not verify_delivery("up42", UP_BODY + b"x", up42_headers(), UP_SECRET, now=UP_CREATED)
    assert not verify_delivery("shopline", SL_BODY, {}, SL_SECRET)
    with pytest.raises(SignatureError, match="missing header sign"):
        verify_delivery("cj", CJ_BODY, {}, CJ_OPEN_ID, raise_on_failure=True)
    with pytest.raises(ValueError, match="unknown platform"):
        verify_delivery("shopify", SL_BODY, {}, SL_SECRET)


# -- properties and packaging --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=300),
    secret=st.text(min_size=1, max_size=40).filter(str.strip),
    flip=st.integers(0, 10**6),
)
def test_round_trip_and_any_flipped_byte_fails(body: bytes, secret: str, flip: int) -> None:
    assert verify_shopline(body, sign_shopline(body, secret), secret)
    assert verify_shopline(body, sign_shopline(body, secret, encoding="base64"), secret)
    assert verify_shoplazza(body, sign_shoplazza(body, secret), secret)
    assert verify_cjdropshipping(body, sign_cjdropshipping(body, secret), secret)
    if body:
        changed = bytearray(body)
        changed[flip % len(body)] ^= 1 << (flip % 8)
        assert not verify_shopline(bytes(changed), sign_shopline(body, secret), secret)
        assert not verify_shoplazza(bytes(changed), sign_shoplazza(body, secret), secret)
        assert not verify_cjdropshipping(bytes(changed), sign_cjdropshipping(body, secret), secret)
    now = 1_800_000_000
    headers = {"Date": formatdate(now, usegmt=True), "Content-Digest": content_digest(body)}
    headers |= sign_up42(headers, secret, created=now)
    assert verify_up42(headers, secret, body=body, now=now + 1)
    assert not verify_up42(headers, secret, body=body + b"\0", now=now + 1)


def test_signatures_are_standard_base64_of_32_bytes() -> None:
    for value in (
        sign_shoplazza(b"", "k"),
        sign_cjdropshipping(b"", 1),
        sign_shopline(b"", "k", encoding="base64"),
    ):
        assert len(base64.b64decode(value, validate=True)) == 32 and value.endswith("=")


def test_importing_verify_loads_no_framework_pulumi_or_http_client() -> None:
    code = (
        "import sys, pulumi_webhooks.verify\n"
        "print(sorted(m for m in ('pulumi', 'httpx', 'pydantic', 'grpc', 'flask', 'fastapi') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
