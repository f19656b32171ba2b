"""Engine and connection plumbing of the SQL repository: SQLite's connect-time settings,
the engine listener that commits a thread's open batch before other use, and the
finalizer that closes a dropped repository's connections."""

from __future__ import annotations

import contextlib
import functools
import re
import weakref
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from provkit.storage.repos.sql.batched import commit_before_other_use

__all__ = ["close_connections", "commit_hook", "sqlite_pragmas", "sqlite_read_only_pragmas"]


def commit_hook(repo_ref: weakref.ref) -> Callable[[Any], None]:
    """The engine's "begin" listener, holding its repository weakly: SQLAlchemy keeps
    listeners alive as long as the engine, which must not keep the repository (and its
    connections) alive."""

    def hook(_conn: Any) -> None:
        repo = repo_ref()
        if repo is not None:
            commit_before_other_use(repo)

    return hook


def close_connections(conns: list[Any], engine: sa.Engine) -> None:
    """A dropped SQL repository's finalizer: its threads' connections go back to its pool,
    which is closed (not left for the driver to find open at garbage collection)."""
    for conn in conns:
        with contextlib.suppress(Exception):  # a broken connection: nothing left to release
            conn.close()
    conns.clear()
    engine.dispose()


def _regexp(pattern: str, value: Any) -> bool:
    return isinstance(value, str) and _compiled(pattern).search(value) is not None


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def sqlite_read_only_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function("REGEXP", 2, _regexp, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function("REGEXP", 2, _regexp, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()
