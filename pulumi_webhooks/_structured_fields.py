"""A linear-time parser of HTTP structured fields (RFC 8941), as HTTP Message Signatures (RFC 9421) use.

Used by :mod:`pulumi_webhooks.verify` for ``Signature-Input``, ``Signature`` and ``Content-Digest``.
Each step consumes at least one character or stops, so parsing costs O(length); the only regular
expressions are single character classes repeated (a run of key or token characters), which cannot
backtrack. Values longer than :data:`MAX_FIELD` are refused before any parsing. Any departure from the
grammar raises :class:`StructuredFieldError` (RFC 8941 says a parser must fail the whole field).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import NamedTuple

MAX_FIELD = 8192  # characters: bigger header values are refused outright
# Members, items and parameters in one field. RFC 8941 section 3 asks parsers to support 1024 members,
# 256 inner-list items and 256 parameters; this bound keeps the worst 8 KiB field to about 2 ms of CPU.
MAX_ELEMENTS = 1024

# One character class each, repeated: matching is a single forward scan (no backtracking is possible).
_KEY_REST = re.compile(r"[a-z0-9_\-.*]*")
_TOKEN_REST = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_DIGITS = re.compile(r"[0-9]*")
_SP = re.compile(r" *")
_OWS = re.compile(r"[ \t]*")
_STRING_RUN = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII except '"' and '\'
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]*")
_LCALPHA_OR_STAR = frozenset("abcdefghijklmnopqrstuvwxyz*")
_ALPHA_OR_STAR = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz*")


class StructuredFieldError(ValueError):
    """The value is not a structured field of the expected type (the message says where and why)."""


class Token(NamedTuple):
    """An sf-token (``date`` in ``("date")`` when unquoted, ``?1`` is a bool, not a token)."""

    value: str


BareItem = int | float | str | bytes | bool | Token
Parameters = dict[str, BareItem]


class Item(NamedTuple):
    value: BareItem
    params: Parameters


class InnerList(NamedTuple):
    items: tuple[Item, ...]
    params: Parameters


Member = Item | InnerList


def parse_dictionary(text: str) -> dict[str, Member]:
    """An sf-dictionary (RFC 8941 section 4.2.2): ``key=value, key2=(a b);p=1``; later keys win."""
    parser = _Parser(text)
    members: dict[str, Member] = {}
    while not parser.done():
        key = parser.key()
        if parser.peek() == "=":
            parser.pos += 1
            members[key] = parser.item_or_inner_list()
        else:
            parser.count()
            members[key] = Item(True, parser.parameters())
        parser.skip_ows()
        if parser.done():
            return members
        parser.expect(",")
        parser.skip_ows()
        if parser.done():
            raise parser.error("a trailing comma")
    if not members:
        raise parser.error("an empty dictionary")
    return members


def parse_list(text: str) -> list[Member]:
    """An sf-list (RFC 8941 section 4.2.1): ``a, (b c);p, "d"``."""
    parser = _Parser(text)
    members: list[Member] = []
    while not parser.done():
        members.append(parser.item_or_inner_list())
        parser.skip_ows()
        if parser.done():
            return members
        parser.expect(",")
        parser.skip_ows()
        if parser.done():
            raise parser.error("a trailing comma")
    return members


class _Parser:
    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise StructuredFieldError(f"expected text, got {type(text).__name__}")
        if len(text) > MAX_FIELD:
            raise StructuredFieldError(f"longer than {MAX_FIELD} characters")
        if not text.isascii():
            raise StructuredFieldError("not ASCII")
        self.text = text.strip(" ")
        self.pos = 0
        self.budget = MAX_ELEMENTS

    def count(self) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise self.error(f"more than {MAX_ELEMENTS} members, items and parameters")

    def error(self, what: str) -> StructuredFieldError:
        return StructuredFieldError(f"{what} at character {self.pos}")

    def done(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected {char!r}")
        self.pos += 1

    def skip_sp(self) -> None:
        if self.text.startswith(" ", self.pos):
            self._run(_SP, 0)

    def skip_ows(self) -> None:
        if self.peek() in (" ", "\t"):  # most fields have none: skip the regex call
            self._run(_OWS, 0)

    def item_or_inner_list(self) -> Member:
        self.count()
        if self.peek() == "(":
            return self.inner_list()
        return Item(self.bare_item(), self.parameters())

    def inner_list(self) -> InnerList:
        self.expect("(")
        items: list[Item] = []
        while not self.done():
            self.skip_sp()
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.parameters())
            self.count()
            items.append(Item(self.bare_item(), self.parameters()))
            if self.peek() not in (" ", ")"):
                raise self.error("expected a space or ')' in an inner list")
        raise self.error("an unterminated inner list")

    def parameters(self) -> Parameters:
        params: Parameters = {}
        while self.peek() == ";":
            self.count()
            self.pos += 1
            self.skip_sp()
            key = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[key] = value
        return params

    def key(self) -> str:
        if self.peek() not in _LCALPHA_OR_STAR:
            raise self.error("expected a key (lowercase letter or '*')")
        return self._run(_KEY_REST, 1)

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == "-" or (char.isdigit() and char.isascii()):
            return self.number()
        if char == '"':
            return self.string()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            return self.boolean()
        if char and char in _ALPHA_OR_STAR:
            return Token(self._run(_TOKEN_REST, 1))
        raise self.error("expected an item")

    def number(self) -> int | float:
        start = self.pos
        negative = self.peek() == "-"
        if negative:
            self.pos += 1
        whole = self._run(_DIGITS, 0)
        if not whole:
            raise self.error("expected a digit")
        if self.peek() != ".":
            if len(whole) > 15:
                raise self.error("an integer of more than 15 digits")
            return -int(whole) if negative else int(whole)
        self.pos += 1
        fraction = self._run(_DIGITS, 0)
        if len(whole) > 12 or not 1 <= len(fraction) <= 3:
            self.pos = start
            raise self.error("a malformed decimal")
        value = float(f"{whole}.{fraction}")
        return -value if negative else value

    def string(self) -> str:
        self.expect('"')
        parts: list[str] = []
        while True:
            parts.append(self._run(_STRING_RUN, 0))
            char = self.peek()
            if char == '"':
                self.pos += 1
                return "".join(parts)
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if escaped not in ('"', "\\"):
                    raise self.error("a bad escape in a string")
                parts.append(escaped)
                self.pos += 2
                continue
            raise self.error("an unterminated string" if self.done() else "a control character in a string")

    def byte_sequence(self) -> bytes:
        self.expect(":")
        encoded = self._run(_BASE64_RUN, 0)
        self.expect(":")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise self.error("a byte sequence that is not base64") from exc

    def boolean(self) -> bool:
        self.expect("?")
        char = self.peek()
        if char not in ("0", "1"):
            raise self.error("expected ?0 or ?1")
        self.pos += 1
        return char == "1"

    def _run(self, pattern: re.Pattern[str], skip: int) -> str:
        start = self.pos
        match = pattern.match(self.text, start + skip)
        assert match is not None  # a repeated class matches the empty string at worst
        self.pos = match.end()
        return self.text[start : self.pos]


__all__ = [
    "MAX_ELEMENTS",
    "MAX_FIELD",
    "InnerList",
    "Item",
    "Member",
    "StructuredFieldError",
    "Token",
    "parse_dictionary",
    "parse_list",
]
