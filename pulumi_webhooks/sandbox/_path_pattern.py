"""Fault-rule path patterns: a subset of regular expressions matched in linear time.

Python's `re` backtracks: `(a+)+$` against forty `a`s and a `!` runs for hours while holding the
interpreter lock, which stalled every endpoint and made the sandbox deaf to SIGTERM. A fault pattern is
therefore compiled here into a Thompson automaton and simulated state set by state set (no
backtracking), so a match costs at most `len(path) x states` steps, with both bounded:

- syntax: literals, `.`, classes `[a-z0-9_]`/`[^/]`, escapes `\\d \\w \\s \\D \\W \\S` and escaped
  punctuation, groups `(…)`/`(?:…)`, alternation `|`, quantifiers `* + ? {m} {m,} {m,n}` (a trailing
  `?` makes one lazy, which changes nothing for a yes/no search), anchors `^` and `$`. Backreferences,
  lookarounds, flags and named groups are refused.
- at most `MAX_PATTERN` characters, `MAX_REPEAT` in a `{m,n}` and `MAX_STATES` automaton states;
  a path longer than `MAX_PATH` characters matches no fault rule.

Semantics are those of `re.search` for this subset: the pattern may match anywhere in the path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

MAX_PATTERN = 200  # characters
MAX_REPEAT = 20  # the largest m or n of a {m,n}
MAX_STATES = 200  # automaton states after expanding repeats
MAX_PATH = 2048  # characters; a longer path matches no fault rule

CharTest = Callable[[str], bool]

_CLASS_ESCAPES: dict[str, CharTest] = {
    "d": str.isdecimal,
    "D": lambda c: not c.isdecimal(),
    "w": lambda c: c.isalnum() or c == "_",
    "W": lambda c: not (c.isalnum() or c == "_"),
    "s": str.isspace,
    "S": lambda c: not c.isspace(),
}
_LITERAL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}


# -- syntax tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Char:
    test: CharTest


@dataclass(frozen=True)
class _Assert:
    at: str  # "start" or "end"


@dataclass(frozen=True)
class _Concat:
    parts: tuple[_Node, ...]


@dataclass(frozen=True)
class _Alt:
    options: tuple[_Node, ...]


@dataclass(frozen=True)
class _Repeat:
    node: _Node
    low: int
    high: int | None  # None: unbounded


_Node = _Char | _Assert | _Concat | _Alt | _Repeat


class _Syntax:
    """Recursive descent over the pattern (at most MAX_PATTERN characters deep)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> ValueError:
        return ValueError(f"{what} at position {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> _Node:
        node = self.alternation()
        if self.pos != len(self.text):
            raise self.fail("unbalanced parenthesis")
        return node

    def alternation(self) -> _Node:
        options = [self.concatenation()]
        while self.peek() == "|":
            self.pos += 1
            options.append(self.concatenation())
        return options[0] if len(options) == 1 else _Alt(tuple(options))

    def concatenation(self) -> _Node:
        parts: list[_Node] = []
        while self.peek() not in ("", "|", ")"):
            parts.append(self.repetition())
        return _Concat(tuple(parts))

    def repetition(self) -> _Node:
        atom = self.atom()
        quantifier = self.quantifier()
        if quantifier is None:
            return atom
        if isinstance(atom, _Assert):
            raise self.fail("nothing to repeat")
        if self.peek() == "?":  # lazy: the same yes/no answer
            self.pos += 1
        if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self._counted() is not None):
            raise self.fail("multiple repeat")
        return _Repeat(atom, *quantifier)

    def quantifier(self) -> tuple[int, int | None] | None:
        char = self.peek()
        if char in ("*", "+", "?"):
            self.pos += 1
            return {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        if char == "{":
            counted = self._counted()
            if counted is not None:
                self.pos, low, high = counted
                if low > MAX_REPEAT or (high is not None and high > MAX_REPEAT):
                    raise self.fail(f"a repeat count over {MAX_REPEAT}")
                if high is not None and high < low:
                    raise self.fail("a repeat range min > max")
                return low, high
        return None

    def _counted(self) -> tuple[int, int, int | None] | None:
        """`{m}`, `{m,}`, `{m,n}` at pos: (end, m, n), or None when it is a literal `{` (as in `re`)."""
        end = self.text.find("}", self.pos)
        if end < 0:
            return None
        low, comma, high = self.text[self.pos + 1 : end].partition(",")
        if not low and comma and high:  # `{,n}` is `{0,n}`, as in `re`
            low = "0"
        if not (low.isascii() and low.isdigit()) or (high and not (high.isascii() and high.isdigit())):
            return None
        if len(low) > 4 or len(high) > 4:
            raise self.fail(f"a repeat count over {MAX_REPEAT}")
        return end + 1, int(low), (int(high) if high else None) if comma else int(low)

    def atom(self) -> _Node:
        char = self.peek()
        if char in ("*", "+", "?"):
            raise self.fail("nothing to repeat")
        if char == "{" and self._counted() is not None:
            raise self.fail("nothing to repeat")
        self.pos += 1
        if char == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self.peek() == "?":
                raise self.fail("lookarounds, flags and named groups are not supported")
            inner = self.alternation()
            if self.peek() != ")":
                raise self.fail("missing ), unterminated subpattern")
            self.pos += 1
            return inner
        if char == ")":
            raise self.fail("unbalanced parenthesis")
        if char == "[":
            return _Char(self.char_class())
        if char == ".":
            return _Char(lambda c: c != "\n")
        if char == "^":
            return _Assert("start")
        if char == "$":
            return _Assert("end")
        if char == "\\":
            return _Char(self.escape(in_class=False))
        return _Char(char.__eq__)

    def escape(self, *, in_class: bool) -> CharTest:
        char = self.peek()
        if not char:
            raise self.fail("a bad escape (end of pattern)")
        self.pos += 1
        if char in _CLASS_ESCAPES:
            return _CLASS_ESCAPES[char]
        if char in _LITERAL_ESCAPES:
            return _LITERAL_ESCAPES[char].__eq__
        if char.isascii() and not char.isalnum():  # escaped punctuation is itself, as in `re`
            return char.__eq__
        raise self.fail(f"a bad or unsupported escape \\{char}")

    def char_class(self) -> CharTest:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        tests: list[CharTest] = []
        singles: set[str] = set()
        ranges: list[tuple[str, str]] = []
        first = True
        while True:
            char = self.peek()
            if not char:
                raise self.fail("an unterminated character set")
            if char == "]" and not first:
                self.pos += 1
                break
            first = False
            low = self._class_member(tests)
            if low is None:
                continue
            if self.peek() == "-" and self.text[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.pos += 1
                high = self._class_member(tests)
                if high is None or high < low:
                    raise self.fail("a bad character range")
                ranges.append((low, high))
            else:
                singles.add(low)
        frozen, spans, classes = frozenset(singles), tuple(ranges), tuple(tests)

        def member(c: str) -> bool:
            found = c in frozen or any(a <= c <= b for a, b in spans) or any(t(c) for t in classes)
            return found != negated

        return member

    def _class_member(self, tests: list[CharTest]) -> str | None:
        """One character of a class, or None when it was a class escape (added to `tests`)."""
        char = self.peek()
        self.pos += 1
        if char != "\\":
            return char
        escaped = self.peek()
        if escaped in _CLASS_ESCAPES:
            self.pos += 1
            tests.append(_CLASS_ESCAPES[escaped])
            return None
        if escaped in _LITERAL_ESCAPES:
            self.pos += 1
            return _LITERAL_ESCAPES[escaped]
        if escaped.isascii() and escaped and not escaped.isalnum():
            self.pos += 1
            return escaped
        raise self.fail(f"a bad or unsupported escape \\{escaped}")


# -- automaton -----------------------------------------------------------------------------------------


class _Automaton:
    """Thompson NFA: state i is ("char", test, next) | ("split", a, b) | ("assert", at, next) | ("match",)."""

    def __init__(self) -> None:
        self.states: list[list[object]] = []

    def add(self, *state: object) -> int:
        if len(self.states) >= MAX_STATES:
            raise ValueError(f"the pattern needs more than {MAX_STATES} states (repeats expand it)")
        self.states.append(list(state))
        return len(self.states) - 1

    def build(self, node: _Node, then: int) -> int:
        """States for `node` that continue at `then`; returns the entry state."""
        if isinstance(node, _Char):
            return self.add("char", node.test, then)
        if isinstance(node, _Assert):
            return self.add("assert", node.at, then)
        if isinstance(node, _Concat):
            for part in reversed(node.parts):
                then = self.build(part, then)
            return then
        if isinstance(node, _Alt):
            entries = [self.build(option, then) for option in node.options]
            entry = entries[-1]
            for other in reversed(entries[:-1]):
                entry = self.add("split", other, entry)
            return entry
        # _Repeat: optional copies first (built from the end), then the mandatory ones.
        if node.high is None:
            loop = self.add("split", -1, then)
            self.states[loop][1] = self.build(node.node, loop)
            then = loop
        else:
            for _ in range(node.high - node.low):
                then = self.add("split", self.build(node.node, then), then)
        for _ in range(node.low):
            then = self.build(node.node, then)
        return then


_MATCH = 0  # the automaton's first state is its accepting one


@dataclass(frozen=True)
class PathPattern:
    """A compiled fault path pattern; `search(path)` answers as `re.search(pattern, path) is not None`."""

    source: str
    _states: tuple[tuple[object, ...], ...]
    _start: int

    def search(self, path: str) -> bool:
        if len(path) > MAX_PATH:
            return False
        current = self._closure({self._start}, path, 0)
        for pos, char in enumerate(path):
            if _MATCH in current:
                return True
            following: set[int] = set()
            for state in current:
                kind, test, then = self._states[state][:3]
                if kind == "char" and test(char):  # type: ignore[operator]
                    following.add(then)  # type: ignore[arg-type]
            following.add(self._start)  # a search may begin at any position
            current = self._closure(following, path, pos + 1)
        return _MATCH in current

    def _closure(self, seeds: set[int], path: str, pos: int) -> set[int]:
        """The states reachable from `seeds` without reading a character (each visited once)."""
        seen: set[int] = set()
        stack = list(seeds)
        while stack:
            state = stack.pop()
            if state in seen:
                continue
            seen.add(state)
            kind = self._states[state][0]
            if kind == "split":
                stack.extend(self._states[state][1:3])  # type: ignore[arg-type]
            elif kind == "assert":
                at, then = self._states[state][1:3]
                if (at == "start" and pos == 0) or (at == "end" and pos == len(path)):
                    stack.append(then)  # type: ignore[arg-type]
        return {s for s in seen if self._states[s][0] in ("char", "match")}


@functools.lru_cache(maxsize=256)
def compile_path_pattern(source: str) -> PathPattern:
    """Compile a fault path pattern (see the module docstring); ValueError says what is wrong."""
    if not isinstance(source, str):
        raise TypeError("a path pattern is text")
    if len(source) > MAX_PATTERN:
        raise ValueError(f"longer than {MAX_PATTERN} characters")
    automaton = _Automaton()
    match = automaton.add("match")  # state _MATCH
    start = automaton.build(_Syntax(source).parse(), match)
    states = tuple(tuple(state) for state in automaton.states)
    return PathPattern(source, states, start)


__all__ = ["MAX_PATH", "MAX_PATTERN", "MAX_REPEAT", "MAX_STATES", "PathPattern", "compile_path_pattern"]
