"""Topic and event catalogs, and the "did you mean" hint for a name that is not in one."""

from __future__ import annotations

import difflib
from collections.abc import Collection

from pulumi_webhooks._core.redact import excerpt

# A name this much longer than every catalog entry is not a typo of one: no "did you mean" search
# (difflib's cost grows with the length, and a hostile megabyte must not cost seconds at preview).
MAX_TYPO_EXTRA = 16


def unknown_name_reason(name: str, catalog: Collection[str], *, what: str, where: str) -> str:
    """The check failure text for ``name`` missing from ``catalog`` (with the closest matches); the name
    is quoted as a short, escaped excerpt."""
    close: list[str] = []
    if len(name) <= max(map(len, catalog), default=0) + MAX_TYPO_EXTRA:
        close = difflib.get_close_matches(name, sorted(catalog), n=3, cutoff=0.6)
        if not close:
            lowered = {entry.lower(): entry for entry in catalog}
            if name.lower() in lowered:
                close = [lowered[name.lower()]]
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown {what} {excerpt(name)} for {where}{hint}"
