"""Upgrading a repository database to the schema this provkit expects.

A PostgreSQL repository configured with ``schema:`` keeps its tables in that schema;
pass the same ``schema`` here (or the repository itself) so the upgrade and the
revision check act on it, not on ``public``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["upgrade_db", "db_revision"]


def _target(db: Any, schema: str | None) -> tuple[str, str | None]:
    """(url, schema) of a URL or a SQL repository."""
    from provkit.core.errors import ConfigError
    from provkit.storage.repos import Repository

    if isinstance(db, Repository):
        url = getattr(db, "url", None)
        if url is None:
            raise ConfigError(f"{db!r} has no database to upgrade")
        return url, schema if schema is not None else getattr(db, "schema", None)
    if not isinstance(db, str) or "://" not in db:
        raise ConfigError(f"upgrade_db needs a database URL or a SQL repository, got {db!r}")
    if schema is not None and not db.startswith("postgresql"):
        raise ConfigError(f"schema={schema!r} applies to PostgreSQL only, not to {db.split(':', 1)[0]}")
    return db, schema


def _engine(url: str, schema: str | None) -> sa.Engine:
    import sqlalchemy as sa

    if url.startswith("postgresql"):
        from provkit.storage.repos.sql.postgres import engine_for

        return engine_for(url, schema, poolclass=sa.NullPool)
    return sa.create_engine(url, poolclass=sa.NullPool)


def upgrade_db(url: Any, *, schema: str | None = None) -> str:
    """Run the shipped Alembic migrations on a database; returns the new revision.

    ``url`` is a database URL or a SQL repository; ``schema`` the PostgreSQL schema
    holding provkit's tables (default: the repository's, else the server's default)."""
    from provkit.storage.repos.sql.migrate import current_revision, upgrade
    from provkit.storage.repos.sql.schema import HEAD_REVISION

    url, schema = _target(url, schema)
    engine = _engine(url, schema)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                from provkit.storage.repos.sql.postgres import lock_schema

                lock_schema(connection, schema)
            upgrade(connection)
            return current_revision(connection) or HEAD_REVISION
    finally:
        engine.dispose()


def db_revision(url: Any, *, schema: str | None = None) -> str | None:
    """The schema revision stamped in a database (None if provkit never created it there)."""
    from provkit.storage.repos.sql.migrate import current_revision

    url, schema = _target(url, schema)
    engine = _engine(url, schema)
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    finally:
        engine.dispose()
