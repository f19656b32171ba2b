"""provkit's regex language: one subset of Python ``re`` syntax, the same answers everywhere.

A ``$regex`` pattern is parsed here, checked against the subset below, and rendered
twice: as a Python pattern (memory repositories; SQLite's REGEXP function) and as a
PostgreSQL ARE. Both renderings are flag-free and spell every construct out (word
boundaries as look-arounds, ``\\d`` as ``[0-9]``, case-insensitivity as ``[aA]``), so the
two engines never disagree on a locale, a flag or an escape.

Supported (meaning as in Python ``re``, with ASCII classes):
  literals; ``\\`` before punctuation; ``\\n \\t \\r \\f \\v \\a \\xhh \\uhhhh \\Uhhhhhhhh``;
  ``.``; ``^ $``; ``\\A \\Z``; ``\\b \\B`` (ASCII word boundary); ``\\d \\w \\s \\D \\W \\S``
  (ASCII: ``[0-9]``, ``[A-Za-z0-9_]``, ``[ \\t\\n\\r\\f\\v]``); classes ``[a-z]`` ``[^...]``;
  groups ``(...)`` ``(?:...)``; look-arounds ``(?=...) (?!...) (?<=...) (?<!...)``
  (look-behinds of fixed width); alternation ``|``; quantifiers ``* + ? {n} {n,} {,m}
  {n,m}`` and their lazy forms (counts up to 255).
  Options (``$options``): ``i`` (ASCII letters only), ``m``, ``s``, ``x``.
Refused with a QueryError naming the construct: named groups and back-references,
inline flags ``(?i)``, comments ``(?#...)``, atomic groups and possessive quantifiers,
conditionals, POSIX classes ``[[:alpha:]]`` and other PostgreSQL-only escapes
(``\\y \\m \\M``), ``\\N{...}``, ``\\p``, octal escapes, NUL characters. Patterns are at
most 10,000 characters and 10,000 expanded atoms (``(a{200}){200}`` is refused).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from provkit.services.query_regex_render import atom_count, render

__all__ = ["Regex", "parse_regex", "RegexError"]

MAX_LENGTH = 10_000
MAX_ATOMS = 10_000
MAX_COUNT = 255
MAX_DEPTH = 50

_MAXCP = 0x10FFFF
_DIGIT = ((48, 57),)
_WORD = ((48, 57), (65, 90), (95, 95), (97, 122))
_SPACE = ((9, 13), (32, 32))
_ESCAPES = {"n": 10, "t": 9, "r": 13, "f": 12, "v": 11, "a": 7}
_CLASSES = {"d": (_DIGIT, False), "w": (_WORD, False), "s": (_SPACE, False),
            "D": (_DIGIT, True), "W": (_WORD, True), "S": (_SPACE, True)}  # fmt: skip
_PG_ONLY = set("yYmMe")


class RegexError(ValueError):
    """A pattern outside provkit's regex language (the message names the construct)."""


@dataclass(frozen=True)
class Regex:
    """A validated pattern with its Python and PostgreSQL renderings."""

    source: str
    options: str
    python: str
    postgres: str
    _compiled: Any = field(default=None, compare=False, repr=False)

    def search(self, text: Any) -> bool:
        return isinstance(text, str) and self._compiled.search(text) is not None


# ---- ranges of code points ---------------------------------------------------------


def _merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def _complement(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out, start = [], 0
    for lo, hi in _merge(list(ranges)):
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= _MAXCP:
        out.append((start, _MAXCP))
    return tuple(out)


def _fold(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Add the other case of every ASCII letter in ``ranges``."""
    extra = []
    for lo, hi in ranges:
        for a, z, shift in ((65, 90, 32), (97, 122, -32)):
            s, e = max(lo, a), min(hi, z)
            if s <= e:
                extra.append((s + shift, e + shift))
    return _merge([*ranges, *extra])


# ---- parser ------------------------------------------------------------------------
# nodes: ("lit", cp) ("set", ranges, negated) ("dot",) ("anchor", name) ("group", node)
#        ("look", kind, node) ("alt", [nodes]) ("seq", [nodes]) ("rep", node, lo, hi, lazy)


class _Parser:
    def __init__(self, pattern: str, options: str) -> None:
        self.s, self.i = pattern, 0
        self.icase, self.multi, self.dotall, self.verbose = (f in options for f in "imsx")

    def fail(self, message: str) -> RegexError:
        return RegexError(f"{message} (at position {self.i})")

    def peek(self, n: int = 1) -> str:
        return self.s[self.i : self.i + n]

    def skip_verbose(self) -> None:
        while self.verbose and self.i < len(self.s):
            if self.s[self.i] in " \t\n\r\f\v":
                self.i += 1
            elif self.s[self.i] == "#":
                end = self.s.find("\n", self.i)
                self.i = len(self.s) if end < 0 else end + 1
            else:
                return

    def parse(self) -> Any:
        node = self.alternation(0)
        if self.i < len(self.s):
            raise self.fail("unbalanced parenthesis ')'")
        return node

    def alternation(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(f"groups nested deeper than {MAX_DEPTH}")
        branches = [self.sequence(depth)]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence(depth))
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def sequence(self, depth: int) -> Any:
        items: list[Any] = []
        while True:
            self.skip_verbose()
            c = self.peek()
            if c in ("", "|", ")"):
                return ("seq", items)
            if c in "*+?" or (c == "{" and self.quantifier_ahead()):
                raise self.fail(f"nothing to repeat before {c!r}")
            atom = self.atom(depth)
            items.append(self.quantified(atom))

    def quantifier_ahead(self) -> bool:
        return re.match(r"\{(\d*)(,\d*)?\}", self.s[self.i :]) is not None and self.s[self.i : self.i + 2] != "{}"

    def quantified(self, atom: Any) -> Any:
        self.skip_verbose()
        c = self.peek()
        if c in ("*", "+", "?"):
            self.i += 1
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        elif c == "{" and self.quantifier_ahead():
            m = re.match(r"\{(\d*)(,(\d*))?\}", self.s[self.i :])
            assert m is not None
            if m.group(1) == "" and m.group(2) is None:
                return atom
            self.i += m.end()
            lo = int(m.group(1) or 0)
            hi = lo if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
            if lo > MAX_COUNT or (hi is not None and hi > MAX_COUNT):
                raise self.fail(f"repetition counts go up to {MAX_COUNT}")
            if hi is not None and hi < lo:
                raise self.fail("min repeat greater than max repeat")
        else:
            return atom
        if atom[0] in ("anchor", "look"):
            raise self.fail("nothing to repeat (a quantifier after an anchor or look-around)")
        lazy = self.peek() == "?"
        if lazy:
            self.i += 1
        nxt = self.peek()
        if nxt == "+":
            raise self.fail("possessive quantifiers are not supported")
        if nxt in ("*", "?") or (nxt == "{" and self.quantifier_ahead()):
            raise self.fail("multiple repeat")
        return ("rep", atom, lo, hi, lazy)

    def atom(self, depth: int) -> Any:
        c = self.s[self.i]
        self.i += 1
        if c == "(":
            return self.group(depth)
        if c == "[":
            return self.char_class()
        if c == ".":
            return ("dot",) if self.dotall else ("set", ((10, 10),), True)
        if c == "^":
            return ("anchor", "bol" if self.multi else "start")
        if c == "$":
            return ("anchor", "eol" if self.multi else "end")
        if c == "\\":
            return self.escape(in_class=False)
        return self.literal(ord(c))

    def check(self, cp: int) -> int:
        if cp == 0:
            raise self.fail("NUL characters are not supported")
        if 0xD800 <= cp <= 0xDFFF:
            raise self.fail("lone surrogates are not supported")
        return cp

    def literal(self, cp: int, fold: bool = True) -> Any:
        self.check(cp)
        if fold and self.icase and (65 <= cp <= 90 or 97 <= cp <= 122):
            return ("set", _fold(((cp, cp),)), False)
        return ("lit", cp)

    def group(self, depth: int) -> Any:
        kind = None
        if self.peek() == "?":
            head = self.s[self.i : self.i + 3]
            for prefix, k in (("?:", "group"), ("?=", "="), ("?!", "!"), ("?<=", "<="), ("?<!", "<!")):
                if head.startswith(prefix):
                    kind = k
                    self.i += len(prefix)
                    break
            else:
                raise self.fail(self.unsupported_group(head))
        body = self.alternation(depth + 1)
        if self.peek() != ")":
            raise self.fail("missing ), unterminated subpattern")
        self.i += 1
        if kind in (None, "group"):
            return ("group", body)
        return ("look", kind, body)

    @staticmethod
    def unsupported_group(head: str) -> str:
        if head.startswith("?P<") or head.startswith("?<"):
            return "named groups (?P<name>...) are not supported"
        if head.startswith("?P"):
            return "named back-references (?P=name) are not supported"
        if head.startswith("?#"):
            return "comments (?#...) are not supported; use the x option"
        if head.startswith("?>"):
            return "atomic groups (?>...) are not supported"
        if head.startswith("?("):
            return "conditional groups (?(...)...) are not supported"
        return "inline flags such as (?i) are not supported; use $options"

    def escape(self, *, in_class: bool) -> Any:
        if self.i >= len(self.s):
            raise self.fail("bad escape (end of pattern)")
        c = self.s[self.i]
        self.i += 1
        if c in _CLASSES:
            ranges, negated = _CLASSES[c]
            return ("set", ranges, negated)
        if c in _ESCAPES:
            return self.literal(_ESCAPES[c], fold=not in_class)
        if c in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[c]
            digits = self.s[self.i : self.i + width]
            if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise self.fail(f"bad escape \\{c}{digits}")
            self.i += width
            cp = int(digits, 16)
            if cp > _MAXCP:
                raise self.fail(f"bad escape \\{c}{digits}")
            return self.literal(cp, fold=not in_class)
        if c == "b":
            return self.literal(8, fold=False) if in_class else ("anchor", "word")
        if not in_class and c in "BAZ":
            return ("anchor", {"B": "nonword", "A": "abs_start", "Z": "abs_end"}[c])
        if c.isdigit():
            raise self.fail(f"back-references and octal escapes (\\{c}) are not supported")
        if c in _PG_ONLY:
            raise self.fail(f"\\{c} is PostgreSQL-only and not supported (use \\b for a word boundary)")
        if c == "N":
            raise self.fail("named characters \\N{...} are not supported")
        if c in "pP":
            raise self.fail(f"Unicode properties \\{c} are not supported")
        if c.isascii() and c.isalnum():
            raise self.fail(f"bad escape \\{c}")
        return self.literal(ord(c), fold=not in_class)

    def char_class(self) -> Any:
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            if self.i >= len(self.s):
                raise self.fail("unterminated character set")
            c = self.s[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "[":
                if self.peek(2) in ("[:", "[=", "[."):
                    raise self.fail("POSIX classes such as [[:alpha:]] are PostgreSQL-only and not supported")
                raise self.fail("a '[' inside a set must be escaped as \\[")
            if self.peek(2) in ("--", "&&", "~~", "||"):
                raise self.fail(f"{self.peek(2)!r} inside a set is reserved; escape one of the characters")
            lo = self.class_item()
            if self.peek() == "-" and self.peek(2) != "-]" and self.i + 1 < len(self.s):
                self.i += 1
                hi = self.class_item()
                if isinstance(lo, tuple) or isinstance(hi, tuple):
                    raise self.fail("bad character range (a class escape as a range end)")
                if hi < lo:
                    raise self.fail(f"bad character range {chr(lo)}-{chr(hi)}")
                ranges.append((lo, hi))
            elif isinstance(lo, tuple):
                ranges.extend(lo)
            else:
                ranges.append((lo, lo))
        merged = _merge(ranges)
        if self.icase:
            merged = _fold(merged)
        return ("set", merged, negated)

    def class_item(self) -> Any:
        """A code point, or a tuple of ranges for a class escape."""
        c = self.s[self.i]
        self.i += 1
        if c != "\\":
            return self.check(ord(c))
        node = self.escape(in_class=True)
        if node[0] == "set":
            _kind, ranges, negated = node
            return _complement(ranges) if negated else ranges
        return node[1]


def parse_regex(pattern: str, options: str = "") -> Regex:
    """Validate ``pattern`` against provkit's regex language; RegexError names what is wrong."""
    if len(pattern) > MAX_LENGTH:
        raise RegexError(f"patterns are at most {MAX_LENGTH:,} characters")
    node = _Parser(pattern, options).parse()
    if atom_count(node) > MAX_ATOMS:
        raise RegexError(f"pattern too complex (more than {MAX_ATOMS:,} atoms once repetitions are expanded)")
    python, postgres = render(node, False), render(node, True)
    try:
        compiled = re.compile(python)
    except re.error as exc:  # e.g. a look-behind of variable width
        raise RegexError(str(exc)) from exc
    return Regex(pattern, options, python, postgres, compiled)
