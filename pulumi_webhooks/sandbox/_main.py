"""`python -m pulumi_webhooks.sandbox` (and `pulumi-webhooks sandbox`): serve until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._core import Sandbox, Settings
from ._registry import default_platforms
from ._server import is_loopback_name, serve

READY = "pulumi-webhooks sandbox listening on {url}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-webhooks sandbox",
        description="Serve a local emulator of the platforms' webhook APIs.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (0 picks a free one; default: 8787)")
    parser.add_argument("--state-file", help="JSON file: loaded at start if present, saved after each write")
    parser.add_argument("--token", help="accept only this access token (default: any non-empty token)")
    parser.add_argument("--no-rate-limits", action="store_true", help="never answer 429 for rate limits")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every platform request")
    parser.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept this name in the Host header (any port; e.g. a container's name); repeatable",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.allow_remote and not is_loopback_name(args.host):
        # The sandbox accepts any token and has an unauthenticated admin API: keep it off the network.
        parser.error(f"refusing to bind non-loopback host {args.host!r} without --allow-remote")
    if args.latency < 0:
        parser.error("--latency must be >= 0")
    settings = Settings(rate_limits=not args.no_rate_limits, latency=args.latency, token=args.token)
    try:
        sandbox = Sandbox(default_platforms(), settings=settings, state_file=args.state_file)
        server = serve(sandbox, args.host, args.port, allowed_hosts=args.allow_host)
    except (OSError, ValueError) as exc:
        print(f"pulumi-webhooks sandbox: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        print(READY.format(url=server.url), flush=True)
        while not stop.wait(0.2):  # a timed wait keeps the main thread responsive to signals
            pass
    finally:
        server.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
