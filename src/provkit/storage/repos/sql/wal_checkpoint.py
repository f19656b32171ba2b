"""SQLite write-ahead-log checkpoints on a background thread instead of inside a commit.

In WAL mode (synchronous=NORMAL) a commit appends its pages to the ``-wal`` file without
an fsync; every ~1000 pages SQLite copies the log back into the database file, with
fsyncs, inside whichever commit crossed the mark: one cache miss in a hundred then waits
tens of milliseconds. The connection a SQLite repository writes cached results on hands
that work to one daemon thread per database file and process (its own connection; SQLite
releases the GIL while it works):

- every ``interval`` seconds, when someone committed since it last looked, a PASSIVE
  checkpoint (it never waits for readers or writers; commits go on meanwhile);
- after ``idle`` seconds without a commit, and when the process exits, a TRUNCATE
  checkpoint with a short busy timeout, which leaves the ``-wal`` file empty;
- after ``linger`` quiet seconds the thread ends; the next commit starts another.

That connection's own automatic checkpoint stays on at ``SAFETY_PAGES`` (~40 MiB of log),
so the log stays bounded should the thread fall behind. Durability is unchanged: what a
commit guarantees does not depend on checkpoints.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sqlite3
import threading
import time
import urllib.parse

__all__ = ["SAFETY_PAGES", "WalCheckpointer", "note_commit"]

#: the automatic checkpoint of the connection cached results are written on (4 KiB pages)
SAFETY_PAGES = 10_000

_lock = threading.Lock()
_running: dict[str, WalCheckpointer] = {}


class WalCheckpointer:
    """Checkpoints the WAL of the SQLite database file at ``path`` from a daemon thread."""

    def __init__(self, path: str, *, interval: float = 0.25, idle: float = 1.0, linger: float = 5.0) -> None:
        self.path = path
        self.interval, self.idle, self.linger = interval, idle, linger
        self.pid = os.getpid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="provkit-wal-checkpoint", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self.pid == os.getpid() and self._thread.is_alive() and not self._stop.is_set()

    def _run(self) -> None:
        try:
            self._checkpoint_while_used()
        except sqlite3.Error:
            pass  # the file went away or stays locked: commits go on, the safety checkpoint bounds the log
        finally:
            with _lock:
                if _running.get(self.path) is self:
                    del _running[self.path]

    def _checkpoint_while_used(self) -> None:
        uri = "file:" + urllib.parse.quote(self.path) + "?mode=rw"  # never creates a missing file
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=0.05)
        try:
            seen, changed_at, truncated = None, time.monotonic(), True
            while not self._stop.wait(self.interval):
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                now = time.monotonic()
                if version != seen:
                    seen, changed_at, truncated = version, now, False
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                elif not truncated and now - changed_at >= self.idle:
                    truncated = _truncate(conn)
                elif truncated and now - changed_at >= self.linger:
                    with _lock:  # a commit from now on starts a new thread
                        self._stop.set()
                    return
            with contextlib.suppress(sqlite3.Error):
                _truncate(conn)
        finally:
            conn.close()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)


def _truncate(conn: sqlite3.Connection) -> bool:
    """A TRUNCATE checkpoint; True when the whole log was copied back and the file emptied."""
    busy, _log, _copied = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def note_commit(path: str) -> None:
    """Someone committed to the database file at ``path`` (a real path): make sure this
    process has a thread checkpointing it."""
    running = _running.get(path)
    if running is not None and running.alive:
        return
    with _lock:
        running = _running.get(path)
        if running is None or not running.alive:
            _running[path] = WalCheckpointer(path)


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # the parent's threads (and a lock one of them held) are gone
    _running.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _stop_all() -> None:
    for checkpointer in list(_running.values()):
        if checkpointer.pid == os.getpid():
            checkpointer.stop()
