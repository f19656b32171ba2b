"""A Mongo-style query language, compiled to SQL (SQLite, PostgreSQL) or run in Python.

    {"name": "m.train", "version": {"$gte": 2}, "custom_fields.owner": {"$in": ["ana", "bo"]},
     "$or": [{"tags": "prod"}, {"inputs.lr": {"$lt": 0.1}}], "based_on": "x1..."}

Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $regex $exists $and $or $nor $not``; a
plain value means ``$eq``. Dotted paths reach into JSON documents; a field holding an
array matches when any element matches (Mongo semantics); a missing field (or a column
holding NULL) matches ``$ne``, ``$nin``, ``$not``, ``$exists: false`` and ``$eq: null``.
Time fields take datetimes, dates or ISO-8601 strings. Patterns follow provkit's regex
language (``query_regex``). Values are always bound parameters. Anything malformed
raises QueryError naming the offending part, in one line.

``prepare`` validates a query once and gives the normalized tree that the SQL compiler
(``query_sql``) and the Python evaluator (``query_eval``) both walk, so they agree.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from provkit.core.errors import QueryError
from provkit.services.query_regex import Regex, RegexError, parse_regex

__all__ = ["QueryError", "Fields", "matches", "matcher", "validate", "prepare", "MAX_DEPTH"]

#: How deep ``$and``/``$or``/``$nor``/``$not`` may nest.
MAX_DEPTH = 20

_COMPARE = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
_FIELD_OPS = frozenset({*_COMPARE, "$in", "$nin", "$regex", "$exists", "$not", "$options"})
_LOGIC = frozenset({"$and", "$or", "$nor"})
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
_SCALAR = (str, int, float, bool, type(None), datetime, date)
_INT64 = (-(2**63), 2**63 - 1)


def _make_short() -> Callable[[Any], str]:
    r = reprlib.Repr()
    r.maxstring = r.maxother = 60
    r.maxlist, r.maxtuple, r.maxdict, r.maxset, r.maxlevel = 4, 4, 3, 4, 2
    return r.repr


_short = _make_short()


@dataclass
class Fields:
    """What a document is made of, for one kind of record.

    ``columns``: name -> column (scalar); ``json``: name -> JSON column (dotted paths
    below it); ``arrays``: name -> ``member(condition)`` giving an SQL EXISTS over the
    elements (the Python side reads ``document[name]`` as a list); ``aliases`` map a
    name onto another (or onto a JSON path, ``'user': 'run.user'``); ``types``: column
    name -> 'str', 'int', 'float', 'bool' or 'time' (values are checked against it).
    """

    columns: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    #: JSON paths ("root.a.b") that always hold strings: compiled to a plain comparison
    #: that an expression index on the same path can serve
    text_paths: frozenset[str] = frozenset()
    types: dict[str, str] = field(default_factory=dict)

    def resolve(self, path: str) -> tuple[str, str, list[str]]:
        """(kind, root name, sub path) for a dotted field path."""
        if not isinstance(path, str) or not _PATH.match(path):
            raise QueryError(f"invalid field name {_short(path)}", part=path)
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


@dataclass(frozen=True)
class Path:
    """A resolved field: as written (``key``), its kind, root column and sub path."""

    key: str
    kind: str
    root: str
    rest: tuple[str, ...]
    vtype: str | None = None

    @property
    def dotted(self) -> str:
        return ".".join([self.root, *self.rest])


# A prepared query is a tree of ("$and" | "$or" | "$nor", [nodes]) and ("field", Path, ops),
# where ops is a list of (operator, value): "$not" holds ops, "$regex" a Regex, "$in" and
# "$nin" a tuple; values are checked and normalized (datetimes aware, in UTC).


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _check_scalar(value: Any, where: str) -> Any:
    if isinstance(value, str):
        if "\x00" in value:
            raise QueryError(f"{where}: NUL characters are not allowed in query strings", part=value)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise QueryError(f"{where}: {_short(value)} is not valid Unicode (a lone surrogate)", part=value) from exc
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise QueryError(f"{where}: integer {_short(value)} is out of the 64-bit range", part=value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QueryError(f"{where}: {value} is not a finite number", part=value)
    elif isinstance(value, datetime):
        value = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    elif not isinstance(value, date):
        raise QueryError(
            f"{where} compares with scalars (str, number, bool, null, datetime), got {type(value).__name__}",
            part=value,
        )
    return value


def _time_value(value: Any, where: str) -> Any:
    """A value for a time field: a datetime, a date (midnight UTC) or an ISO-8601 string."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(), timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" and text else text)
        except ValueError:
            parsed = None
        if parsed is None or not re.match(r"^\d{4}-\d{2}-\d{2}", text):
            raise QueryError(f"{where}: {_short(value)} is not an ISO-8601 date or datetime", part=value)
        return _utc(parsed)
    raise QueryError(
        f"{where}: a time field takes a datetime, a date or an ISO-8601 string, got {type(value).__name__}",
        part=value,
    )


def _value(op: str, value: Any, path: Path) -> Any:
    where = f"{path.key}: {op}"
    value = _check_scalar(value, where)
    if path.vtype == "time":
        value = _time_value(value, where)
    if op in ("$gt", "$gte", "$lt", "$lte") and (value is None or isinstance(value, bool)):
        raise QueryError(f"{where} needs a number, string or datetime", part={op: value})
    return value


def _operand(op: str, value: Any, path: Path, options: str) -> Any:
    where = f"{path.key}: {op}"
    if op in ("$in", "$nin"):
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise QueryError(f"{where} needs a list, got {type(value).__name__}", part={op: _short(value)})
        return tuple(_value("$eq", v, path) for v in value)
    if op == "$regex":
        if not isinstance(value, str):
            raise QueryError(f"{where} needs a string pattern", part={op: value})
        if path.vtype not in (None, "str"):
            raise QueryError(f"{where} needs a text field; {path.key!r} holds {path.vtype} values", part={op: value})
        _check_scalar(value, where)
        try:
            return parse_regex(value, options)
        except RegexError as exc:
            raise QueryError(f"{path.key}: bad $regex {_short(value)}: {exc}", part={op: value}) from exc
    if op == "$exists":
        if not isinstance(value, bool):
            raise QueryError(f"{where} needs true or false", part={op: value})
        return value
    return _value(op, value, path)


def _ops(path: Path, condition: Any, depth: int) -> list[tuple[str, Any]]:
    """The (operator, operand) pairs of one field's condition, validated and normalized."""
    if depth > MAX_DEPTH:
        raise QueryError(f"{path.key}: $not nested deeper than {MAX_DEPTH} levels", part=path.key)
    if not (isinstance(condition, Mapping) and any(isinstance(k, str) and k.startswith("$") for k in condition)):
        return [("$eq", _operand("$eq", condition, path, ""))]
    unknown = [k for k in condition if k not in _FIELD_OPS]
    if unknown:
        raise QueryError(f"{path.key}: unknown operator(s) {_short(unknown)}", part=condition)
    options = condition.get("$options", "")
    if "$options" in condition and (
        condition.get("$regex") is None or not isinstance(options, str) or set(options) - set("imsx")
    ):
        raise QueryError(f"{path.key}: $options goes with $regex and holds flags from 'imsx'", part=condition)
    ops = []
    for op, value in condition.items():
        if op == "$options":
            continue
        if op == "$not":
            if not isinstance(value, Mapping):
                raise QueryError(f"{path.key}: $not needs an operator document", part=_short(condition))
            ops.append((op, _ops(path, value, depth + 1)))
        else:
            ops.append((op, _operand(op, value, path, options)))
    return ops


def _resolve(key: Any, fields: Fields) -> Path:
    kind, root, rest = fields.resolve(key)
    if kind == "json" and not rest:
        raise QueryError(f"{key!r} is a document: query a path inside it, e.g. '{key}.name'", part=key)
    return Path(key, kind, root, tuple(rest), fields.types.get(root) if kind == "column" else None)


def prepare(query: Any, fields: Fields, depth: int = 0) -> tuple:
    """The validated, normalized tree of ``query`` (QueryError for anything malformed)."""
    if depth > MAX_DEPTH:
        raise QueryError(f"query nested deeper than {MAX_DEPTH} levels ($and/$or/$nor/$not)", part=None)
    if not isinstance(query, Mapping):
        raise QueryError(f"a query is a mapping, got {type(query).__name__}", part=_short(query))
    nodes: list[tuple] = []
    for key, value in query.items():
        if key in _LOGIC:
            if not isinstance(value, (list, tuple)) or not value:
                raise QueryError(f"{key} needs a non-empty list of queries", part={key: _short(value)})
            children = [prepare(sub, fields, depth + 1) for sub in value]
            nodes.append((key, _merge_equalities(children) if key in ("$or", "$nor") else children))
        elif isinstance(key, str) and key.startswith("$"):
            raise QueryError(f"unknown top-level operator {key!r}", part=key)
        else:
            path = _resolve(key, fields)
            nodes.append(("field", path, _ops(path, value, depth)))
    return ("$and", nodes)


def _merge_equalities(children: list[tuple]) -> list[tuple]:
    """``$or`` branches ``{f: v1}``, ``{f: v2}``... become one ``{f: {$in: [v1, v2...]}}``."""
    merged: dict[Path, list[Any]] = {}
    rest: list[tuple] = []
    for child in children:
        inner = child[1]
        if len(inner) == 1 and inner[0][0] == "field" and [op for op, _ in inner[0][2]] == ["$eq"]:
            merged.setdefault(inner[0][1], []).append(inner[0][2][0][1])
        else:
            rest.append(child)
    out = [("$and", [("field", p, [("$in", tuple(vs))])]) for p, vs in merged.items()]
    return out + rest


def validate(query: Any, fields: Fields) -> None:
    """Raise QueryError for anything malformed (compile_query and matches call it)."""
    prepare(query, fields)


def matcher(query: Any, fields: Fields) -> Callable[[Mapping], bool]:
    """A predicate over documents, validated once (the Python evaluator, ``query_eval``)."""
    from provkit.services.query_eval import evaluator

    return evaluator(prepare(query, fields), fields)


def matches(document: Mapping, query: Mapping, fields: Fields) -> bool:
    """Whether a document (a dict shaped like ``fields``) satisfies the query."""
    return matcher(query, fields)(document)


__all__ += ["Path", "Regex"]
