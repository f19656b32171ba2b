"""What a SQL repository keeps per thread, with class-level defaults.

A ``threading.local`` attribute that was never set costs an AttributeError inside
``getattr(local, name, default)`` (~10x a found attribute): the cache-hit path reads
several of these per call, so every one has a default here.
"""

from __future__ import annotations

import threading
from typing import Any


class ThreadState(threading.local):
    """One thread's DBAPI connection, lookup cursor and row cache, and open batch rows."""

    conn: Any = None  # the thread's own DBAPI connection (lookups, artifact rows)
    execute: Any = None  # its lookup cursor's execute, once the first lookup ran
    rows: dict | None = None  # SQLite: hit rows read while PRAGMA data_version stays ``version``
    version: int | None = None
    pending: int = 0  # rows written inside p.batch() and not committed yet
    pending_since: float = 0.0
    buffer: list | None = None  # PostgreSQL: those rows' statements, sent at the commit
    buffered: dict | None = None  # PostgreSQL: those rows' artifacts, for this thread's lookups
