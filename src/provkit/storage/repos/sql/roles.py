"""PostgreSQL roles for a shared repository: readers, writers and admins.

``create_roles(engine, schema)`` makes three group roles (no login) with the grants each
needs on the repository's schema; people's database users join one of them
(``GRANT provkit_writer TO alice``). Readers query and fetch; writers also record
artifacts, runs and registry entries; admins may also delete and migrate the schema.
A statement the database refuses for lack of privilege is a ``PermissionDeniedError``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from provkit.core.errors import PermissionDeniedError

__all__ = ["ROLE_PRIVILEGES", "check_permission", "create_roles", "translate_permission_errors"]

#: role suffix -> table privileges
ROLE_PRIVILEGES = {
    "reader": "SELECT",
    "writer": "SELECT, INSERT, UPDATE",
    "admin": "ALL PRIVILEGES",
}


def _ident(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def create_roles(engine: sa.Engine, schema: str | None = None, prefix: str = "provkit") -> list[str]:
    """Create (or refresh the grants of) ``<prefix>_reader``, ``_writer`` and ``_admin``
    on ``schema`` (default: ``public``); returns the role names."""
    if engine.dialect.name != "postgresql":
        raise PermissionDeniedError("database roles exist on PostgreSQL only (SQLite has no users)")
    schema = schema or "public"
    made = []
    with engine.begin() as conn:
        s = _ident(conn, schema)
        for suffix, privileges in ROLE_PRIVILEGES.items():
            role = f"{prefix}_{suffix}"
            r = _ident(conn, role)
            exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
            if exists is None:
                conn.execute(sa.text(f"CREATE ROLE {r} NOLOGIN"))
            conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {s} TO {r}"))
            conn.execute(sa.text(f"GRANT {privileges} ON ALL TABLES IN SCHEMA {s} TO {r}"))
            conn.execute(sa.text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT {privileges} ON TABLES TO {r}"))
            if suffix != "reader":
                conn.execute(sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}"))
            if suffix == "admin":
                conn.execute(sa.text(f"GRANT CREATE ON SCHEMA {s} TO {r}"))
            made.append(role)
    return made


def translate_permission_errors(engine: sa.Engine) -> None:
    """Turn the database's "permission denied" into a PermissionDeniedError saying which
    role would allow it."""

    def handle(context: Any) -> None:
        user = context.engine.url.username if context.engine is not None else None
        check_permission(context.original_exception, user)

    sa.event.listen(engine, "handle_error", handle)


def check_permission(original: BaseException, user: str | None) -> None:
    """Raise a PermissionDeniedError for a driver error that is "permission denied" (the
    SQL statements provkit runs on the driver's own connection pass here too)."""
    if getattr(original, "sqlstate", None) == "42501":  # insufficient_privilege
        raise PermissionDeniedError(
            f"database user {user!r} may not do this ({str(original).splitlines()[0]}); "
            "writing needs the provkit_writer role (`provkit db roles`, then GRANT provkit_writer TO you)"
        ) from original
