"""Rows of a SQL repository written inside ``p.batch()``, committed by the batch's rule
(see ``provkit.batching``); this thread's lookups see them meanwhile.

SQLite executes them at once on the thread's connection (the one its lookups use) and
commits later. PostgreSQL keeps them here, in the order written, and sends them all at
the commit as one pipeline (one implicit transaction: all or none), so a miss in a batch
costs its lookup's round trip only.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from provkit.core.artifacts import Artifact
from provkit.storage.batching import Batch
from provkit.storage.repos.sql.raw_insert import execute_steps


def pending_rows(repo: Any) -> int:
    return getattr(repo._local, "pending", 0)


def insert_batched(repo: Any, batch: Batch, steps: list) -> bool:
    """SQLite: execute ``steps`` in the open transaction; commit when the batch says it is due."""
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
    _counted(repo, batch, count + 1)
    return bool(rowcount)


def buffer_batched(repo: Any, batch: Batch, artifact: Artifact, steps: list) -> bool:
    """PostgreSQL: keep ``steps`` (and the artifact, for lookups) until the batch commits;
    True unless this artifact is already waiting."""
    local = repo._local
    count = pending_rows(repo)
    if count == 0:
        local.pending_since = time.monotonic()
        local.buffer, local.buffered = [], {}
    new = artifact.id not in local.buffered
    local.buffer.extend(steps)
    local.buffered[artifact.id] = artifact
    _counted(repo, batch, count + 1)
    return new


def buffered_artifact(repo: Any, artifact_id: str) -> Artifact | None:
    """A copy of the artifact this thread wrote in the open batch (not sent yet), if any."""
    buffered = getattr(repo._local, "buffered", None)
    found = buffered.get(artifact_id) if buffered else None
    return copy.copy(found) if found is not None else None


def _counted(repo: Any, batch: Batch, count: int) -> None:
    repo._local.pending = count
    batch.pending[id(repo)] = repo
    if batch.due(count, repo._local.pending_since):
        commit_pending(repo)
        batch.pending.pop(id(repo), None)


def commit_pending(repo: Any) -> None:
    """Commit this thread's uncommitted batch rows in ``repo`` (if any)."""
    count = pending_rows(repo)
    if not count:
        return
    local = repo._local
    local.pending = 0
    if not repo._direct_writes:
        repo._raw().commit()
        repo._committed()
        return
    steps, local.buffer, local.buffered = local.buffer, [], {}
    merged: dict[Any, list] = {}  # one executemany per statement, rows in the order written
    for statement, rows in steps:
        merged.setdefault(statement, []).extend(rows)
    try:
        repo.run_pipelined(list(merged.items()))
    except BaseException as exc:
        exc.add_note(f"none of the {count} row(s) of the open p.batch() were written")
        raise


def commit_before_other_use(repo: Any) -> None:
    """Engine hook: any other use of the database in this thread sees (and does not wait
    on) the batch's rows."""
    if pending_rows(repo):
        commit_pending(repo)
