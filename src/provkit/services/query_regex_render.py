"""Rendering a parsed pattern (``query_regex``'s tree) as Python and PostgreSQL regexes,
and counting its atoms once repetitions are expanded."""

from __future__ import annotations

from typing import Any

__all__ = ["atom_count", "render"]


_W_PY = "[0-9A-Za-z_]"
_ANCHORS = {
    #          Python                                   PostgreSQL
    "start": (r"\A", r"\A"),
    "end": (r"(?=\n?\Z)", r"(?=\n?$)"),
    "bol": (r"(?:\A|(?<=\n))", r"(?:^|(?<=\n))"),
    "eol": (r"(?=\n|\Z)", r"(?=\n|$)"),
    "abs_start": (r"\A", r"\A"),
    "abs_end": (r"\Z", r"\Z"),
    "word": (f"(?:(?<={_W_PY})(?!{_W_PY})|(?<!{_W_PY})(?={_W_PY}))",) * 2,
    "nonword": (f"(?:(?<={_W_PY})(?={_W_PY})|(?<!{_W_PY})(?!{_W_PY}))",) * 2,
}


def _char(cp: int, pg: bool) -> str:
    if cp < 128 and chr(cp).isalnum():
        return chr(cp)
    if 32 < cp < 127:
        return "\\" + chr(cp)
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def _set(ranges: tuple[tuple[int, int], ...], negated: bool, pg: bool) -> str:
    if pg:  # PostgreSQL text holds neither NUL nor surrogates: leave them out of ranges
        clipped = []
        for lo, hi in ranges:
            for a, b in ((lo, min(hi, 0xD7FF)), (max(lo, 0xE000), hi)):
                a = max(a, 1)
                if a <= b:
                    clipped.append((a, b))
        ranges = tuple(clipped)
    if not ranges:
        return ("(?s:.)" if not pg else ".") if negated else "(?!)"
    body = "".join(_char(lo, pg) if lo == hi else f"{_char(lo, pg)}-{_char(hi, pg)}" for lo, hi in ranges)
    return f"[{'^' if negated else ''}{body}]"


def render(node: Any, pg: bool) -> str:
    kind = node[0]
    if kind == "lit":
        return _char(node[1], pg)
    if kind == "set":
        return _set(node[1], node[2], pg)
    if kind == "dot":
        return "." if pg else "(?s:.)"
    if kind == "anchor":
        return _ANCHORS[node[1]][1 if pg else 0]
    if kind == "group":
        return f"(?:{render(node[1], pg)})"
    if kind == "look":
        return f"(?{node[1]}{render(node[2], pg)})"
    if kind == "alt":
        return "(?:" + "|".join(render(b, pg) for b in node[1]) + ")"
    if kind == "seq":
        return "".join(render(n, pg) for n in node[1])
    _, atom, lo, hi, lazy = node
    body = render(atom, pg)
    if atom[0] not in ("lit", "set", "dot", "group"):
        body = f"(?:{body})"
    count = {(0, None): "*", (1, None): "+", (0, 1): "?"}.get((lo, hi))
    if count is None:
        count = f"{{{lo}}}" if hi == lo else f"{{{lo},}}" if hi is None else f"{{{lo},{hi}}}"
    return body + count + ("?" if lazy else "")


def atom_count(node: Any) -> int:
    kind = node[0]
    if kind in ("alt", "seq"):
        return sum(atom_count(n) for n in node[1]) or 1
    if kind in ("group",):
        return atom_count(node[1])
    if kind == "look":
        return atom_count(node[2])
    if kind == "rep":
        return atom_count(node[1]) * max(node[2], node[3] or node[2] + 1, 1)
    return 1
