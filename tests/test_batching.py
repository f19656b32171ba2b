"""``with p.batch():`` commits cache-miss rows together, on a real SQLite file and a real
PostgreSQL server."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

import provkit as p

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    return request.param


@pytest.fixture
def repo(tmp_path, backend, request):
    db = f"sqlite:///{tmp_path}/db.sqlite"
    if backend == "postgres":
        db = request.getfixturevalue("postgres_url")
    config = {
        "blobstores": {"disk": {"type": "disk", "cachedir": str(tmp_path / "blobs")}},
        "artifact_repos": {"local": {"type": backend, "db": db, "store": "disk"}},
    }
    p.load_config(config)
    yield p.get_default_repo()


@pytest.fixture
def committed(repo, tmp_path, backend):
    """Counts the rows another connection (another process, say) can see."""

    def count() -> int:
        if backend == "sqlite":
            return _committed(tmp_path)
        engine = sa.create_engine(repo.url, poolclass=sa.NullPool)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text("select count(*) from artifacts where name like '%square%'")).scalar()
        finally:
            engine.dispose()

    return count


def _committed(tmp_path) -> int:
    """Rows another connection to the SQLite file can see."""
    db = sqlite3.connect(tmp_path / "db.sqlite")
    try:
        return db.execute("select count(*) from artifacts where name like '%square%'").fetchone()[0]
    finally:
        db.close()


def _square_fn(calls: list):
    @p.provenance(name="batch.square")
    def square(x):
        calls.append(x)
        return x * x

    return square


def test_rows_are_committed_when_the_block_ends_and_seen_by_this_thread_before(repo, committed):
    calls: list = []
    square = _square_fn(calls)
    with p.batch(every=1000, seconds=600):
        results = [square(i) for i in range(50)]
        assert committed() == 0  # nothing visible outside yet
        again = [square(i) for i in range(50)]  # this thread sees its own rows: hits
        assert calls == list(range(50))
        assert [a.artifact.id for a in again] == [r.artifact.id for r in results]
    assert committed() == 50
    assert p.load_artifact(results[7].artifact.id).value == 49


def test_every_n_rows_commits(repo, committed):
    square = _square_fn([])
    with p.batch(every=10, seconds=600):
        for i in range(25):
            square(i)
        assert committed() == 20
    assert committed() == 25


def test_after_seconds_the_next_row_commits(repo, committed):
    square = _square_fn([])
    with p.batch(every=1000, seconds=0.05):
        square(1)
        import time

        time.sleep(0.1)
        square(2)
        assert committed() == 2


def test_other_uses_of_the_repository_commit_first(repo, committed):
    square = _square_fn([])
    with p.batch(every=1000, seconds=600):
        made = [square(i) for i in range(5)]
        found = list(p.find_artifacts({"name": "batch.square"}))  # a query sees every row
        assert len(found) == 5
        assert committed() == 5
        square(10)
        p.create_set([m.artifact.id for m in made], "five")  # a write elsewhere does not wait
        assert committed() == 6


def test_an_exception_in_the_block_still_commits_what_was_computed(repo, committed):
    square = _square_fn([])
    with pytest.raises(RuntimeError, match="boom"), p.batch(every=1000, seconds=600):
        square(3)
        raise RuntimeError("boom")
    assert committed() == 1


def test_nested_batches_follow_the_outer_one(repo, committed):
    square = _square_fn([])
    with p.batch(every=1000, seconds=600):
        with p.batch(every=1, seconds=600):
            square(1)
            square(2)
        assert committed() == 0
    assert committed() == 2


@pytest.mark.parametrize("kwargs", [{"every": 0}, {"every": 1.5}, {"seconds": 0}, {"seconds": "1"}])
def test_bad_limits_are_a_clear_error(kwargs):
    with pytest.raises(p.ConfigError, match="batch"), p.batch(**kwargs):
        pass


def test_a_crash_in_a_batch_loses_only_uncommitted_rows(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {SRC!r})
        import provkit as p
        p.load_config({{
            "blobstores": {{"disk": {{"type": "disk", "cachedir": {str(tmp_path / "blobs")!r}}}}},
            "artifact_repos": {{
                "local": {{"type": "sqlite", "db": "sqlite:///{tmp_path}/db.sqlite", "store": "disk"}},
            }},
        }})

        @p.provenance(name="batch.square")
        def square(x):
            return bytes(20_000) + bytes([x])  # a blob, not an inline value

        with p.batch(every=10, seconds=600):
            for i in range(15):
                square(i)
            os._exit(3)  # killed before the block ends
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert _committed(tmp_path) == 10
    p.load_config(
        {
            "blobstores": {"disk": {"type": "disk", "cachedir": str(tmp_path / "blobs")}},
            "artifact_repos": {"local": {"type": "sqlite", "db": f"sqlite:///{tmp_path}/db.sqlite", "store": "disk"}},
        }
    )
    rows = list(p.find_artifacts({"name": "batch.square"}))
    assert len(rows) == 10
    for artifact in rows:  # every committed row has its blob
        assert artifact.value[-1] < 10
