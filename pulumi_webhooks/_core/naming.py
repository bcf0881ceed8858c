"""Resource names derived from what a subscription is (its topic, display name or URL).

Shared by the components (one child per topic, named after it) and ``pulumi-webhooks discover`` (which
prints declarations named after what it found): both must give the same subscription the same name, so
that a name stays stable from one run to the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_SLUG_LENGTH = 60
_NOT_NAME = re.compile(r"[^a-z0-9]+")


def slug(text: str, *, max_length: int = MAX_SLUG_LENGTH) -> str:
    """A resource-name fragment: lowercase letters, digits and single hyphens (``orders/create`` ->
    ``orders-create``, ``Job status!`` -> ``job-status``); empty when ``text`` has nothing usable."""
    return _NOT_NAME.sub("-", text.lower()).strip("-")[:max_length].rstrip("-")


def url_slug(url: str) -> str:
    """A name fragment from a URL's host and path (``https://hooks.example.com/up42/jobs`` ->
    ``hooks-example-com-up42-jobs``)."""
    return slug(url.split("://", 1)[-1].split("?", 1)[0])


def unique_names(wanted: Iterable[str]) -> list[str]:
    """The names in order, a repeated one suffixed ``-2``, ``-3``… (the first keeps the plain name)."""
    taken: set[str] = set()
    names: list[str] = []
    for name in wanted:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}-{n}"
        taken.add(candidate)
        names.append(candidate)
    return names
