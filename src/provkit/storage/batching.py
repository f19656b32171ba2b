"""``with p.batch():`` — commit the rows of many small cache misses together.

Each cache miss normally commits its own row: committed means it survives a crash of the
process. In a loop of thousands of tiny calls that commit is most of the cost. Inside
``batch(every=N, seconds=T)`` the SQL repositories used by this thread commit every
``N`` rows or ``T`` seconds, and when the block ends (also on an exception). Meanwhile:

* this thread sees its own uncommitted rows (a repeated call is a hit); other threads and
  processes see them at the next commit, and SQLite writers elsewhere wait at most ``T``;
* values are still written (blob first) before their row, so a row never lacks its blob;
  a crash loses at most the uncommitted rows, whose calls are then recomputed (their
  blobs are orphans for ``provkit gc``);
* any other use of the repository in this thread (queries, sets, registry writes) first
  commits what is pending.

On PostgreSQL the rows wait in the process until the commit, which sends them all in one
pipelined transaction (a miss then costs its lookup's round trip only); a failure of that
commit raises with a note that none of its rows were written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from provkit.core.errors import ConfigError

__all__ = ["batch", "current_batch"]


class _OpenBatch(threading.local):
    batch: Batch | None = None  # a default: a lookup of a never-set attribute raises inside getattr


_local = _OpenBatch()


@dataclass
class Batch:
    """The open batch of one thread: its limits and the repositories holding rows."""

    every: int
    seconds: float
    pending: dict[int, Any] = field(default_factory=dict)  # id(repo) -> repo with uncommitted rows

    def due(self, count: int, started: float) -> bool:
        return count >= self.every or time.monotonic() - started >= self.seconds

    def flush(self) -> None:
        for repo in list(self.pending.values()):
            repo.commit_pending()
        self.pending.clear()


def current_batch() -> Batch | None:
    """This thread's open batch, if any."""
    return getattr(_local, "batch", None)


@contextmanager
def batch(every: int = 1000, seconds: float = 0.5) -> Iterator[Batch]:
    """Commit cache-miss rows every ``every`` rows or ``seconds`` seconds (see module doc)."""
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ConfigError(f"batch(every=...) must be a positive int, got {every!r}")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0:
        raise ConfigError(f"batch(seconds=...) must be a positive number, got {seconds!r}")
    outer = current_batch()
    if outer is not None:  # nested: the outer batch decides
        yield outer
        return
    _local.batch = opened = Batch(every, float(seconds))
    try:
        yield opened
    finally:
        _local.batch = None
        opened.flush()
