"""Process-wide register of secret values, and the redactor every message and log record passes.

Every credential the package resolves (input, stack config or environment) is registered here before
it is used, so that an error message or log line can never carry it even when a platform echoes it.

- A secret is masked in every form a message or log line may spell it: as is, repr- and bytes-repr-
  escaped (``tok\\n`` in h11's "Illegal header value b'Bearer tok\\n'"), JSON-escaped (``\\u00e9``,
  ``\\/``), percent-encoded (either hex case, ``+`` for spaces) and base64.
- Every registered secret is masked whatever its length. One shorter than :data:`MIN_SECRET_LENGTH`
  is masked only where it stands alone (not inside a longer word), or a one-character secret would mask
  every occurrence of that letter; ``check`` refuses such short secrets where a platform takes them.
- Text is redacted *before* it is cut (:func:`clip`, :func:`excerpt`), and a cut that ends inside what
  may be a secret masks that tail too.
- Redaction happens when a log record is made (a wrapper around the log record factory), so it covers
  every logger of the process, httpx, httpcore and its children (``httpcore.http11`` …), hpack and
  ours, whatever handlers are attached; the package loggers also carry :class:`RedactingFilter`, in case
  another library replaces the record factory later.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

MIN_SECRET_LENGTH = 4  # a shorter secret is masked only where it stands alone
MASK = "[redacted]"
ELLIPSIS = "…"

_lock = threading.Lock()
_secrets: set[str] = set()  # replaced wholesale by the tests (a fresh register per test)
# The register sorted longest first, with the register object and its size it was sorted from.
_ordered: list[tuple[set[str], int, tuple[str, ...]]] = []


def register_secret(value: str | None) -> None:
    """Remember a secret value so that `redact` hides it from now on (any non-empty value)."""
    if value:
        with _lock:
            _secrets.add(value)


def _registered() -> tuple[str, ...]:
    """The registered secrets, longest first (so a secret containing another is masked whole)."""
    with _lock:
        if not _ordered or _ordered[0][0] is not _secrets or _ordered[0][1] != len(_secrets):
            _ordered[:] = [(_secrets, len(_secrets), tuple(sorted(_secrets, key=len, reverse=True)))]
        return _ordered[0][2]


@functools.lru_cache(maxsize=4096)
def _forms(secret: str) -> tuple[str, ...]:
    """Every spelling of ``secret`` a message may carry, the plain one first."""
    utf8 = secret.encode("utf-8", "surrogatepass")
    quoted = repr(secret)[1:-1]
    forms = [
        secret,
        quoted,
        quoted.replace("'", "\\'"),  # as quoted inside '...' when repr chose "..."
        quoted.replace("\\'", "'"),
        ascii(secret)[1:-1],
        repr(utf8)[2:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
        quote(utf8, safe=""),
        quote(utf8, safe="/"),
        quote_plus(utf8, safe=""),
        base64.b64encode(utf8).decode().rstrip("="),
        base64.urlsafe_b64encode(utf8).decode().rstrip("="),
    ]
    forms += [_lower_hex(form) for form in forms if "%" in form]
    unique: list[str] = []
    for form in forms:
        if form and form not in unique:
            unique.append(form)
    return tuple(unique)


def _lower_hex(percent_encoded: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), percent_encoded)


@functools.lru_cache(maxsize=4096)
def _standalone(form: str) -> re.Pattern[str]:
    """A short secret, matched only where no letter or digit touches it."""
    return re.compile(rf"(?<![^\W_]){re.escape(form)}(?![^\W_])")


def redact(text: str) -> str:
    """Replace every registered secret (in each of its forms) in ``text`` with a mask."""
    for secret in _registered():
        short = len(secret) < MIN_SECRET_LENGTH
        for form in _forms(secret):
            if form not in text:
                continue
            text = _standalone(form).sub(MASK, text) if short else text.replace(form, MASK)
    return text


# Characters that would break a message's one line or play tricks on a terminal: controls (line
# breaks, ESC), and the invisible and bidirectional format characters.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\xad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+")


def clip(text: str, limit: int) -> str:
    """``text`` redacted, made one line (controls and invisible characters become spaces, runs of
    spaces one), then cut to at most ``limit`` characters (an ellipsis marks the cut). A cut that ends
    inside what may be a secret (its first four characters or more) masks that tail too."""
    cleaned = " ".join(_UNPRINTABLE.sub(" ", redact(text)).split())
    if len(cleaned) <= limit:
        return cleaned
    cut = cleaned[: max(0, limit - len(ELLIPSIS))]
    return _mask_partial_tail(cut) + ELLIPSIS


def _mask_partial_tail(cut: str) -> str:
    for secret in _registered():
        for form in _forms(secret):
            for size in range(min(len(form), len(cut) + 1) - 1, MIN_SECRET_LENGTH - 1, -1):
                if cut.endswith(form[:size]):
                    return cut[:-size] + MASK
    return cut


def visible(text: str) -> str:
    """``text`` with every character that does not print (control and escape sequences, line breaks,
    bidi and zero-width marks, lone surrogates) written as its Python escape: what a platform or a
    server chose cannot move the cursor, rewrite a terminal's lines or hide what follows."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def excerpt(value: object, limit: int = 40) -> str:
    """A short, safe quotation of an input for a message: redacted, cut to ``limit`` characters, and
    quoted the way ``repr`` quotes (control, invisible and bidi characters escaped); a cut one says how
    long the value was. Never echo a raw input in a message: use this."""
    text = value if isinstance(value, str) else repr(value)
    cleaned = redact(text)
    if len(cleaned) <= limit:
        return repr(cleaned)
    return f"{_mask_partial_tail(cleaned[:limit])!r}{ELLIPSIS} ({len(text)} characters)"


# -- log records ------------------------------------------------------------------------------------
_TRACEBACKS = logging.Formatter()


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Mask registered secrets in ``record``: its message (formatted here, once, with its arguments),
    and the traceback or stack it carries (formatted here, once, as a handler would)."""
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the format: logging would print them raw
        message = f"{record.msg} [log arguments that could not be formatted were dropped]"
    cleaned = redact(message)
    if cleaned != message or record.args:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = _TRACEBACKS.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """A logging filter that masks registered secrets in every record it sees (:func:`scrub`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        return True


_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """A logger whose records pass the redactor. Every module of the package logs through one of
    these (the record factory below covers every logger already; this filter stays if a library
    replaces the factory after us)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def _redacting_factory(base: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub(base(*args, **kwargs))

    make_record.redacts = True  # type: ignore[attr-defined]
    return make_record


def install_record_factory() -> None:
    """Redact every log record of the process as it is made (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "redacts", False):
        logging.setLogRecordFactory(_redacting_factory(current))


install_record_factory()
# The loggers the process is known to use, filtered too (a logger's filters see only its own records).
for _name in (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "hpack",
    "pulumi_webhooks",
):
    get_logger(_name)
