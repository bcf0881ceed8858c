"""``pulumi-webhooks trigger PLATFORM TOPIC --to URL``: send one signed sample event to a receiver.

Tests a receiver (its routing, parsing and signature check) before any store, account or subscription
exists, as ``shopify app webhook trigger`` and ``stripe trigger`` do. The event is realistic (see
``_samples.py``) and signed exactly as the platform signs it (``verify.py``), with the secret from
``PULUMI_WEBHOOKS_TRIGGER_SECRET`` or ``--secret-stdin`` (default ``sandbox-secret``, printed) or, for
CJdropshipping, ``--open-id``. ``--secret S`` still works but warns: a command line is visible to every
user of the machine (``ps``, ``/proc/PID/cmdline``). Any URL is accepted, plain ``http://localhost``
included: it is your own receiver.

``--timeout`` bounds the whole exchange (connect, send, the answer's headers and body), not each step
as httpx's timeouts do, so a receiver that answers one byte a second cannot keep the command running;
at most :data:`ANSWER_LIMIT` bytes of the answer are read, and what is shown of it is escaped
(:func:`~pulumi_webhooks._core.redact.excerpt`), so it cannot play tricks on the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from pulumi_webhooks._core.redact import clip, excerpt, register_secret
from pulumi_webhooks._core.urls import is_loopback_host
from pulumi_webhooks._samples import (
    DEFAULT_API_VERSIONS,
    DEFAULT_OPEN_ID,
    DEFAULT_SECRET,
    DEFAULT_SHOP_DOMAINS,
    PLATFORMS,
    SampleDelivery,
    build_delivery,
    catalog,
    check_topic,
    platform_name,
)

SNIPPET = 300  # characters of the receiver's answer shown
ANSWER_LIMIT = 64 * 1024  # bytes of the receiver's answer read (plenty for SNIPPET characters)
LONG_MAX = 2**63 - 1  # CJ's openId is a Java Long
_OPEN_ID = re.compile(r"[1-9][0-9]*")  # as CJ writes the number: ASCII digits, no leading zero
_VISIBLE_ASCII = re.compile(r"[!-~]+")  # what a header value of ours may hold (no space, no control)
SECRET_ENV = "PULUMI_WEBHOOKS_TRIGGER_SECRET"  # noqa: S105 (the variable's name, not a secret)
SECRET_WARNING = (
    "pulumi-webhooks trigger: warning: --secret puts the secret in the process list (ps, /proc) and the "
    f"shell history; set {SECRET_ENV} or pipe it to --secret-stdin instead"
)
EPILOG = """\
topics:
  cjdropshipping  message types: {cj}
  shopline        topics of the event version, e.g. orders/create, products/update (pulumi_webhooks.shopline.TOPICS)
  shoplazza       topics, e.g. orders/create, products/update (pulumi_webhooks.shoplazza.TOPICS)
  up42            events: {up42}

signing keys:
  SHOPLINE: the app secret; Shoplazza: the app's client secret; UP42: the webhook's secret (from
  {env}, or --secret-stdin; default "{secret}"); CJdropshipping: the account's openId
  (--open-id, default {open_id}).

examples:
  {env}="$APP_SECRET" pulumi-webhooks trigger shopline orders/create --to http://127.0.0.1:8000/shopline
  pass show shopline/app-secret | pulumi-webhooks trigger shopline orders/create --to http://127.0.0.1:8000/shopline --secret-stdin
  pulumi-webhooks trigger cj LOGISTIC --to http://localhost:3000/cj --open-id 123456789
  pulumi-webhooks trigger up42 job.status --dry-run
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-webhooks trigger",
        description="Send a realistic, correctly signed sample event of PLATFORM and TOPIC to a receiver.",
        epilog=EPILOG.format(
            cj=", ".join(sorted(catalog("cjdropshipping"))),
            up42=", ".join(sorted(catalog("up42"))),
            secret=DEFAULT_SECRET,
            open_id=DEFAULT_OPEN_ID,
            env=SECRET_ENV,
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("platform", metavar="PLATFORM", help=f"one of {', '.join(PLATFORMS)} (or cj)")
    parser.add_argument(
        "topic", metavar="TOPIC", help="topic, CJ message type or UP42 event, e.g. orders/create"
    )
    parser.add_argument("--to", metavar="URL", help="the receiver's URL (http or https; localhost is fine)")
    parser.add_argument(
        "--secret",
        help=f"signing secret on the command line (visible in the process list: prefer {SECRET_ENV} or "
        "--secret-stdin)",
    )
    parser.add_argument(
        "--secret-stdin",
        action="store_true",
        help="read the signing secret of SHOPLINE, Shoplazza or the UP42 webhook from standard input "
        f"(one line); without it, {SECRET_ENV} or the default {DEFAULT_SECRET!r}",
    )
    parser.add_argument(
        "--open-id",
        help=f"CJdropshipping: the openId that signs and appears in the event (default: {DEFAULT_OPEN_ID})",
    )
    parser.add_argument(
        "--shop-domain",
        help=f"SHOPLINE/Shoplazza shop domain header (default: {' / '.join(DEFAULT_SHOP_DOMAINS.values())})",
    )
    parser.add_argument(
        "--api-version",
        help=f"SHOPLINE event version / Shoplazza API version header (default: {' / '.join(DEFAULT_API_VERSIONS.values())})",
    )
    parser.add_argument(
        "--encoding",
        choices=("hex", "base64"),
        default="hex",
        help="SHOPLINE signature encoding: hex (the official SDK; default) or base64 (the docs' example)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=10.0,
        help="seconds the whole delivery may take: connecting, sending and the complete answer (default: 10)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the request (headers and body) instead of sending it"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for option, value in (("--shop-domain", args.shop_domain), ("--api-version", args.api_version)):
        if value is not None and not _VISIBLE_ASCII.fullmatch(value):
            parser.error(
                f"{option} {excerpt(value)} must be visible ASCII characters (no spaces, not empty): "
                "it is sent as a header value"
            )
    try:
        platform = platform_name(args.platform)
        topic = check_topic(platform, args.topic, args.api_version)
    except ValueError as exc:
        parser.error(str(exc))
    if platform == "cjdropshipping" and (args.secret is not None or args.secret_stdin):
        parser.error("CJdropshipping signs deliveries with the account's openId: use --open-id, not --secret")
    if args.secret is not None and args.secret_stdin:
        parser.error("give the secret once: --secret or --secret-stdin")
    if platform != "cjdropshipping" and args.open_id is not None:
        parser.error("--open-id applies to CJdropshipping only")
    if platform not in ("shopline", "shoplazza") and (
        args.shop_domain is not None or args.api_version is not None
    ):
        parser.error("--shop-domain and --api-version apply to SHOPLINE and Shoplazza only")
    open_id = None
    if args.open_id is not None:
        open_id = args.open_id.strip()  # as verify_cjdropshipping strips the key
        register_secret(open_id)  # the signing key: masked should the receiver echo it
        problem = _open_id_problem(open_id)
        if problem:
            parser.error(problem)  # the value is never quoted: it is the signing key
    try:
        secret, source = _secret(platform, args)
    except UnicodeDecodeError:
        parser.error("the secret from --secret-stdin is not valid UTF-8 text")
    if secret == "":
        parser.error(f"the secret from {source} is empty")
    if secret is not None and not _is_utf8(secret):  # undecodable bytes in argv or the environment
        parser.error(f"the secret from {source} is not valid UTF-8 text")
    register_secret(secret)
    if args.secret is not None:
        print(SECRET_WARNING, file=sys.stderr)
    url = None
    if not args.dry_run:
        try:
            url = _target(args.to)
        except ValueError as exc:
            parser.error(str(exc))
    delivery = build_delivery(
        platform,
        topic,
        secret=secret,
        open_id=open_id,
        shop_domain=args.shop_domain,
        api_version=args.api_version,
        encoding=args.encoding,
    )
    key_note = _key_note(platform, args, source)
    if url is None:  # --dry-run
        print(f"# {platform} {topic}, {key_note}")
        for name, value in delivery.headers.items():
            print(f"{name}: {value}")
        print()
        print(delivery.body.decode("utf-8"))
        return 0
    return _send(delivery, url, args.timeout, key_note)


@dataclass
class _Answer:
    """The receiver's answer: its status line as soon as it arrives, then its body (capped)."""

    status: int = 0  # 0 until the status line has arrived
    reason: str = ""
    body: bytes = b""
    encoding: str = "utf-8"
    cut: bool = False  # longer than ANSWER_LIMIT: the rest was not read


def _send(delivery: SampleDelivery, url: httpx.URL, timeout: float, key_note: str) -> int:
    print(f"POST {url}: {delivery.platform} {delivery.topic}, {len(delivery.body)} bytes, {key_note}")
    answer = _Answer()
    started = time.monotonic()
    try:
        # One deadline for the whole exchange: httpx's timeouts apply to each connect, read and write,
        # so a receiver trickling its answer would otherwise never time out; cancellation stops a read
        # that is still waiting when the deadline comes.
        asyncio.run(asyncio.wait_for(_exchange(delivery, url, timeout, answer), timeout))
    except (asyncio.TimeoutError, httpx.TimeoutException):
        if not answer.status:
            problem = f"no answer from {url} within {timeout:g} s"
        else:
            problem = f"{url} answered HTTP {answer.status} but did not end its answer within {timeout:g} s"
        print(f"pulumi-webhooks trigger: {problem}", file=sys.stderr)
        return 1
    except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
        print(f"pulumi-webhooks trigger: could not deliver to {url}: {_reason(exc)}", file=sys.stderr)
        return 1
    elapsed = (time.monotonic() - started) * 1000
    line = f"HTTP {answer.status} {answer.reason} in {elapsed:.0f} ms"
    text = " ".join(_decoded(answer).split())
    if text:
        line += f": {excerpt(text, SNIPPET)}"  # redacted, escaped (controls, bidi, invisible) and cut
    if answer.cut:
        line += f" (the answer is longer than {ANSWER_LIMIT // 1024} KiB; the rest was not read)"
    print(line)
    if 200 <= answer.status < 300:
        return 0
    print(
        f"pulumi-webhooks trigger: the receiver answered HTTP {answer.status}; "
        f"{delivery.platform} counts anything but 2xx as a failed delivery and retries it",
        file=sys.stderr,
    )
    return 1


def _decoded(answer: _Answer) -> str:
    """The answer's body as text, in its declared charset, else UTF-8 (a charset that names a codec
    but not a text encoding, such as base64 or idna, falls back to UTF-8 too)."""
    try:
        return answer.body.decode(answer.encoding, "replace")
    except (LookupError, ValueError):  # "not a text encoding"; UnicodeError: no "replace" handling
        return answer.body.decode("utf-8", "replace")


def _reason(exc: BaseException) -> str:
    """``exc`` in one line, with the system's reason it wraps (anyio says "All connection attempts
    failed" and keeps the "Connection refused" in the exception it was raised from)."""
    reason = str(exc) or type(exc).__name__
    root = exc
    for _ in range(16):  # the innermost of the chain (bounded: a chain may loop)
        inner = root.__cause__ or root.__context__
        if inner is None:
            break
        root = inner
    if isinstance(root, OSError) and root.errno and root.errno > 0:
        system = os.strerror(root.errno)
        if system not in reason:
            reason = f"{reason} ({system})"
    return clip(reason, SNIPPET)


async def _exchange(delivery: SampleDelivery, url: httpx.URL, timeout: float, answer: _Answer) -> None:
    """POST the delivery and read the answer into ``answer``, at most ANSWER_LIMIT bytes of its body."""
    # No proxy for loopback: a proxy cannot reach the user's own machine. Redirects are not followed
    # (platforms do not follow them either).
    trust_env = not is_loopback_host(url.host)
    async with (
        httpx.AsyncClient(timeout=timeout, trust_env=trust_env) as client,
        client.stream("POST", url, content=delivery.body, headers=delivery.headers) as response,
    ):
        answer.status = response.status_code
        answer.reason = " ".join(response.reason_phrase.split())
        answer.encoding = response.encoding or "utf-8"
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > ANSWER_LIMIT:
                answer.cut = True
                break
        answer.body = bytes(body[:ANSWER_LIMIT])


def _secret(platform: str, args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The signing secret and where it came from (None, None: the public default)."""
    if platform == "cjdropshipping":
        return None, None  # the openId signs; a SHOPLINE secret left in the environment is not it
    if args.secret is not None:
        return args.secret, "--secret"
    if args.secret_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r"), "--secret-stdin"
    if SECRET_ENV in os.environ:
        return os.environ[SECRET_ENV], SECRET_ENV
    return None, None


def _key_note(platform: str, args: argparse.Namespace, source: str | None) -> str:
    # A key the user chose is never printed; the public default is, so the receiver can be set to it.
    if platform == "cjdropshipping":
        return (
            "signed with --open-id"
            if args.open_id is not None
            else f"signed with the default openId {DEFAULT_OPEN_ID}"
        )
    if source is not None:
        return f"signed with {source}"
    return f"signed with the default secret {json.dumps(DEFAULT_SECRET)} (set {SECRET_ENV} to use your receiver's)"


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _seconds(text: str) -> float:
    """``--timeout``: a finite number of seconds above 0."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {excerpt(text)}")
    return seconds


def _open_id_problem(open_id: str) -> str | None:
    """Why ``open_id`` cannot be CJ's openId, or None. It is the HMAC key, used as text, and the event's
    ``openId``, a number: only the number's own spelling is both (``0123`` would sign with "0123" while
    the body says 123, which CJ never sends)."""
    if not open_id:
        return "--open-id is empty: give the account's openId (the resource output open_id)"
    if not _OPEN_ID.fullmatch(open_id) or int(open_id) > LONG_MAX:
        return (
            "--open-id must be the account's openId as CJ writes it: a positive whole number in ASCII "
            "digits without leading zeros (the resource output open_id)"
        )
    return None


def _target(text: str | None) -> httpx.URL:
    """The ``--to`` URL as httpx sends it; ValueError saying why it cannot be sent to."""
    if not text:
        raise ValueError("--to URL is required (or --dry-run to print the request)")
    shown = excerpt(text, 80)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError as exc:
        raise ValueError(f"--to {shown} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--to {shown} must be an http:// or https:// URL with a host")
    try:
        url = httpx.URL(text)
        url.host  # noqa: B018 (decodes the A-labels: IDNAError for an invalid one such as xn--zz)
        # The host as the resolver encodes it (empty or over-long labels fail there, not in httpx).
        url.raw_host.decode("ascii").encode("idna")
    except (httpx.InvalidURL, UnicodeError) as exc:  # IDNAError is a UnicodeError
        reason = clip(str(exc), 120) or type(exc).__name__
        raise ValueError(f"--to {shown} is not a valid URL: {reason}") from None
    return url


__all__ = ["build_parser", "main"]
