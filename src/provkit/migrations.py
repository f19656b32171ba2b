"""Upgrading a repository database to the schema this provkit expects."""

from __future__ import annotations

__all__ = ["upgrade_db", "db_revision"]


def upgrade_db(url: str) -> str:
    """Run the shipped Alembic migrations on the database at ``url``; returns the new revision."""
    import sqlalchemy as sa

    from .repos.sql.migrate import current_revision, upgrade
    from .repos.sql.schema import HEAD_REVISION

    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            upgrade(connection)
            return current_revision(connection) or HEAD_REVISION
    finally:
        engine.dispose()


def db_revision(url: str) -> str | None:
    """The schema revision stamped in the database at ``url`` (None if empty)."""
    import sqlalchemy as sa

    from .repos.sql.migrate import current_revision

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    finally:
        engine.dispose()
