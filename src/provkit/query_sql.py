"""Compiling queries (see ``provkit.query``) into SQLAlchemy expressions for SQLite and
PostgreSQL: JSON paths through ``json_extract`` / ``->``, arrays through ``json_each`` /
``jsonb_array_elements``, values always as bound parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa

from .query import _COMPARE, Fields, QueryError, _field_ops, _normalize, validate

__all__ = ["compile_query"]


class _Compiler:
    def __init__(self, fields: Fields, dialect: str) -> None:
        self.fields = fields
        self.dialect = dialect

    def query(self, query: Mapping) -> Any:
        clauses = []
        for key, value in query.items():
            if key == "$and":
                clauses.append(sa.and_(*(self.query(q) for q in value)))
            elif key == "$or":
                clauses.append(sa.or_(*(self.query(q) for q in value)))
            elif key == "$nor":
                clauses.append(sa.not_(sa.or_(*(self.query(q) for q in value))))
            else:
                clauses.append(self.field(key, value))
        return sa.and_(sa.true(), *clauses)

    def field(self, key: str, condition: Any) -> Any:
        kind, root, rest = self.fields.resolve(key)
        flags = condition.get("$options", "") if isinstance(condition, Mapping) else ""
        parts = []
        for op, expected in _field_ops(key, condition):
            if op == "$not":
                parts.append(sa.not_(self.field(key, expected)))
            elif kind == "column":
                parts.append(self.column(self.fields.columns[root], op, expected, flags))
            elif kind == "array":
                parts.append(self.array(self.fields.arrays[root], op, expected, flags))
            elif ".".join([root, *rest]) in self.fields.text_paths and op in _COMPARE and op != "$ne":
                parts.append(self.text_path(self.fields.json[root], rest, op, expected))
            else:
                parts.append(self.json(self.fields.json[root], rest, op, expected, flags))
        return sa.and_(sa.true(), *parts)

    # scalar columns ---------------------------------------------------------------------
    def column(self, col: Any, op: str, expected: Any, flags: str) -> Any:
        if op == "$exists":
            return col.is_not(None) if expected else col.is_(None)
        if op == "$ne":
            return sa.or_(col.is_(None), sa.not_(self.column(col, "$eq", expected, flags)))
        if op == "$nin":
            return sa.or_(col.is_(None), sa.not_(self.column(col, "$in", expected, flags)))
        if op == "$in":
            return sa.or_(sa.false(), *(self.column(col, "$eq", e, flags) for e in expected))
        if op == "$regex":
            return self.regex(col, expected, flags)
        if expected is None:
            return col.is_(None) if op == "$eq" else sa.false()
        if not self._column_accepts(col, expected):
            return sa.false()
        expected = _normalize(expected)
        if isinstance(expected, datetime) and self.dialect == "sqlite":
            expected = expected.astimezone(timezone.utc).replace(tzinfo=None)
        return {"$eq": col == expected, "$gt": col > expected, "$gte": col >= expected,
                "$lt": col < expected, "$lte": col <= expected}[op]  # fmt: skip

    @staticmethod
    def _column_accepts(col: Any, value: Any) -> bool:
        try:
            python_type = col.type.python_type
        except NotImplementedError:
            return True
        if python_type is bool:
            return isinstance(value, bool)
        if python_type in (int, float):
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if python_type is datetime:
            return isinstance(value, datetime)
        return isinstance(value, python_type)

    def regex(self, expr: Any, pattern: str, flags: str) -> Any:
        if self.dialect == "postgresql":
            return expr.op("~*" if "i" in flags else "~")(pattern)
        inline = "".join(f for f in "imsx" if f in flags)
        return expr.op("REGEXP")(f"(?{inline}){pattern}" if inline else pattern)

    # arrays (membership through a subquery) ---------------------------------------------
    def array(self, member: Callable[..., Any], op: str, expected: Any, flags: str) -> Any:
        """``member(condition)`` gives an EXISTS over the array's elements, where
        ``condition(element_column)`` is the SQL test for one element."""
        if op == "$eq" and expected is None:
            return sa.false()
        if op == "$ne":
            return sa.not_(self.array(member, "$eq", expected, flags))
        if op == "$in":
            return sa.or_(sa.false(), *(self.array(member, "$eq", e, flags) for e in expected))
        if op == "$nin":
            return sa.not_(self.array(member, "$in", expected, flags))
        if op == "$exists":
            return sa.true() if expected else sa.false()
        return member(lambda element: self.column(element, op, expected, flags))

    # JSON documents -----------------------------------------------------------------------
    def text_path(self, col: Any, path: list[str], op: str, expected: Any) -> Any:
        """A string-only JSON path: ``<path text> <op> :value``, index-friendly."""
        if not isinstance(expected, str):
            return sa.false()  # a string never equals or orders against another type
        value = self.json_parts(col, path)[0]
        return {"$eq": value == expected, "$gt": value > expected, "$gte": value >= expected,
                "$lt": value < expected, "$lte": value <= expected}[op]  # fmt: skip

    def json_parts(self, col: Any, path: list[str]) -> tuple[Any, Any, Any]:
        """(value as SQL scalar, JSON type name, exists) for a path in a JSON column."""
        if self.dialect == "postgresql":
            node = col
            for part in path:
                node = node.op("->")(_key(part))
            text = col
            for part in path[:-1]:
                text = text.op("->")(_key(part))
            text = text.op("->>")(_key(path[-1])) if path else sa.cast(col, sa.String)
            jtype = sa.func.jsonb_typeof(node)
            return text, jtype, node
        json_path = _key("$" + "".join(f'."{p}"' for p in path))
        return sa.func.json_extract(col, json_path), sa.func.json_type(col, json_path), json_path

    def json(self, col: Any, path: list[str], op: str, expected: Any, flags: str) -> Any:
        if not path:
            raise QueryError("query a path inside this document, e.g. 'inputs.a'", part=op)
        value, jtype, _node = self.json_parts(col, path)
        if op == "$exists":
            return jtype.is_not(None) if expected else jtype.is_(None)
        if op == "$ne":
            return sa.not_(sa.func.coalesce(self.json(col, path, "$eq", expected, flags), sa.false()))
        if op == "$nin":
            return sa.not_(sa.func.coalesce(self.json(col, path, "$in", expected, flags), sa.false()))
        if op == "$in":
            return sa.or_(sa.false(), *(self.json(col, path, "$eq", e, flags) for e in expected))
        scalar = self.json_scalar(value, jtype, op, expected, flags)
        element = self.json_elements(col, path, op, expected, flags)
        if op == "$eq" and expected is None:
            return sa.or_(jtype.is_(None), jtype == "null")
        return sa.or_(scalar, element)

    def json_scalar(self, value: Any, jtype: Any, op: str, expected: Any, flags: str) -> Any:
        if op == "$regex":
            return sa.and_(jtype.in_(["string", "text"]), self.regex(value, expected, flags))
        if expected is None:
            return sa.false()
        kind, bound = self._json_kind(expected)
        if kind == "bool":
            if op != "$eq":
                return sa.false()
            return (
                jtype.in_(["true"] if expected else ["false"])
                if self.dialect == "sqlite"
                else sa.and_(jtype == "boolean", value == ("true" if expected else "false"))
            )
        if kind == "number":
            typed = jtype.in_(["integer", "real"]) if self.dialect == "sqlite" else jtype == "number"
            val = value if self.dialect == "sqlite" else sa.cast(value, sa.Numeric)
        else:
            typed = jtype.in_(["text"]) if self.dialect == "sqlite" else jtype == "string"
            val = value
        compare = {"$eq": val == bound, "$gt": val > bound, "$gte": val >= bound,
                   "$lt": val < bound, "$lte": val <= bound}[op]  # fmt: skip
        return sa.and_(typed, compare)

    def _json_kind(self, expected: Any) -> tuple[str, Any]:
        if isinstance(expected, bool):
            return "bool", expected
        if isinstance(expected, (int, float)):
            return "number", expected
        if isinstance(expected, datetime):  # stored as ISO text
            return "string", _normalize(expected).isoformat()
        if isinstance(expected, date):
            return "string", expected.isoformat()
        return "string", expected

    def json_elements(self, col: Any, path: list[str], op: str, expected: Any, flags: str) -> Any:
        """Any element of an array at ``path`` matches (Mongo's array semantics)."""
        if self.dialect == "postgresql":
            node = col
            for part in path:
                node = node.op("->")(sa.literal(part, sa.String))
            elems = sa.func.jsonb_array_elements(
                sa.case((sa.func.jsonb_typeof(node) == "array", node), else_=sa.func.jsonb_build_array())
            ).table_valued("value")
            value = sa.func.jsonb_build_array(elems.c.value).op("->>")(0)
            jtype = sa.func.jsonb_typeof(elems.c.value)
        else:
            json_path = "$" + "".join(f'."{p}"' for p in path)
            elems = sa.func.json_each(col, json_path).table_valued("value", "type")
            value, jtype = elems.c.value, elems.c.type
            guard = sa.func.json_type(col, json_path) == "array"
            return sa.and_(guard, sa.exists(sa.select(1).select_from(elems).where(
                self.json_scalar(value, jtype, op, expected, flags))))  # fmt: skip
        return sa.exists(sa.select(1).select_from(elems).where(self.json_scalar(value, jtype, op, expected, flags)))


def _key(text: str) -> Any:
    """A JSON key or path rendered inline: field names are validated identifiers
    (``query._PATH``), and an inline path lets expression indexes match."""
    return sa.bindparam(None, text, type_=sa.String, literal_execute=True)


def compile_query(query: Mapping, fields: Fields, dialect: str) -> Any:
    """A SQLAlchemy boolean expression for ``query`` (``dialect``: 'sqlite' or 'postgresql')."""
    validate(query, fields)
    if dialect not in ("sqlite", "postgresql"):
        raise QueryError(f"queries compile for sqlite and postgresql, not {dialect!r}")
    return _Compiler(fields, dialect).query(query)
