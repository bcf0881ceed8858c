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
    """A logging filter that masks registered secrets in every record it sees: its message, and the
    traceback or stack it carries (formatted here, once, as a handler would)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()
_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """A logger whose records pass the redactor. Every module of the package logs through one of
    these: a logger's filters apply only to records logged on that very logger, not its children."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


get_logger("httpx")  # httpx logs each request line; it holds no credential, but belt and braces
