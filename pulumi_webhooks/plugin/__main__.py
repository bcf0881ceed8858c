"""``python -m pulumi_webhooks.plugin <engine address>``, or ``python pulumi_webhooks/plugin <engine
address>``: what the Pulumi CLI's Python language host runs for PulumiPlugin.yaml (its ``main``)."""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as a directory: import the package from this checkout, not this folder
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from pulumi_webhooks.plugin import main

raise SystemExit(main())
