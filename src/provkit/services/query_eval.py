"""The Python evaluator of prepared queries (``query.prepare``): memory repositories and
registries use it; it defines the answers the SQL compiler (``query_sql``) must give."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provkit.services.query import Fields, Path

__all__ = ["evaluator"]

_Test = Callable[[bool, Any], bool]


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _key(value: Any) -> tuple | None:
    """The equality class of a stored value: Mongo compares within a type."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, datetime):
        return ("t", _aware(value))
    if isinstance(value, date):
        return ("d", value)
    return None


def _expected_keys(value: Any) -> list[tuple]:
    keys = [_key(value)]
    if isinstance(value, (datetime, date)):  # datetimes inside JSON are ISO strings, as in SQL
        keys.append(("s", value.isoformat()))
    return [k for k in keys if k is not None]


def _same_kind(a: Any, b: Any) -> bool:
    number = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, number) and isinstance(b, number):
        return True
    return type(a) is type(b) or (isinstance(a, datetime) and isinstance(b, datetime))


def _order(op: str, actual: Any, expected: Any) -> bool:
    actual = _aware(actual)
    if isinstance(expected, (datetime, date)) and isinstance(actual, str):
        expected = expected.isoformat()
    if not _same_kind(actual, expected) or actual is None or isinstance(actual, bool):
        return False
    if op == "$gt":
        return actual > expected
    if op == "$gte":
        return actual >= expected
    if op == "$lt":
        return actual < expected
    return actual <= expected


def _members(actual: Any) -> list:
    return actual if isinstance(actual, list) else [actual]


def _in_test(values: tuple) -> _Test:
    keys = {k for v in values if v is not None for k in _expected_keys(v)}
    with_null = any(v is None for v in values)

    def test(present: bool, actual: Any) -> bool:
        if with_null and (not present or actual is None or (isinstance(actual, list) and None in actual)):
            return True
        if not present:
            return False
        for c in _members(actual):
            try:
                if _key(c) in keys:
                    return True
            except TypeError:
                pass
        return False

    return test


def _op_test(op: str, x: Any) -> _Test:
    if op == "$not":
        inner = _ops_test(x)
        return lambda present, actual: not inner(present, actual)
    if op == "$exists":
        return lambda present, actual: present is x
    if op in ("$eq", "$in"):
        return _in_test((x,) if op == "$eq" else x)
    if op in ("$ne", "$nin"):
        inner = _in_test((x,) if op == "$ne" else x)
        return lambda present, actual: not inner(present, actual)
    if op == "$regex":
        return lambda present, actual: present and any(x.search(c) for c in _members(actual))
    return lambda present, actual: present and any(_order(op, c, x) for c in _members(actual))


def _ops_test(ops: list[tuple[str, Any]]) -> _Test:
    tests = [_op_test(op, x) for op, x in ops]
    return lambda present, actual: all(t(present, actual) for t in tests)


def _lookup(document: Any, path: Path) -> tuple[bool, Any]:
    if path.kind == "column":
        value = document.get(path.root)
        return value is not None, value  # a column holding NULL counts as missing
    if path.kind == "array":
        return True, list(document.get(path.root) or [])
    current = document
    for part in (path.root, *path.rest):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return False, None
    return True, current


def _node(node: tuple) -> Callable[[Mapping], bool]:
    kind, body = node[0], node[1]
    if kind == "field":
        path, test = body, _ops_test(node[2])
        return lambda doc: test(*_lookup(doc, path))
    children = [_node(child) for child in body]
    if kind == "$and":
        return lambda doc: all(c(doc) for c in children)
    if kind == "$or":
        return lambda doc: any(c(doc) for c in children)
    return lambda doc: not any(c(doc) for c in children)


def evaluator(prepared: tuple, fields: Fields) -> Callable[[Mapping], bool]:
    """A predicate for a prepared query (``fields`` is the schema it was prepared with)."""
    return _node(prepared)
