"""The ``pulumi-webhooks`` command.

``pulumi-webhooks sandbox [--host H] [--port P] [--state-file F] ...`` serves the local emulator of the
four platforms' APIs (the same as ``python -m pulumi_webhooks.sandbox``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = """usage: pulumi-webhooks COMMAND [ARGS]

commands:
  sandbox    serve a local emulator of the platforms' webhook APIs (see `pulumi-webhooks sandbox --help`)
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "sandbox":
        from pulumi_webhooks.sandbox import main as sandbox_main

        return sandbox_main(rest)
    print(f"pulumi-webhooks: unknown command {command!r}\n\n{USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
