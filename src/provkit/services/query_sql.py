"""Compiling prepared queries (see ``provkit.query``) into SQLAlchemy expressions for
SQLite and PostgreSQL: JSON paths through ``json_extract`` / ``->``, arrays through
``json_each`` / ``jsonb_array_elements``, values always as bound parameters.

Three rules keep SQL answers equal to the Python evaluator's:
- every negation (``$not $ne $nin $nor``) is ``x IS NOT TRUE``, so a missing
  field (SQL NULL) is "not matching" before it is negated, as in Mongo;
- a value list is one bound array, whatever its size (``= ANY(:values)`` on PostgreSQL,
  ``IN (SELECT value FROM json_each(:values))`` on SQLite);
- long ``$and``/``$or`` lists are built as balanced trees (SQLite nests at most 1,000 deep).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa

from provkit.services.query import Fields, Path, QueryError, prepare
from provkit.services.query_regex import Regex

__all__ = ["compile_query"]

_ORDER = {"$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le, "$eq": operator.eq}
_FLAT = 256


def _balanced(fn: Callable[..., Any], clauses: list[Any]) -> Any:
    if not clauses:
        return sa.true() if fn is sa.and_ else sa.false()
    if len(clauses) == 1:
        return clauses[0]
    if len(clauses) <= _FLAT:
        return fn(*clauses)
    # SQLAlchemy flattens nested AND/OR (even in parentheses): a function call keeps the tree
    mid = len(clauses) // 2
    halves = (_balanced(fn, clauses[:mid]), _balanced(fn, clauses[mid:]))
    return fn(*(half.is_(sa.true()) for half in halves))


def _negate(clause: Any) -> Any:
    """NOT, with a missing value (NULL) counted as not matching first: ``x IS NOT TRUE``."""
    return clause.is_not(sa.true())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Compiler:
    def __init__(self, fields: Fields, dialect: str) -> None:
        self.fields = fields
        self.pg = dialect == "postgresql"

    def node(self, node: tuple) -> Any:
        kind = node[0]
        if kind == "field":
            return self.field(node[1], node[2])
        clauses = [self.node(child) for child in node[1]]
        if kind == "$and":
            return _balanced(sa.and_, clauses)
        if kind == "$or":
            return _balanced(sa.or_, clauses)
        return _negate(_balanced(sa.or_, clauses))

    def field(self, path: Path, ops: list[tuple[str, Any]]) -> Any:
        return _balanced(sa.and_, [self.op(path, op, x) for op, x in ops])

    def op(self, path: Path, op: str, x: Any) -> Any:
        if op == "$not":
            if len(x) == 1 and x[0][0] == "$not":  # NOT NOT x is x: keeps SQL shallow
                return self.field(path, x[0][1])
            return _negate(self.field(path, x))
        if op in ("$ne", "$nin"):
            return _negate(self.op(path, "$in", (x,) if op == "$ne" else x))
        if op == "$eq":
            return self.op(path, "$in", (x,))
        if path.kind == "column":
            return self.column(self.fields.columns[path.root], op, x)
        if path.kind == "array":
            return self.array(self.fields.arrays[path.root], op, x)
        col = self.fields.json[path.root]
        if path.dotted in self.fields.text_paths and op in ("$in", "$gt", "$gte", "$lt", "$lte"):
            return self.text_path(col, list(path.rest), op, x)
        return self.json(col, list(path.rest), op, x)

    # value sets -------------------------------------------------------------------------
    def in_set(self, expr: Any, values: list[Any], sqltype: Any) -> Any:
        """``expr`` equals one of ``values``: one bound parameter however many there are."""
        values = list(dict.fromkeys(values))
        if not values:
            return sa.false()
        if len(values) == 1:
            return expr == sa.bindparam(None, values[0], type_=sqltype)
        if self.pg:
            from sqlalchemy.dialects.postgresql import ARRAY

            return expr == sa.any_(sa.bindparam(None, values, type_=ARRAY(sqltype)))
        if isinstance(values[0], datetime):  # SQLite stores DateTime as this text
            values = [v.strftime("%Y-%m-%d %H:%M:%S.%f") for v in values]
        each = sa.func.json_each(sa.bindparam(None, json.dumps(values), type_=sa.String)).table_valued("value")
        return expr.in_(sa.select(each.c.value))

    def _for_column(self, value: Any) -> Any:
        if isinstance(value, datetime) and not self.pg:
            return value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    # scalar columns ---------------------------------------------------------------------
    def column(self, col: Any, op: str, x: Any) -> Any:
        if op == "$exists":
            return col.is_not(None) if x else col.is_(None)
        if op == "$regex":
            return self.regex(col, x)
        if op == "$in":
            parts = [col.is_(None)] if any(v is None for v in x) else []
            accepted = [v for v in x if v is not None and self._column_accepts(col, v)]
            if accepted and isinstance(accepted[0], bool):
                parts.extend(col == v for v in dict.fromkeys(accepted))
            elif accepted:
                sqltype = col.type
                if self.pg and isinstance(accepted[0], (int, float)):
                    sqltype = sa.BigInteger() if all(isinstance(v, int) for v in accepted) else sa.Float()
                parts.append(self.in_set(col, [self._for_column(v) for v in accepted], sqltype))
            return _balanced(sa.or_, parts)
        if not self._column_accepts(col, x):
            return sa.false()
        return _ORDER[op](col, self._for_column(x))

    @staticmethod
    def _column_accepts(col: Any, value: Any) -> bool:
        try:
            python_type = col.type.python_type
        except NotImplementedError:
            return True
        if python_type is bool:
            return isinstance(value, bool)
        if python_type in (int, float):
            return _is_number(value)
        if python_type is datetime:
            return isinstance(value, datetime)
        return isinstance(value, python_type)

    def regex(self, expr: Any, rx: Regex) -> Any:
        if self.pg:
            return expr.op("~", is_comparison=True)(sa.bindparam(None, rx.postgres, type_=sa.String))
        return expr.op("REGEXP", is_comparison=True)(sa.bindparam(None, rx.python, type_=sa.String))

    # arrays (membership through a subquery) ---------------------------------------------
    def array(self, member: Callable[..., Any], op: str, x: Any) -> Any:
        """``member(condition)`` gives an EXISTS over the array's elements, where
        ``condition(element_column)`` is the SQL test for one element."""
        if op == "$exists":
            return sa.true() if x else sa.false()
        if op == "$in":
            values = [v for v in x if v is not None]
            if not values:
                return sa.false()  # arrays are never missing and hold no nulls
            return member(lambda element: self.column(element, "$in", tuple(values)))
        return member(lambda element: self.column(element, op, x))

    # JSON documents -----------------------------------------------------------------------
    def text_path(self, col: Any, path: list[str], op: str, x: Any) -> Any:
        """A string-only JSON path: ``<path text> <op> :value``, index-friendly."""
        value = self.json_parts(col, path)[0]
        if op == "$in":
            parts = [self.in_set(value, [v for v in x if isinstance(v, str)], sa.String())]
            if any(v is None for v in x):
                parts.append(self.json(col, path, "$in", (None,)))
            return _balanced(sa.or_, parts)
        if not isinstance(x, str):
            return sa.false()  # a string never orders against another type
        return _ORDER[op](value, x)

    def json_parts(self, col: Any, path: list[str]) -> tuple[Any, Any, Any]:
        """(value as SQL scalar, JSON type name, exists) for a path in a JSON column."""
        if self.pg:
            node = col
            for part in path:
                node = node.op("->")(_key(part))
            text = col
            for part in path[:-1]:
                text = text.op("->")(_key(part))
            text = text.op("->>")(_key(path[-1])) if path else sa.cast(col, sa.String)
            return text, sa.func.jsonb_typeof(node), node
        json_path = _key("$" + "".join(f'."{p}"' for p in path))
        return sa.func.json_extract(col, json_path), sa.func.json_type(col, json_path), json_path

    def json(self, col: Any, path: list[str], op: str, x: Any) -> Any:
        value, jtype, _node = self.json_parts(col, path)
        if op == "$exists":
            return jtype.is_not(None) if x else jtype.is_(None)
        parts = [self.json_scalar(value, jtype, op, x)]
        parts.append(self.json_elements(col, path, lambda v, t: self.json_scalar(v, t, op, x)))
        if op == "$in" and any(v is None for v in x):
            parts.append(sa.or_(jtype.is_(None), jtype == "null"))
        return _balanced(sa.or_, parts)

    def json_scalar(self, value: Any, jtype: Any, op: str, x: Any) -> Any:
        text_type = jtype.in_(["text"]) if not self.pg else jtype == "string"
        number_type = jtype.in_(["integer", "real"]) if not self.pg else jtype == "number"
        number = value if not self.pg else sa.cast(value, sa.Numeric)
        if op == "$regex":
            return sa.and_(text_type, self.regex(value, x))
        if op == "$in":
            texts = [_json_text(v) for v in x if isinstance(v, (str, date))]
            ints = [v for v in x if _is_number(v) and isinstance(v, int)]
            floats = [v for v in x if _is_number(v) and isinstance(v, float)]
            parts = [sa.and_(text_type, self.in_set(value, texts, sa.String()))] if texts else []
            if ints or floats:
                sets = [self.in_set(number, ints, sa.BigInteger()), self.in_set(number, floats, sa.Float())]
                parts.append(sa.and_(number_type, sa.or_(*(s for v, s in zip((ints, floats), sets) if v))))
            parts.extend(self.json_bool(value, jtype, v) for v in dict.fromkeys(v for v in x if isinstance(v, bool)))
            if any(v is None for v in x):
                parts.append(jtype == "null")
            return _balanced(sa.or_, parts)
        if isinstance(x, (str, date)):
            return sa.and_(text_type, _ORDER[op](value, _json_text(x)))
        return sa.and_(number_type, _ORDER[op](number, x))

    def json_bool(self, value: Any, jtype: Any, expected: bool) -> Any:
        if not self.pg:
            return jtype == ("true" if expected else "false")
        return sa.and_(jtype == "boolean", value == ("true" if expected else "false"))

    def json_elements(self, col: Any, path: list[str], condition: Callable[[Any, Any], Any]) -> Any:
        """Any element of an array at ``path`` matches (Mongo's array semantics)."""
        if self.pg:
            node = col
            for part in path:
                node = node.op("->")(sa.literal(part, sa.String))
            elems = sa.func.jsonb_array_elements(
                sa.case((sa.func.jsonb_typeof(node) == "array", node), else_=sa.func.jsonb_build_array())
            ).table_valued("value")
            value = sa.func.jsonb_build_array(elems.c.value).op("->>")(0)
            test = condition(value, sa.func.jsonb_typeof(elems.c.value))
            return sa.exists(sa.select(1).select_from(elems).where(test))
        json_path = "$" + "".join(f'."{p}"' for p in path)
        elems = sa.func.json_each(col, json_path).table_valued("value", "type")
        guard = sa.func.json_type(col, json_path) == "array"
        return sa.and_(guard, sa.exists(sa.select(1).select_from(elems).where(condition(elems.c.value, elems.c.type))))


def _json_text(value: Any) -> str:
    """How a value is held in JSON: datetimes as ISO text."""
    return value.isoformat() if isinstance(value, date) else value


def _key(text: str) -> Any:
    """A JSON key or path rendered inline: field names are validated identifiers
    (``query._PATH``), and an inline path lets expression indexes match."""
    return sa.bindparam(None, text, type_=sa.String, literal_execute=True)


def compile_query(query: Mapping, fields: Fields, dialect: str) -> Any:
    """A SQLAlchemy boolean expression for ``query`` (``dialect``: 'sqlite' or 'postgresql')."""
    prepared = prepare(query, fields)
    if dialect not in ("sqlite", "postgresql"):
        raise QueryError(f"queries compile for sqlite and postgresql, not {dialect!r}")
    return sa.and_(sa.true(), _Compiler(fields, dialect).node(prepared))
