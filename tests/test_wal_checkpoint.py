"""SQLite's write-ahead log is checkpointed by a background thread, not inside a commit.

A cache miss on the embedded default commits one row; SQLite's automatic checkpoint
(every 1000 pages, with fsyncs) would run inside one commit in a hundred. The connection
cached results are written on leaves that to ``wal_checkpoint``'s thread, which also
empties the ``-wal`` file once writes stop.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import provkit as p
from provkit.core.artifacts import Artifact
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.sql import SqlRepo, wal_checkpoint
from provkit.storage.repos.sql.wal_checkpoint import SAFETY_PAGES, WalCheckpointer


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _repo(tmp_path) -> SqlRepo:
    return SqlRepo(f"sqlite:///{tmp_path}/db.sqlite", DiskStore(str(tmp_path / "blobs")))


def test_the_writing_connection_leaves_checkpoints_to_the_thread(tmp_path):
    repo = _repo(tmp_path)
    repo.save(Artifact("x1one", "v1", "wal.test"), 1)
    pragma = repo._raw().driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    assert pragma == SAFETY_PAGES
    path = os.path.realpath(tmp_path / "db.sqlite")
    assert wal_checkpoint._running[path].alive
    names = [t.name for t in threading.enumerate()]
    assert "provkit-wal-checkpoint" in names
    repo.engine.dispose()


def test_the_log_is_copied_back_and_emptied_once_writes_stop(tmp_path):
    repo = _repo(tmp_path)

    @p.provenance(repo=repo)
    def square(i):
        return {"i": i, "square": i * i}

    for i in range(600):
        square(i)
    wal = tmp_path / "db.sqlite-wal"
    assert wal.exists()
    assert _wait_for(lambda: wal.stat().st_size == 0), wal.stat().st_size
    # everything is in the database file itself now: a reader without the log sees it all
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes((tmp_path / "db.sqlite").read_bytes())
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT count(*) FROM artifacts").fetchone()[0] == 600
    assert square(599).artifact.value == {"i": 599, "square": 599 * 599}
    repo.engine.dispose()


def test_a_missing_database_file_is_never_created(tmp_path):
    path = str(tmp_path / "gone.sqlite")
    checkpointer = WalCheckpointer(path, interval=0.01)
    assert _wait_for(lambda: not checkpointer._thread.is_alive(), 5)
    assert not os.path.exists(path)


def test_the_thread_ends_when_quiet_and_comes_back_with_the_next_commit(tmp_path):
    repo = _repo(tmp_path)
    path = os.path.realpath(tmp_path / "db.sqlite")
    repo.save(Artifact("x1first", "v1", "wal.test"), 1)
    first = wal_checkpoint._running[path]
    first.stop()
    assert not first.alive
    repo.save(Artifact("x1second", "v2", "wal.test"), 2)
    second = wal_checkpoint._running[path]
    assert second is not first and second.alive
    repo.engine.dispose()


def test_a_process_that_exits_leaves_an_empty_log(tmp_path):
    script = textwrap.dedent(
        f"""
        import provkit as p
        from provkit.storage.blobstores.disk import DiskStore
        from provkit.storage.repos.sql import SqlRepo
        repo = SqlRepo("sqlite:///{tmp_path}/db.sqlite", DiskStore("{tmp_path}/blobs"))

        @p.provenance(repo=repo)
        def double(i):
            return 2 * i

        for i in range(300):
            double(i)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    wal = tmp_path / "db.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM artifacts").fetchone()[0] == 300


def _child_saves(repo: SqlRepo, path: str, queue) -> None:
    repo.save(Artifact("x1child", "v-child", "wal.test"), 2)
    running = wal_checkpoint._running.get(path)
    queue.put(running is not None and running.alive and running.pid == os.getpid())


def test_a_forked_child_checkpoints_with_its_own_thread(tmp_path):
    import multiprocessing as mp

    repo = _repo(tmp_path)
    path = os.path.realpath(tmp_path / "db.sqlite")
    repo.save(Artifact("x1parent", "v-parent", "wal.test"), 1)
    assert wal_checkpoint._running[path].alive
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_saves, args=(repo, path, queue))
    child.start()
    assert queue.get(timeout=60) is True
    child.join(60)
    assert child.exitcode == 0
    assert repo.load_value(repo.lookup("x1child")) == 2
    repo.engine.dispose()
