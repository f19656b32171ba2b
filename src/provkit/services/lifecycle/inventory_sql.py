"""The SQL side of gc and du: roots into a temporary table, reachability as one
recursive query over ``artifact_inputs``, deletes in batches (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from provkit.core.integrity import COLUMNS as SEAL_COLUMNS
from provkit.core.integrity import Seal
from provkit.services.lifecycle.rows import Inline, Row, chunks, input_blob_keys
from provkit.storage.repos.sql import schema
from provkit.storage.repos.sql.rows import from_json, utc

__all__ = ["SqlInventory"]

_A = schema.artifacts
_E = schema.artifact_inputs
_S = schema.artifact_sets
_ROW_COLUMNS = (
    _A.c.id, _A.c.name, _A.c.user, _A.c.kind, _A.c.value_id,
    sa.func.coalesce(sa.func.length(_A.c.value_bytes), 0) + sa.func.coalesce(sa.func.length(_A.c.inputs_bytes), 0),
    _A.c.value_bytes.is_(None), _A.c.inputs_bytes.is_(None), _A.c.added_at,
    sa.case((_A.c.kind == "files", _A.c.custom_fields), else_=sa.null()), _A.c.composite,
)  # fmt: skip


def _row(r: Any) -> Row:
    fields = from_json(r[9]) if r[9] is not None else None
    return Row(r[0], r[1], r[2], r[3], r[4], int(r[5] or 0), bool(r[6]), bool(r[7]), utc(r[8]), fields, bool(r[10]))


def _lean_row(r: Any) -> Row:
    fields = from_json(r[9]) if r[9] is not None else None
    return Row(r[0], r[1], r[2], r[3], r[4], int(r[5] or 0), bool(r[6]), bool(r[7]), None, fields, bool(r[10]))


#: SQLite page cache of the deleting connection (KiB), and the delete size from which
#: (with a quarter of the table) secondary indexes are rebuilt rather than updated
_CACHE_KIB = 256 * 1024
_BULK_ROWS = 20_000


def _drop_secondary_indexes(conn: Any) -> list[str]:
    """Drop the explicit indexes of the artifact and edge tables; their CREATE statements."""
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('artifacts', 'artifact_inputs') ORDER BY name"
    ).all()
    for name, _ in found:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


def _insert_ids(conn: Any, table: str, ids: Iterable[str]) -> None:
    """Insert ids into a one-column temporary table, 50,000 per statement (one bound JSON
    list or array each, not a round trip per row)."""
    if conn.dialect.name == "postgresql":
        sql = sa.text(f"INSERT INTO {table} (id) SELECT unnest(CAST(:ids AS TEXT[]))")
        for batch in chunks(ids, 50_000):
            conn.execute(sql, {"ids": batch})
        return
    sql = sa.text(f"INSERT INTO {table} (id) SELECT value FROM json_each(:ids)")
    for batch in chunks(ids, 50_000):
        conn.execute(sql, {"ids": json.dumps(batch)})


class SqlInventory:
    """Lifecycle reads and deletes on a SqlRepo's database."""

    def __init__(self, repo: Any) -> None:
        self.repo = repo
        self.engine: sa.Engine = repo.engine

    # ---- reading ------------------------------------------------------------------
    def rows(self, ids: Iterable[str] | None = None, *, times: bool = True) -> Iterator[Row]:
        """Every artifact (or those of ``ids``) as a Row (``times=False``: without added_at)."""
        make = _row if times else _lean_row
        with self.engine.connect() as conn:
            if ids is None:
                for r in conn.execution_options(stream_results=True, yield_per=10_000).execute(
                    sa.select(*_ROW_COLUMNS)
                ):
                    yield make(r)
                return
            for batch in chunks(ids):
                for r in conn.execute(sa.select(*_ROW_COLUMNS).where(_A.c.id.in_(batch))):
                    yield make(r)

    def inline_payloads(self) -> Iterator[Inline]:
        """Every row keeping value or inputs bytes inline, streamed (one query)."""
        a = _A
        stmt = sa.select(
            a.c.id, a.c.name, a.c.value_id, a.c.serializer, a.c.load_kwargs, a.c.value_bytes, a.c.inputs_bytes,
            *(a.c[c] for c in SEAL_COLUMNS),
        ).where(sa.or_(a.c.value_bytes.is_not(None), a.c.inputs_bytes.is_not(None)))  # fmt: skip
        with self.engine.connect() as conn:
            for r in conn.execution_options(stream_results=True, yield_per=5_000).execute(stmt):
                kwargs = from_json(r[4]) if r[4] not in (None, "null") else None
                yield Inline(r[0], r[1], r[2], r[3], kwargs, bytes(r[5]) if r[5] is not None else None,
                             bytes(r[6]) if r[6] is not None else None, Seal(*r[7:]))  # fmt: skip

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(_A)).scalar() or 0)

    def input_blob_refs(self, exclude: set[str], store_keys: set[str]) -> set[str]:
        """Blob keys named in the stored inputs of rows not in ``exclude``."""
        found: set[str] = set()
        stmt = sa.select(_A.c.id, _A.c.inputs_bytes).where(_A.c.inputs_bytes.is_not(None))
        with self.engine.connect() as conn:
            for rid, data in conn.execution_options(stream_results=True).execute(stmt):
                if rid not in exclude:
                    found |= input_blob_keys(bytes(data))
        store = self.repo.store
        candidates = [k for k in store_keys if k not in exclude]  # inputs blobs are keyed by artifact id
        if store is None or not candidates:
            return found
        no_inline = _A.c.inputs_bytes.is_(None)
        with self.engine.connect() as conn:
            if len(candidates) <= 50_000:
                blob_ids = []
                for batch in chunks(candidates, 500):
                    blob_ids += conn.execute(sa.select(_A.c.id).where(no_inline, _A.c.id.in_(batch))).scalars()
            else:
                blob_ids = [i for i in conn.execute(sa.select(_A.c.id).where(no_inline)).scalars() if i in store_keys]
        for rid in blob_ids:
            if rid not in exclude:
                found |= input_blob_keys(store.get_bytes(rid))
        return found

    def keep_set(
        self, roots: set[str], newer_than: datetime | None, keep_last: int | None, composites: Any
    ) -> set[str]:
        """Every record reachable (through inputs) from the roots, the roots included.

        ``composites(ids)`` gives the member ids of kept composite artifacts, which are
        kept too (their lineage is not an edge)."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS gc_roots (id VARCHAR(128) NOT NULL)")
            conn.exec_driver_sql("DELETE FROM gc_roots")
            roots_t = sa.table("gc_roots", sa.column("id"))
            if roots:
                _insert_ids(conn, "gc_roots", roots)
            if newer_than is not None:
                conn.execute(
                    sa.insert(roots_t).from_select(["id"], sa.select(_A.c.id).where(_A.c.added_at >= newer_than))
                )
            if keep_last:
                order = (_A.c.computed_at.desc(), _A.c.added_at.desc())
                ranked = sa.select(
                    _A.c.id, sa.func.row_number().over(partition_by=_A.c.name, order_by=order).label("rn")
                )
                ranked = ranked.subquery()
                conn.execute(
                    sa.insert(roots_t).from_select(["id"], sa.select(ranked.c.id).where(ranked.c.rn <= keep_last))
                )
            keep: set[str] = set()
            while True:
                walk = sa.select(roots_t.c.id).cte("walk", recursive=True)
                walk = walk.union(sa.select(_E.c.input_artifact_id).join(walk, _E.c.artifact_id == walk.c.id))
                keep = set(conn.execute(sa.select(walk.c.id)).scalars())
                kept_composites = [
                    i for batch in chunks(keep, 900)
                    for i in conn.execute(sa.select(_A.c.id).where(_A.c.composite, _A.c.id.in_(batch))).scalars()
                ]  # fmt: skip
                extra = {m for m in composites(kept_composites) if m not in keep}
                if not extra:
                    break
                _insert_ids(conn, "gc_roots", extra)
            conn.exec_driver_sql("DROP TABLE gc_roots")
            conn.commit()
        return keep

    def ancestors_of_new(self, since: datetime) -> set[str]:
        """Rows added at or after ``since`` and everything they were made from."""
        walk = sa.select(_A.c.id).where(_A.c.added_at >= since).cte("fresh", recursive=True)
        walk = walk.union(sa.select(_E.c.input_artifact_id).join(walk, _E.c.artifact_id == walk.c.id))
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(walk.c.id)).scalars())

    def referenced(self, key: str, since: datetime) -> bool:
        """Whether any row names blob ``key`` now (rows added since ``since`` are searched
        through their inputs too)."""
        files = sa.cast(_A.c.custom_fields, sa.Text).like(f"%{key}%")
        stmt = sa.select(_A.c.id).where(
            sa.or_(
                sa.and_(_A.c.value_id == key, _A.c.value_bytes.is_(None)),
                sa.and_(_A.c.id == key, _A.c.inputs_bytes.is_(None)),
                sa.and_(_A.c.kind == "files", files),
            )
        )
        with self.engine.connect() as conn:
            if conn.execute(stmt.limit(1)).first() is not None:
                return True
            fresh = sa.select(_A.c.inputs_bytes).where(_A.c.added_at >= since, _A.c.inputs_bytes.is_not(None))
            return any(key in input_blob_keys(bytes(d)) for d in conn.execute(fresh).scalars())

    def dangling_edges(self) -> list[tuple[str, str]]:
        """(child, parent) edges whose parent is no artifact (registry records among them)."""
        parent = _A.alias("parent")
        stmt = (
            sa.select(_E.c.artifact_id, _E.c.input_artifact_id)
            .outerjoin(parent, parent.c.id == _E.c.input_artifact_id)
            .where(parent.c.id.is_(None))
        )
        with self.engine.connect() as conn:
            return [(c, p) for c, p in conn.execute(stmt)]

    # ---- deleting -----------------------------------------------------------------
    def recent(self, since: datetime) -> set[str]:
        """Ids of artifacts added at or after ``since``."""
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(_A.c.id).where(_A.c.added_at >= since)).scalars())

    def delete_rows(self, ids: list[str], before: datetime) -> list[str]:
        """Delete these artifacts (only if added before ``before``) and their edges, in one
        transaction: the ids go to a temporary table, then two set-based deletes.

        On SQLite the connection gets a large page cache for the duration, and a delete of
        a large part of the table drops the secondary indexes of the two tables and builds
        them again from their own SQL in the same transaction (cheaper than updating ten
        indexes row by row; readers keep their snapshot, a crash rolls it all back)."""
        sqlite = self.engine.dialect.name == "sqlite"
        with self.engine.connect() as conn:
            old_cache = conn.exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else None
            rebuild = False
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA cache_size=-{_CACHE_KIB}")
                if len(ids) >= _BULK_ROWS:  # counted before the transaction: it must start by writing
                    total = int(conn.execute(sa.select(sa.func.count()).select_from(_A)).scalar() or 0)
                    rebuild = len(ids) * 4 >= total
            # the ids are in place before the deleting transaction, which SQLite begins with
            # the write lock (waiting for it, instead of failing later to upgrade a read
            # snapshot that a writer made stale; and DROP INDEX is then inside it)
            conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS gc_doomed (id VARCHAR(128) PRIMARY KEY)")
            conn.exec_driver_sql("DELETE FROM gc_doomed")
            _insert_ids(conn, "gc_doomed", ids)
            conn.commit()
            try:
                with conn.begin():
                    if sqlite:
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
                    return self._delete_rows(conn, before, rebuild)
            finally:
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA cache_size={int(old_cache)}")
                    conn.commit()

    def _delete_rows(self, conn: Any, before: datetime, rebuild_indexes: bool) -> list[str]:
        """The deletes of ``delete_rows``, inside its transaction (ids in ``gc_doomed``)."""
        doomed = sa.table("gc_doomed", sa.column("id"))
        rebuild = _drop_secondary_indexes(conn) if rebuild_indexes else []
        # EXISTS: SQLite walks the table in storage order (5x faster than probing by id)
        listed = sa.select(doomed.c.id).where(doomed.c.id == _A.c.id).exists()
        conn.execute(sa.delete(_A).where(listed, _A.c.added_at < before))
        survivors = sa.select(_A.c.id).where(_A.c.id == doomed.c.id).exists()
        conn.execute(sa.delete(doomed).where(survivors))
        conn.execute(sa.delete(_E).where(sa.select(doomed.c.id).where(doomed.c.id == _E.c.artifact_id).exists()))
        for statement in rebuild:
            conn.exec_driver_sql(statement)
        deleted = list(conn.execute(sa.select(doomed.c.id)).scalars())
        conn.exec_driver_sql("DROP TABLE gc_doomed")
        return deleted

    def delete_sets(self, set_ids: list[str]) -> None:
        with self.engine.begin() as conn:
            for batch in chunks(set_ids):
                conn.execute(sa.delete(_S).where(_S.c.id.in_(batch)))
