"""A Mongo-style query language, compiled to SQL (SQLite, PostgreSQL) or run in Python.

    {"name": "m.train", "version": {"$gte": 2}, "custom_fields.owner": {"$in": ["ana", "bo"]},
     "$or": [{"tags": "prod"}, {"inputs.lr": {"$lt": 0.1}}], "based_on": "x1..."}

Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $regex $exists $and $or $nor $not``; a
plain value means ``$eq``. Dotted paths reach into JSON documents; a field holding an
array matches when any element matches (Mongo semantics); datetimes compare as
datetimes. Values are always bound parameters. Anything malformed raises QueryError
naming the offending part.

A *schema* (``Fields``) says what a document is: which names are columns, which are JSON
documents (with paths below them) and which are arrays. The same schema drives the SQL
compiler (``query_sql``) and the Python evaluator here, so both give the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from .errors import ProvkitError

__all__ = ["QueryError", "Fields", "matches", "validate"]

_COMPARE = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
_FIELD_OPS = frozenset({*_COMPARE, "$in", "$nin", "$regex", "$exists", "$not", "$options"})
_LOGIC = frozenset({"$and", "$or", "$nor"})
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
_SCALAR = (str, int, float, bool, type(None), datetime, date)


class QueryError(ProvkitError, ValueError):
    """A query that is malformed, uses an unknown operator or field, or a wrong value type."""

    def __init__(self, message: str, *, part: Any = None) -> None:
        super().__init__(message)
        self.part = part


@dataclass
class Fields:
    """What a document is made of, for one kind of record.

    ``columns``: name -> column (scalar); ``json``: name -> JSON column (dotted paths
    below it); ``arrays``: name -> ``member(condition)`` giving an SQL EXISTS over the
    elements (the Python side reads ``document[name]`` as a list); ``aliases`` map a
    name onto another (or onto a JSON path, ``'user': 'run.user'``).
    """

    columns: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    #: JSON paths ("root.a.b") that always hold strings: compiled to a plain comparison
    #: that an expression index on the same path can serve
    text_paths: frozenset[str] = frozenset()

    def resolve(self, path: str) -> tuple[str, str, list[str]]:
        """(kind, root name, sub path) for a dotted field path."""
        if not isinstance(path, str) or not _PATH.match(path):
            raise QueryError(f"invalid field name {path!r}", part=path)
        head, *rest = path.split(".")
        head = self.aliases.get(head, head)
        if "." in head:  # an alias onto a JSON path
            head, *prefix = head.split(".")
            rest = prefix + rest
        if head in self.columns and not rest:
            return "column", head, []
        if head in self.arrays and not rest:
            return "array", head, []
        if head in self.json:
            return "json", head, rest
        known = sorted({*self.columns, *self.json, *self.arrays, *self.aliases})
        raise QueryError(f"unknown field {path!r}; known fields: {', '.join(known)}", part=path)


def _check_value(op: str, value: Any, path: str) -> None:
    if op in ("$in", "$nin"):
        if not isinstance(value, (list, tuple)):
            raise QueryError(f"{path}: {op} needs a list, got {type(value).__name__}", part={op: value})
        for v in value:
            _check_value("$eq", v, path)
    elif op == "$regex":
        if not isinstance(value, str):
            raise QueryError(f"{path}: $regex needs a string pattern", part={op: value})
        try:
            re.compile(value)
        except re.error as exc:
            raise QueryError(f"{path}: bad $regex {value!r}: {exc}", part={op: value}) from exc
    elif op == "$exists":
        if not isinstance(value, bool):
            raise QueryError(f"{path}: $exists needs true or false", part={op: value})
    elif not isinstance(value, _SCALAR):
        raise QueryError(
            f"{path}: {op} compares with scalars (str, number, bool, null, datetime), got {type(value).__name__}",
            part={op: value},
        )
    if op in ("$gt", "$gte", "$lt", "$lte") and (value is None or isinstance(value, bool)):
        raise QueryError(f"{path}: {op} needs a number, string or datetime", part={op: value})


def _field_ops(path: str, condition: Any) -> list[tuple[str, Any]]:
    """The (operator, value) pairs of one field's condition, validated."""
    if isinstance(condition, Mapping) and any(isinstance(k, str) and k.startswith("$") for k in condition):
        unknown = [k for k in condition if k not in _FIELD_OPS]
        if unknown:
            raise QueryError(f"{path}: unknown operator(s) {unknown}", part=condition)
        ops = []
        for op, value in condition.items():
            if op == "$options":
                if condition.get("$regex") is None or not isinstance(value, str) or set(value) - set("imsx"):
                    raise QueryError(f"{path}: $options goes with $regex and holds flags from 'imsx'", part=condition)
                continue
            if op == "$not":
                if not isinstance(value, Mapping):
                    raise QueryError(f"{path}: $not needs an operator document", part=condition)
                _field_ops(path, value)
            else:
                _check_value(op, value, path)
            ops.append((op, value))
        return ops
    _check_value("$eq", condition, path)
    return [("$eq", condition)]


def validate(query: Any, fields: Fields) -> None:
    """Raise QueryError for anything malformed (compile_query and matches call it)."""
    if not isinstance(query, Mapping):
        raise QueryError(f"a query is a mapping, got {type(query).__name__}", part=query)
    for key, value in query.items():
        if key in _LOGIC:
            if not isinstance(value, list) or not value:
                raise QueryError(f"{key} needs a non-empty list of queries", part={key: value})
            for sub in value:
                validate(sub, fields)
        elif isinstance(key, str) and key.startswith("$"):
            raise QueryError(f"unknown top-level operator {key!r}", part=key)
        else:
            kind, _, rest = fields.resolve(key)
            if kind == "json" and not rest:
                raise QueryError(f"{key!r} is a document: query a path inside it, e.g. '{key}.name'", part=key)
            _field_ops(key, value)


# ---- Python evaluation ----------------------------------------------------------------


def _normalize(value: Any) -> Any:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return value


def _lookup(document: Any, path: list[str]) -> tuple[bool, Any]:
    current = document
    for part in path:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return False, None
    return True, current


def _compare(op: str, actual: Any, expected: Any) -> bool:
    actual, expected = _normalize(actual), _normalize(expected)
    if isinstance(expected, (datetime, date)) and isinstance(actual, str):
        expected = expected.isoformat()  # datetimes inside JSON are ISO strings, as in SQL
    if op == "$eq":
        return _same_kind(actual, expected) and actual == expected
    if op == "$ne":
        return not (_same_kind(actual, expected) and actual == expected)
    if not _same_kind(actual, expected) or actual is None or isinstance(actual, bool):
        return False
    if op == "$gt":
        return actual > expected
    if op == "$gte":
        return actual >= expected
    if op == "$lt":
        return actual < expected
    return actual <= expected


def _same_kind(a: Any, b: Any) -> bool:
    """Mongo compares within a type: numbers with numbers, strings with strings..."""
    number = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, number) and isinstance(b, number):
        return True
    return type(a) is type(b) or (isinstance(a, datetime) and isinstance(b, datetime))


def _value_matches(op: str, expected: Any, present: bool, actual: Any, flags: str) -> bool:
    candidates = actual if isinstance(actual, list) else [actual]
    if op == "$exists":
        return present is expected
    if op == "$ne":
        return not _value_matches("$eq", expected, present, actual, flags)
    if op == "$nin":
        return not _value_matches("$in", expected, present, actual, flags)
    if not present:
        return op == "$eq" and expected is None
    if op == "$in":
        return any(_compare("$eq", c, e) for c in candidates for e in expected)
    if op == "$regex":
        pattern = re.compile(expected, _re_flags(flags))
        return any(isinstance(c, str) and pattern.search(c) is not None for c in candidates)
    return any(_compare(op, c, expected) for c in candidates)


def _re_flags(flags: str) -> int:
    return (
        (re.I if "i" in flags else 0)
        | (re.M if "m" in flags else 0)
        | (re.S if "s" in flags else 0)
        | (re.X if "x" in flags else 0)
    )


def matches(document: Mapping, query: Mapping, fields: Fields) -> bool:
    """Whether a document (a dict shaped like ``fields``) satisfies the query."""
    validate(query, fields)
    return _matches(document, query, fields)


def _matches(document: Mapping, query: Mapping, fields: Fields) -> bool:
    for key, value in query.items():
        if key == "$and":
            ok = all(_matches(document, q, fields) for q in value)
        elif key == "$or":
            ok = any(_matches(document, q, fields) for q in value)
        elif key == "$nor":
            ok = not any(_matches(document, q, fields) for q in value)
        else:
            _kind, root, rest = fields.resolve(key)
            present, actual = _lookup(document, [root, *rest])
            ok = _field_matches(fields, key, value, present, actual)
        if not ok:
            return False
    return True


def _field_matches(fields: Fields, key: str, condition: Any, present: bool, actual: Any) -> bool:
    flags = condition.get("$options", "") if isinstance(condition, Mapping) else ""
    for op, expected in _field_ops(key, condition):
        if op == "$not":
            if _field_matches(fields, key, expected, present, actual):
                return False
        elif not _value_matches(op, expected, present, actual, flags):
            return False
    return True
