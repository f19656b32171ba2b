"""The SQL repository (SQLite embedded default; PostgreSQL for teams).

An artifact is written in one transaction (record + lineage edges), with "insert or
ignore" so concurrent writers of the same artifact never fail: on SQLite, and on
PostgreSQL with persistent connections, by statements compiled once by SQLAlchemy and
run on the thread's own DBAPI connection (PostgreSQL: in autocommit, row and edges in
one pipeline); otherwise through SQLAlchemy Core. The cache-hit lookup, the hottest path
in provkit, runs a compiled statement on a cursor of that connection; on SQLite a row
the thread read before is reused while ``PRAGMA data_version`` says nobody committed.
"""

from __future__ import annotations

import functools
import os
import urllib.parse
import weakref
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from provkit.core.artifacts import Artifact
from provkit.core.errors import ConfigError
from provkit.core.integrity import Seal
from provkit.core.masking import mask_text
from provkit.core.sets import ArtifactSet
from provkit.storage.batching import current_batch
from provkit.storage.blobstores.base import BlobStore
from provkit.storage.repos.base import Repository, check_limit
from provkit.storage.repos.extensions import compiled
from provkit.storage.repos.sql import schema
from provkit.storage.repos.sql.batched import (
    buffer_batched,
    buffered_artifact,
    commit_pending,
    insert_batched,
)
from provkit.storage.repos.sql.connections import (
    close_connections,
    commit_hook,
    sqlite_pragmas,
    sqlite_read_only_pragmas,
)
from provkit.storage.repos.sql.migrate import check_schema, ensure_schema
from provkit.storage.repos.sql.raw_insert import RawInsert, run_in_transaction, run_pipelined
from provkit.storage.repos.sql.roles import check_permission
from provkit.storage.repos.sql.rows import (
    FULL_COLUMNS,
    HIT_COLUMNS,
    REST_COLUMNS,
    artifact_from_hit_row,
    artifact_from_row,
    from_json,
    utc,
)
from provkit.storage.repos.sql.thread_state import ThreadState
from provkit.storage.repos.sql.wal_checkpoint import SAFETY_PAGES, note_commit

_live_repos: weakref.WeakSet[SqlRepo] = weakref.WeakSet()
_ROW_CACHE_SIZE = 512  # hit rows kept per thread and SQLite repository


def _after_fork_in_child() -> None:
    for repo in list(_live_repos):
        repo._forget_connections()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def edge_neighbours(engine: sa.Engine, ids: list[str], *, up: bool) -> dict[str, list[str]]:
    """Each id's direct parents (``up``) or children from the edge table, in one SELECT."""
    e = schema.artifact_inputs
    near, far = (e.c.artifact_id, e.c.input_artifact_id) if up else (e.c.input_artifact_id, e.c.artifact_id)
    out: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        with engine.connect() as conn:
            for node, other in conn.execute(sa.select(near, far).where(near.in_(ids))):
                out[node].append(other)
    return out


def _seal_columns(artifact: Artifact) -> dict:
    seal = artifact._seal
    return (seal if seal is not None else Seal()).columns()


class SqlRepo(Repository):
    """Artifacts in a SQL database (``db``: a SQLAlchemy URL) and values in ``store``."""

    type_name = "sql"
    backend = "sql"

    def __init__(self, db: str, store: BlobStore | None, *, engine_options: dict | None = None, **options: Any) -> None:
        super().__init__(store, **options)
        if not isinstance(db, str) or "://" not in db:
            shown = mask_text(db) if isinstance(db, str) else db
            raise ConfigError(f"db must be a database URL such as sqlite:///path/to.db, got {shown!r}")
        self.url = db
        self._engine = self._make_engine(db, engine_options or {})
        self._local = ThreadState()
        self._thread_conns: list[Any] = []  # each thread's own connection: closed with the repository
        weakref.finalize(self, close_connections, self._thread_conns, self._engine)
        self._init_schema()
        dialect = self._engine.dialect
        self._lookup_sql = self._select_by_id(HIT_COLUMNS)
        self._rest_sql = self._select_by_id(REST_COLUMNS)
        self._positional = self._statement_dialect.paramstyle in ("qmark", "numeric", "format")
        # sqlite3 opens no transaction for a SELECT; other drivers do, and must end it
        # (PostgreSQL's persistent lookup connections run in autocommit instead)
        self._end_reads = dialect.name != "sqlite" and not getattr(self, "persistent_connections", False)
        self._raw_writes = dialect.name == "sqlite"
        # Repeated lookups of a row on SQLite ask ``PRAGMA data_version`` (which changes
        # when any other connection commits) instead of reading the row again; only when
        # every other use of the database is another connection than this thread's.
        self._row_cache = self._raw_writes and isinstance(self._engine.pool, (sa.pool.QueuePool, sa.pool.NullPool))
        # PostgreSQL with persistent connections: rows written on the lookup connection in
        # autocommit (one round trip per miss); inside p.batch() kept until its commit
        self._direct_writes = dialect.name == "postgresql" and not self._end_reads
        if self._raw_writes or self._direct_writes:
            sa.event.listen(self._engine, "begin", commit_hook(weakref.ref(self)))
        _live_repos.add(self)

    # ---- engine and connections ----------------------------------------------------
    @property
    def _db_engine(self) -> sa.Engine:
        """The SQLAlchemy engine (the name the provenance docs use for pandas.read_sql)."""
        return self._engine

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def _make_engine(self, url: str, options: dict) -> sa.Engine:
        parsed = sa.engine.make_url(url)
        self._read_only_file: str | None = None
        self._wal_file: str | None = None  # a writable SQLite file: checkpointed off the caller's thread
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if database and database != ":memory:" and not self.write and not database.startswith("file:"):
                return self._read_only_sqlite(os.path.abspath(database), options)
            if database and database != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(database)) or ".", exist_ok=True)
                self._wal_file = None if database.startswith("file:") else os.path.realpath(database)
            options = {"connect_args": {"timeout": 60, "check_same_thread": False}, **options}
            engine = sa.create_engine(parsed, **options)
            sa.event.listen(engine, "connect", sqlite_pragmas)
            return engine
        return sa.create_engine(parsed, **options)

    def _read_only_sqlite(self, path: str, options: dict) -> sa.Engine:
        """``write: false``: open the file through a read-only URI (no lock file, no writes),
        so a user who may only read it can look up, load, query and walk lineage."""
        if not os.path.isfile(path):
            raise ConfigError(f"write: false, but there is no SQLite database at {path}")
        self._read_only_file = path
        options = {"connect_args": {"timeout": 60, "check_same_thread": False, "uri": True}, **options}
        quoted = urllib.parse.quote(path)
        # A WAL database with no -wal file is fully checkpointed and has no live writer; a
        # reader who cannot create the -shm index beside it opens it immutable (no locks).
        folder = os.path.dirname(path)
        no_index = not os.path.exists(path + "-wal") and not os.access(folder, os.W_OK)
        flags = "mode=ro&immutable=1" if no_index else "mode=ro"
        engine = sa.create_engine(f"sqlite:///file:{quoted}?{flags}&uri=true", **options)
        sa.event.listen(engine, "connect", sqlite_read_only_pragmas)
        return engine

    def _init_schema(self) -> None:
        if self._read_only_file is not None:
            check_schema(self._engine, self._safe_url())
            return
        parsed = self._engine.url
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            from filelock import FileLock

            with FileLock(os.path.abspath(parsed.database) + ".lock"):
                ensure_schema(self._engine, self._safe_url())
        else:
            ensure_schema(self._engine, self._safe_url())

    def _safe_url(self) -> str:
        return self._engine.url.render_as_string(hide_password=True)

    def _raw(self) -> Any:
        """This thread's DBAPI connection for the lookup fast path."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._engine.raw_connection()
            self._thread_conns.append(conn)
            if self._wal_file is not None:  # its commits leave checkpoints to wal_checkpoint's thread
                conn.driver_connection.execute(f"PRAGMA wal_autocheckpoint={SAFETY_PAGES}")
        return conn

    def _committed(self) -> None:
        """This thread's connection committed rows (SQLite): the log gets checkpointed."""
        if self._wal_file is not None:
            note_commit(self._wal_file)

    def _forget_connections(self) -> None:
        self._local = ThreadState()
        self._thread_conns.clear()  # the parent process's: never closed from here
        self._engine.dispose(close=False)

    @functools.cached_property
    def _statement_dialect(self) -> sa.Dialect:
        """The dialect the hot statements are compiled for: the engine's, with positional
        parameters where the driver takes named ones (psycopg's pyformat), so that the
        driver gets a tuple and has no dict to re-order per call."""
        dialect = self._engine.dialect
        if dialect.paramstyle != "pyformat":
            return dialect
        return type(dialect)(paramstyle="format", dbapi=dialect.dbapi)

    # ---- metadata half -------------------------------------------------------------
    def _select_by_id(self, columns: tuple[str, ...]) -> str:
        select = sa.select(*(schema.artifacts.c[name] for name in columns))
        where = select.where(schema.artifacts.c.id == sa.bindparam("id"))
        return str(where.compile(dialect=self._statement_dialect))

    def _row_by_id(self, sql: str, artifact_id: str) -> Any:
        conn = self._raw()
        cursor = conn.cursor()
        try:
            cursor.execute(sql, (artifact_id,) if self._positional else {"id": artifact_id})
            row = cursor.fetchone()
        finally:
            cursor.close()
        if self._end_reads:
            conn.rollback()  # end the read transaction so later writes are seen
        return row

    def _fetch(self, artifact_id: str) -> Artifact | None:
        local = self._local
        if self._direct_writes and getattr(local, "pending", 0):  # rows of this thread's p.batch()
            found = buffered_artifact(self, artifact_id)
            if found is not None:
                return found
        execute = getattr(local, "execute", None)
        if execute is None or self._end_reads:
            row = self._row_by_id(self._lookup_sql, artifact_id)
            if not self._end_reads:  # later lookups: one cursor of the driver's own, reused
                local.execute = self._raw().driver_connection.cursor().execute
                local.rows, local.version = {}, None
        elif self._row_cache:  # SQLite: rows this thread read stay good while nobody commits
            version = execute("PRAGMA data_version").fetchone()[0]
            rows = local.rows
            if version != local.version:
                rows.clear()
                local.version = version
            row = rows.get(artifact_id)
            if row is None:
                row = execute(self._lookup_sql, (artifact_id,)).fetchone()
                if row is not None:
                    if len(rows) >= _ROW_CACHE_SIZE:
                        rows.clear()
                    rows[artifact_id] = row
        else:  # one statement on the driver's own connection object
            row = execute(self._lookup_sql, (artifact_id,) if self._positional else {"id": artifact_id}).fetchone()
        return None if row is None else artifact_from_hit_row(self, row, self._fetch_rest)

    def _forget_row(self, artifact_id: str) -> None:
        """This thread's connection rewrote the row: its cached copy is stale."""
        rows = getattr(self._local, "rows", None)
        if rows:
            rows.pop(artifact_id, None)

    def commit_pending(self) -> None:
        """Commit rows this thread wrote inside ``p.batch()`` and has not committed yet."""
        commit_pending(self)

    def _fetch_rest(self, artifact_id: str) -> Any:
        return self._row_by_id(self._rest_sql, artifact_id)

    def _insert_statement(self, table: sa.Table, *, replace: bool = False, key: str = "id") -> Any:
        """INSERT that ignores (or, with ``replace``, updates) an existing row; built once."""
        name = self._engine.dialect.name
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        elif name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:  # pragma: no cover - only the two supported dialects reach here
            raise ConfigError(f"unsupported database dialect {name!r}")
        stmt = insert(table)
        if replace:
            cols = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != key}
            return stmt.on_conflict_do_update(index_elements=[key], set_=cols)
        return stmt.on_conflict_do_nothing()

    @functools.cached_property
    def _statements(self) -> dict[str, Any]:
        return {
            "artifact": self._insert_statement(schema.artifacts),
            "artifact_replace": self._insert_statement(schema.artifacts, replace=True),
            "edges": self._insert_statement(schema.artifact_inputs),
            "run": self._insert_statement(schema.runs),
            "set": self._insert_statement(schema.artifact_sets),
        }

    def _insert(self, artifact: Artifact, *, replace: bool) -> bool:
        row = artifact.to_dict()
        row["added_at"] = artifact.added_at = datetime.now(timezone.utc)
        row["value_bytes"] = artifact._value_bytes
        row["inputs_bytes"] = artifact._inputs_bytes
        row.update(_seal_columns(artifact))
        edges = [
            {"artifact_id": artifact.id, "input_artifact_id": i} for i in dict.fromkeys(artifact.input_artifact_ids)
        ]
        kind = "artifact_replace" if replace else "artifact"
        if self._raw_writes or self._direct_writes:  # on this thread's connection, one transaction
            raw = self._raw_statements
            steps = [(raw[kind], [row])] + ([(raw["edges"], edges)] if edges else [])
            open_batch = current_batch()
            if self._direct_writes:  # PostgreSQL
                if open_batch is not None:
                    return buffer_batched(self, open_batch, artifact, steps)
                return bool(self.run_pipelined(steps))
            self._forget_row(artifact.id)
            if open_batch is not None:
                return insert_batched(self, open_batch, steps)
            inserted = run_in_transaction(self._raw(), steps)
            self._committed()
            return bool(inserted)
        statements = self._statements
        with self._engine.begin() as conn:
            result = conn.execute(statements[kind], row)
            if edges:
                conn.execute(statements["edges"], edges)
        return bool(result.rowcount)

    def run_pipelined(self, steps: list) -> int:
        """PostgreSQL: ``steps`` as one pipelined implicit transaction on this thread's
        connection (a refused privilege is a PermissionDeniedError, as elsewhere)."""
        try:
            return run_pipelined(self._raw().driver_connection, steps)
        except Exception as exc:
            check_permission(exc, self._engine.url.username)
            raise

    @functools.cached_property
    def _raw_statements(self) -> dict[str, RawInsert]:
        dialect = self._statement_dialect
        tables = {"artifact": schema.artifacts, "artifact_replace": schema.artifacts, "edges": schema.artifact_inputs}
        return {name: RawInsert(self._statements[name], tables[name], dialect) for name in tables}

    def save_batch(self, items: list[tuple[Artifact, Any]], *, run_info: dict | None = None) -> int:
        """Store many artifacts in one transaction (values first, rows last); returns the new ones."""
        self._require(self.write, "writing")
        if run_info is not None:
            self.ensure_run(run_info)
        rows, edges = [], []
        now = datetime.now(timezone.utc)
        for artifact, value in items:
            self._store_value(artifact, value)
            if run_info is not None:
                artifact.run_id = run_info["id"]
            artifact.repo = self
            row = artifact.to_dict()
            row["added_at"] = artifact.added_at = now
            row["value_bytes"] = artifact._value_bytes
            row["inputs_bytes"] = artifact._inputs_bytes
            row.update(_seal_columns(artifact))
            rows.append(row)
            edges.extend(
                {"artifact_id": artifact.id, "input_artifact_id": i} for i in dict.fromkeys(artifact.input_artifact_ids)
            )
        if not rows:
            return 0
        ids = [row["id"] for row in rows]
        with self._engine.begin() as conn:
            present = conn.execute(sa.select(sa.func.count()).where(schema.artifacts.c.id.in_(ids))).scalar()
            conn.execute(self._statements["artifact"], rows)
            if edges:
                conn.execute(self._statements["edges"], edges)
        for artifact, value in items:  # a gc running meanwhile may have taken a reused blob
            self._ensure_blobs(artifact, value, None, None)
        return len(set(ids)) - int(present or 0)

    def _delete_record(self, artifact_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(schema.artifact_inputs).where(schema.artifact_inputs.c.artifact_id == artifact_id))
            conn.execute(sa.delete(schema.artifacts).where(schema.artifacts.c.id == artifact_id))

    def _fetch_run(self, run_id: str) -> dict | None:
        with self._engine.connect() as conn:
            info = conn.execute(sa.select(schema.runs.c.info).where(schema.runs.c.id == run_id)).scalar()
        return from_json(info)

    def _insert_run(self, run_info: dict) -> None:
        row = {"id": run_info["id"], "created_at": datetime.now(timezone.utc), "info": run_info}
        with self._engine.begin() as conn:
            conn.execute(self._statements["run"], row)

    def _ids(self) -> Iterator[str]:
        with self._engine.connect() as conn:
            ids = conn.execute(sa.select(schema.artifacts.c.id).order_by(schema.artifacts.c.added_at)).scalars().all()
        return iter(ids)

    def _value_id_in_use(self, value_id: str) -> bool:
        with self._engine.connect() as conn:
            stmt = sa.select(schema.artifacts.c.id).where(schema.artifacts.c.value_id == value_id).limit(1)
            return conn.execute(stmt).first() is not None

    def find(self, query: Any, limit: int | None = None) -> Iterator[Artifact]:
        """Artifacts matching a query (a dict or a CompiledQuery), run as SQL, newest first."""
        plan = compiled(query)
        check_limit(limit)
        if not self.read:
            return iter(())
        a = schema.artifacts
        where = plan.sql_where(self._engine.dialect.name)
        stmt = sa.select(*(a.c[name] for name in FULL_COLUMNS)).where(where)
        newest = (a.c.computed_at.desc(), a.c.id)  # the computed_at index serves it: a LIMIT stops early
        if self._engine.dialect.name == "sqlite":  # NULL sorts lowest here, so undated rows come last
            parts = [stmt.order_by(*newest)]
        else:  # Postgres sorts NULL first in DESC: dated rows, then undated ones
            parts = [stmt.where(a.c.computed_at.is_not(None)).order_by(*newest),
                     stmt.where(a.c.computed_at.is_(None)).order_by(a.c.id)]  # fmt: skip
        rows: list[Any] = []
        with self._engine.connect() as conn:
            for part in parts:
                if limit is not None and len(rows) >= limit:
                    break
                rows += conn.execute(part.limit(limit - len(rows)) if limit is not None else part).all()
        return iter([artifact_from_row(self, tuple(row)) for row in rows])

    def _related(self, artifact_id: str, depth: int | None, *, up: bool) -> dict[str, int]:
        """One recursive query over the edge table: {id: distance} up or down the graph."""
        edges = schema.artifact_inputs
        near, far = (edges.c.artifact_id, edges.c.input_artifact_id) if up else (
            edges.c.input_artifact_id, edges.c.artifact_id)  # fmt: skip
        seed = sa.select(far.label("node"), sa.literal(1).label("depth")).where(near == artifact_id)
        walk = seed.cte("walk", recursive=True)
        step = sa.select(far, walk.c.depth + 1).join(walk, near == walk.c.node)
        if depth is not None:
            step = step.where(walk.c.depth < depth)
        walk = walk.union(step)
        stmt = sa.select(walk.c.node, sa.func.min(walk.c.depth)).group_by(walk.c.node)
        if depth == 0:
            return {}
        with self._engine.connect() as conn:
            return {node: int(d) for node, d in conn.execute(stmt) if node != artifact_id}

    def ancestors(self, artifact_id: str, depth: int | None = None) -> dict[str, int]:
        return self._related(artifact_id, depth, up=True)

    def parents_of(self, ids: list[str]) -> dict[str, list[str]]:
        """Direct parents from the edge table (artifacts and features' records alike)."""
        return self._neighbours(ids, up=True)

    def children_of(self, ids: list[str]) -> dict[str, list[str]]:
        return self._neighbours(ids, up=False)

    def _neighbours(self, ids: list[str], *, up: bool) -> dict[str, list[str]]:
        return edge_neighbours(self._engine, ids, up=up)

    def descendants(self, artifact_id: str, depth: int | None = None) -> dict[str, int]:
        return self._related(artifact_id, depth, up=False)

    def _insert_set(self, artifact_set: ArtifactSet) -> None:
        row = {
            "id": artifact_set.id,
            "name": artifact_set.labels.get("name"),
            "labels": artifact_set.labels,
            "artifact_ids": sorted(artifact_set.artifact_ids),
            "created_at": artifact_set.created_at or datetime.now(timezone.utc),
        }
        with self._engine.begin() as conn:
            conn.execute(self._statements["set"], row)

    def _set_from_row(self, row: Any) -> ArtifactSet:
        return ArtifactSet(
            row.id, frozenset(from_json(row.artifact_ids)), from_json(row.labels), utc(row.created_at), self
        )

    def _fetch_set(self, set_id: str) -> ArtifactSet | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(schema.artifact_sets).where(schema.artifact_sets.c.id == set_id)).first()
        return self._set_from_row(row) if row is not None else None

    def _sets_named(self, name: str | None) -> list[ArtifactSet]:
        table = schema.artifact_sets
        stmt = sa.select(table).order_by(table.c.created_at.desc())
        if name is not None:
            stmt = stmt.where(table.c.name == name)
        with self._engine.connect() as conn:
            return [self._set_from_row(row) for row in conn.execute(stmt)]

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<SqlRepo{label} {self._safe_url()}>"
