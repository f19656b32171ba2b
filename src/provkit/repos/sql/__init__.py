"""SQL repository: SQLAlchemy Core tables, Alembic migrations, SQLite and PostgreSQL."""

from .repo import SqlRepo

__all__ = ["SqlRepo"]
