"""The ``pulumi-webhooks`` command: one argparse subcommand per module, loaded only when it runs.

``pulumi-webhooks sandbox [--host H] [--port P] [--state-file F] ...`` serves the local emulator of the
four platforms' APIs (the same as ``python -m pulumi_webhooks.sandbox``); ``pulumi-webhooks COMMAND
--help`` describes each command; ``pulumi-webhooks --version`` names the installed version.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys
from collections.abc import Sequence

DISTRIBUTION = "pulumi-webhooks"

# name -> (module with a `main(argv) -> int`, one-line help). A new command is one line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "sandbox": ("pulumi_webhooks.sandbox", "serve a local emulator of the platforms' webhook APIs"),
    "discover": ("pulumi_webhooks.discover", "list the subscriptions a platform holds; --python adopts them"),
    "trigger": ("pulumi_webhooks.trigger", "send a correctly signed sample event to a receiver URL"),
    "schema": ("pulumi_webhooks.plugin.schema", "print the package schema of the `webhooks` provider plugin"),
}


def version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # imported from a checkout that was never installed
        return "unknown (not installed: pip install .)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-webhooks",
        description="The commands that come with the pulumi-webhooks resources (which a Pulumi program declares).",
        epilog="`pulumi-webhooks COMMAND --help` describes a command's own options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, summary) in COMMANDS.items():
        # Each command parses its own arguments (its module's `main(argv)`, with its own --help): this
        # parser takes no option of its own (no prefix character) and hands every word on as it is.
        command = commands.add_parser(name, help=summary, add_help=False, prefix_chars="\0")
        command.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    module = importlib.import_module(COMMANDS[args.command][0])
    code: int = module.main(args.args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
