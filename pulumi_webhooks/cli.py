"""The ``pulumi-webhooks`` command: one subcommand per module, loaded only when it runs.

``pulumi-webhooks sandbox [--host H] [--port P] [--state-file F] ...`` serves the local emulator of the
four platforms' APIs (the same as ``python -m pulumi_webhooks.sandbox``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# name -> (module with a `main(argv) -> int`, one-line help). A new command is one line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "sandbox": ("pulumi_webhooks.sandbox", "serve a local emulator of the platforms' webhook APIs"),
    "discover": ("pulumi_webhooks.discover", "list the subscriptions a platform holds; --python adopts them"),
    "trigger": ("pulumi_webhooks.trigger", "send a correctly signed sample event to a receiver URL"),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return (
        "usage: pulumi-webhooks COMMAND [ARGS]   (`pulumi-webhooks COMMAND --help` for more)\n\ncommands:\n"
        + ("\n".join(lines) + "\n")
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage(), end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"pulumi-webhooks: unknown command {command!r}\n\n{usage()}", end="", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    code: int = module.main(rest)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
