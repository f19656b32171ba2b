"""INSERTs compiled once by SQLAlchemy and run straight on a DBAPI connection.

A cache miss writes one artifact row (and its lineage edges). Going through
``engine.begin()`` + ``conn.execute()`` costs more per row than SQLite's own insert;
here the statement is compiled once, each value passes through the same bind processor
SQLAlchemy would apply (JSON encoding, datetimes, booleans), and the row is written on
the thread's DBAPI connection in one transaction. The bytes stored are the same. With
psycopg, JSON columns are bound as JSON text (``json.dumps``, as psycopg's own ``Jsonb``
wrapper would encode them), which the server reads as the column's jsonb.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa


class RawInsert:
    """One INSERT statement, compiled for ``dialect``, taking rows as mappings."""

    def __init__(self, statement: Any, table: sa.Table, dialect: sa.Dialect) -> None:
        names = [c.name for c in table.columns]
        compiled = statement.compile(dialect=dialect, column_keys=names)
        self.sql = str(compiled)
        self.positional = dialect.paramstyle in ("qmark", "numeric", "format")
        order = list(compiled.positiontup) if self.positional and compiled.positiontup else names
        self.order = order
        processors: list[Callable[[Any], Any] | None] = []
        json_as_text = dialect.name == "postgresql" and dialect.driver == "psycopg"
        for name in order:
            column = table.columns[name]
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if isinstance(column.type, sa.JSON):
                if json_as_text:  # JSON text, typed by its column: psycopg dumps no wrapper per call
                    process = json.dumps
                if process is not None:
                    process = _empty_json_once(process)
            processors.append(process)
        self.processors = processors

    def params(self, row: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = []
        for name, process in zip(self.order, self.processors):
            value = row.get(name)
            values.append(process(value) if process is not None else value)  # None too: JSON null
        return values if self.positional else dict(zip(self.order, values))


def _empty_json_once(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON column's bind processor that encodes None, [] and {} (most rows' options,
    parents and custom fields) once, not per row; the values bound are the same."""
    null, empty_list, empty_dict = process(None), process([]), process({})

    def run(value: Any) -> Any:
        if value is None:
            return null
        if not value and type(value) is list:
            return empty_list
        if not value and type(value) is dict:
            return empty_dict
        return process(value)

    return run


def execute_steps(conn: Any, steps: list[tuple[RawInsert, list[Mapping[str, Any]]]]) -> int:
    """Execute each statement over its rows on DBAPI ``conn`` (no commit); returns the
    rowcount of the first statement."""
    cursor = conn.cursor()
    try:
        first = -1
        for statement, rows in steps:
            if len(rows) == 1:
                cursor.execute(statement.sql, statement.params(rows[0]))
            else:
                cursor.executemany(statement.sql, [statement.params(r) for r in rows])
            if first < 0:
                first = cursor.rowcount
        return first
    finally:
        cursor.close()


def run_in_transaction(conn: Any, steps: list[tuple[RawInsert, list[Mapping[str, Any]]]]) -> int:
    """``execute_steps`` then commit; everything is rolled back on any error."""
    try:
        first = execute_steps(conn, steps)
        conn.commit()
        return first
    except BaseException:
        conn.rollback()
        raise


def run_pipelined(conn: Any, steps: list[tuple[RawInsert, list[Mapping[str, Any]]]]) -> int:
    """PostgreSQL, ``conn`` a psycopg connection in autocommit: every statement sent in one
    pipeline, which the server runs as one implicit transaction ending at the pipeline's
    sync (all or nothing) and answers in one round trip (a lone statement is sent as it
    is: in autocommit it is its own transaction); returns the first rowcount."""
    if len(steps) == 1 and len(steps[0][1]) == 1:  # one statement is a transaction of its own
        statement, rows = steps[0]
        with conn.cursor() as cursor:
            cursor.execute(statement.sql, statement.params(rows[0]))
            return cursor.rowcount
    cursors = []
    with conn.pipeline():
        for statement, rows in steps:
            cursor = conn.cursor()
            if len(rows) == 1:
                cursor.execute(statement.sql, statement.params(rows[0]))
            else:
                cursor.executemany(statement.sql, [statement.params(r) for r in rows])
            cursors.append(cursor)
    for cursor in cursors:
        cursor.close()
    return cursors[0].rowcount
