"""``pulumi-webhooks trigger PLATFORM TOPIC --to URL``: send one signed sample event to a receiver.

Tests a receiver (its routing, parsing and signature check) before any store, account or subscription
exists, as ``shopify app webhook trigger`` and ``stripe trigger`` do. The event is realistic (see
``_samples.py``) and signed exactly as the platform signs it (``verify.py``), with the secret from
``PULUMI_WEBHOOKS_TRIGGER_SECRET`` or ``--secret-stdin`` (default ``sandbox-secret``, printed) or, for
CJdropshipping, ``--open-id``. ``--secret S`` still works but warns: a command line is visible to every
user of the machine (``ps``, ``/proc/PID/cmdline``). Any URL is accepted, plain ``http://localhost``
included: it is your own receiver.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

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
        "--timeout", type=float, default=10.0, help="seconds to wait for the answer (default: 10)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the request (headers and body) instead of sending it"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
    if platform not in ("shopline", "shoplazza") and (args.shop_domain or args.api_version):
        parser.error("--shop-domain and --api-version apply to SHOPLINE and Shoplazza only")
    secret, source = _secret(platform, args)
    if secret == "":
        parser.error(f"the secret from {source} is empty")
    if args.secret is not None:
        print(SECRET_WARNING, file=sys.stderr)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    if not args.dry_run:
        problem = _url_problem(args.to)
        if problem:
            parser.error(problem)
    delivery = build_delivery(
        platform,
        topic,
        secret=secret,
        open_id=args.open_id,
        shop_domain=args.shop_domain,
        api_version=args.api_version,
        encoding=args.encoding,
    )
    key_note = _key_note(platform, args, source)
    if args.dry_run:
        print(f"# {platform} {topic}, {key_note}")
        for name, value in delivery.headers.items():
            print(f"{name}: {value}")
        print()
        print(delivery.body.decode("utf-8"))
        return 0
    return _send(delivery, args.to, args.timeout, key_note)


def _send(delivery: SampleDelivery, url: str, timeout: float, key_note: str) -> int:
    print(f"POST {url}: {delivery.platform} {delivery.topic}, {len(delivery.body)} bytes, {key_note}")
    host = urlsplit(url).hostname or ""
    started = time.monotonic()
    try:
        # No proxy for loopback: a proxy cannot reach the user's own machine. Redirects are not followed
        # (platforms do not follow them either).
        with httpx.Client(timeout=timeout, trust_env=not is_loopback_host(host)) as client:
            response = client.post(url, content=delivery.body, headers=delivery.headers)
    except httpx.TimeoutException:
        print(f"pulumi-webhooks trigger: no answer from {url} within {timeout:g} s", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        print(f"pulumi-webhooks trigger: could not deliver to {url}: {reason}", file=sys.stderr)
        return 1
    elapsed = (time.monotonic() - started) * 1000
    snippet = " ".join(response.text.split())
    if len(snippet) > SNIPPET:
        snippet = snippet[:SNIPPET] + "…"
    line = f"HTTP {response.status_code} {response.reason_phrase} in {elapsed:.0f} ms"
    if response.is_success:
        print(f"{line}{': ' + snippet if snippet else ''}")
        return 0
    print(f"{line}{': ' + snippet if snippet else ''}")
    print(
        f"pulumi-webhooks trigger: the receiver answered HTTP {response.status_code}; "
        f"{delivery.platform} counts anything but 2xx as a failed delivery and retries it",
        file=sys.stderr,
    )
    return 1


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


def _url_problem(url: str | None) -> str | None:
    if not url:
        return "--to URL is required (or --dry-run to print the request)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError as exc:
        return f"--to {url!r} is not a URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--to {url!r} must be an http:// or https:// URL with a host"
    return None


__all__ = ["build_parser", "main"]
