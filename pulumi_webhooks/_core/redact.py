"""Process-wide register of secret values, and the redactor every message and log record passes.

Every credential the package resolves (input, stack config or environment) is registered here before
it is used, so that an error message or log line can never carry it even when a platform echoes it.
"""

from __future__ import annotations

import logging
import threading

_MIN_SECRET_LENGTH = 4  # shorter values would redact ordinary words
_lock = threading.Lock()
_secrets: set[str] = set()

MASK = "[redacted]"


def register_secret(value: str | None) -> None:
    """Remember a secret value so that `redact` hides it from now on."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` with a mask."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks registered secrets in every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


logger = logging.getLogger("pulumi_webhooks")
logger.addFilter(RedactingFilter())
