"""``pulumi-webhooks schema``: print the ``webhooks`` plugin's package schema (JSON) to stdout."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pulumi-webhooks schema",
        description="Print the package schema the `webhooks` provider plugin serves (what "
        "`pulumi package add` and SDK generation read).",
    )
    parser.add_argument("--indent", type=int, default=2, help="JSON indentation (0: one line)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from pulumi_webhooks.plugin._schema import package_schema

    print(json.dumps(package_schema(), indent=args.indent or None, sort_keys=False))
    return 0
