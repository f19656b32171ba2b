"""The PostgreSQL repository: the SQL repository plus database/schema creation,
connection pooling choices and an advisory lock around schema creation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from provkit.core.errors import ConfigError
from provkit.storage.blobstores.base import BlobStore
from provkit.storage.repos.sql.migrate import ensure_schema
from provkit.storage.repos.sql.repo import SqlRepo
from provkit.storage.repos.sql.roles import translate_permission_errors

# An arbitrary constant: the advisory lock id provkit takes while creating its schema.
_SCHEMA_LOCK_ID = 0x70726F76  # "prov"


def _psycopg_url(db: str) -> sa.URL:
    url = sa.engine.make_url(db)
    if url.get_backend_name() != "postgresql":
        raise ConfigError(
            f"a postgres repo needs a postgresql:// URL, got {url.render_as_string(hide_password=True)!r}"
        )
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def _quote_ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ConfigError(f"schema and database names may hold letters, digits and '_' only, got {name!r}")
    return '"' + name + '"'


def create_database(url: sa.URL) -> bool:
    """Create the database named in ``url`` if it is missing; True if it was created."""
    name = url.database
    if not name:
        raise ConfigError("the postgres URL names no database")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists:
                return False
            try:
                conn.execute(sa.text(f"CREATE DATABASE {_quote_ident(name)}"))
            except sa.exc.ProgrammingError as exc:  # created by a concurrent opener
                if "already exists" not in str(exc):
                    raise
                return False
            return True
    finally:
        admin.dispose()


def schema_engine_options(schema: str | None, engine_options: dict | None = None) -> dict:
    """Engine options whose connections work in ``schema`` (its ``search_path``)."""
    options = dict(engine_options or {})
    if schema:
        _quote_ident(schema)
        connect_args = dict(options.get("connect_args", {}))
        connect_args["options"] = f"-csearch_path={schema}"
        options["connect_args"] = connect_args
    return options


def create_schema(conn: sa.Connection, schema: str | None) -> None:
    """``CREATE SCHEMA IF NOT EXISTS`` (nothing for the default schema)."""
    if schema:
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {_quote_ident(schema)}"))


def lock_schema(conn: sa.Connection, schema: str | None) -> None:
    """Serialize schema creation and migration across processes (an advisory lock)."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_ID})
    create_schema(conn, schema)


def engine_for(db: str, schema: str | None = None, **engine_options: Any) -> sa.Engine:
    """An engine on a postgresql:// URL (psycopg driver) working in ``schema``."""
    return sa.create_engine(_psycopg_url(db), **schema_engine_options(schema, engine_options))


class PostgresRepo(SqlRepo):
    """Artifacts in PostgreSQL (JSONB columns, indexes for ids, value ids, names, lineage).

    Artifact rows are written on each thread's own connection, in autocommit and, unless
    ``synchronous_commit=True``, with PostgreSQL's ``synchronous_commit = off``: a commit
    does not wait for the server's log flush (fsync). A crash of the client loses nothing
    committed; a crash of the server may lose the last fraction of a second of cached
    results (never a part of one: rows stay whole, and values are stored before rows),
    which are then computed again, as SQLite's WAL mode with synchronous=NORMAL (the
    embedded default) allows on a crash of the machine. Everything else (runs, sets,
    registry, lifecycle) commits synchronously.
    """

    type_name = "postgres"

    def __init__(
        self,
        db: str,
        store: BlobStore | None,
        *,
        create_db: bool = False,
        schema: str | None = None,
        persistent_connections: bool = True,
        synchronous_commit: bool = False,
        engine_options: dict | None = None,
        **options: Any,
    ) -> None:
        url = _psycopg_url(db)
        self.schema = schema
        self.persistent_connections = bool(persistent_connections)
        self.synchronous_commit = bool(synchronous_commit)
        if create_db:
            create_database(url)
        engine_options = schema_engine_options(schema, engine_options)
        if not persistent_connections:
            engine_options.setdefault("poolclass", sa.NullPool)
        super().__init__(url.render_as_string(hide_password=False), store, engine_options=engine_options, **options)

    def _make_engine(self, db: str, engine_options: dict) -> sa.Engine:
        engine = super()._make_engine(db, engine_options)
        translate_permission_errors(engine)
        return engine

    def _init_schema(self) -> None:
        ensure_schema(self._engine, self._safe_url(), lambda conn: lock_schema(conn, self.schema))

    def _raw(self) -> Any:
        if not self.persistent_connections:
            return _OneShot(self._engine.raw_connection())
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._engine.raw_connection()
            conn.rollback()  # leave whatever the connect hooks began
            # a lookup is one SELECT: in autocommit it is one round trip, no BEGIN/ROLLBACK around it
            conn.driver_connection.autocommit = True
            if not self.synchronous_commit:  # cached results: no wait for the server's WAL flush
                conn.driver_connection.execute("SET synchronous_commit = off")
            self._local.conn = conn
            self._thread_conns.append(conn)
        return conn


class _OneShot:
    """A DBAPI connection returned to the (null) pool right after the lookup."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def cursor(self) -> Any:
        return self._conn.cursor()

    def rollback(self) -> None:
        self._conn.rollback()
        self._conn.close()
