"""Rows of a SQLite repository written inside ``p.batch()``: executed on the thread's
connection, committed by the batch's rule (see ``provkit.batching``)."""

from __future__ import annotations

import time
from typing import Any

from provkit.storage.batching import Batch
from provkit.storage.repos.sql.raw_insert import execute_steps


def pending_rows(repo: Any) -> int:
    return getattr(repo._local, "pending", 0)


def insert_batched(repo: Any, batch: Batch, steps: list) -> bool:
    """Execute ``steps`` in the open transaction; commit when the batch says it is due."""
    conn = repo._raw()
    count = pending_rows(repo)
    if count == 0:
        repo._local.pending_since = time.monotonic()
    try:
        rowcount = execute_steps(conn, steps)
    except BaseException as exc:
        conn.rollback()
        repo._local.pending = 0
        batch.pending.pop(id(repo), None)
        if count:
            exc.add_note(f"the {count} uncommitted row(s) of the open p.batch() were rolled back with it")
        raise
    repo._local.pending = count + 1
    batch.pending[id(repo)] = repo
    if batch.due(count + 1, repo._local.pending_since):
        commit_pending(repo)
        batch.pending.pop(id(repo), None)
    return bool(rowcount)


def commit_pending(repo: Any) -> None:
    """Commit this thread's uncommitted batch rows in ``repo`` (if any)."""
    if pending_rows(repo):
        repo._raw().commit()
        repo._local.pending = 0


def commit_before_other_use(repo: Any) -> None:
    """Engine hook: any other use of the database in this thread sees (and does not wait
    on) the batch's rows."""
    if pending_rows(repo):
        commit_pending(repo)
