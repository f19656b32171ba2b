"""SQL repository: SQLAlchemy Core tables, Alembic migrations, SQLite and PostgreSQL."""

from provkit.storage.repos.sql.repo import SqlRepo

__all__ = ["SqlRepo"]
