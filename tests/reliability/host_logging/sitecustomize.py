"""Put on a provider host's PYTHONPATH by the reliability tests: Python imports ``sitecustomize`` at
start-up, so every log record of the host (every logger, DEBUG and up) reaches its stderr, where the
secrets audit reads it. The dynamic provider host configures no logging of its own."""

from __future__ import annotations

import logging
import sys

logging.basicConfig(
    level=logging.DEBUG, stream=sys.stderr, format="LOG %(levelname)s %(name)s: %(message)s", force=True
)
