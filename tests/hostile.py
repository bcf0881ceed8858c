"""Hostile inputs shared by the URL-rule tests and the provider-host tests: the corpus of callback URLs
no provider may accept (tests/core/hostile_urls.txt)."""

from __future__ import annotations

import codecs
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "core" / "hostile_urls.txt"


def hostile_urls() -> list[str]:
    """The URLs of hostile_urls.txt, one per line, with their escapes (``\\u202e``) decoded; lines are
    kept whole (a leading or trailing space is part of the URL)."""
    lines = CORPUS.read_text(encoding="utf-8").split("\n")
    return [
        codecs.decode(line.encode("raw_unicode_escape"), "unicode_escape")
        for line in lines
        if line and not line.startswith("#")
    ]
