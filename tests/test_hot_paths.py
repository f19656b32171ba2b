"""The short cuts of the cache-hit and cache-miss paths keep every behaviour.

SQLite: a repeated lookup trusts its cached row only while ``PRAGMA data_version`` says
no other connection committed. PostgreSQL: a miss's row and its lineage edges go in one
pipeline (one implicit transaction), and inside ``p.batch()`` they wait in the process
until the commit. The hit reads ``compute_duration`` with its row (one SELECT).
"""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

import provkit as p
from provkit.core.artifacts import Artifact
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.sql import SqlRepo
from provkit.storage.repos.sql.postgres import PostgresRepo


def _artifact(artifact_id: str, parents: list[str] | None = None) -> Artifact:
    return Artifact(artifact_id, "v-" + artifact_id, "hot.paths", input_artifact_ids=parents or [])


@pytest.fixture
def two_sqlite(tmp_path):
    """Two repositories on one SQLite file, as two processes would have."""
    url = f"sqlite:///{tmp_path}/db.sqlite"
    first = SqlRepo(url, DiskStore(str(tmp_path / "blobs")), delete=True)
    second = SqlRepo(url, DiskStore(str(tmp_path / "blobs")), delete=True)
    yield first, second
    first.engine.dispose()
    second.engine.dispose()


def test_sqlite_lookup_sees_a_row_deleted_elsewhere(two_sqlite):
    first, second = two_sqlite
    first.save(_artifact("x1gone"), 41)
    for _ in range(3):  # the row is cached by now
        assert first.lookup("x1gone").load_kwargs is None
    second.delete("x1gone")
    assert first.lookup("x1gone") is None


def test_sqlite_lookup_sees_a_row_rewritten_elsewhere(two_sqlite):
    first, second = two_sqlite
    first.save(_artifact("x1moved"), 1)
    assert first.load_value(first.lookup("x1moved")) == 1
    first.lookup("x1moved")  # cached by now
    rewritten = _artifact("x1moved")
    rewritten.load_kwargs = {"mmap_mode": None}
    second.save(rewritten, 2, replace=True)
    found = first.lookup("x1moved")
    assert found.load_kwargs == {"mmap_mode": None}
    assert first.load_value(found) == 2


def test_sqlite_lookup_sees_its_own_rewrite(two_sqlite):
    first, _ = two_sqlite
    first.save(_artifact("x1own"), 1)
    first.lookup("x1own")
    first.save(_artifact("x1own"), 3, replace=True)
    assert first.load_value(first.lookup("x1own")) == 3


def test_a_hit_reads_its_record_in_one_select(tmp_path, monkeypatch):
    p.load_config(
        {
            "blobstores": {"disk": {"type": "disk", "cachedir": str(tmp_path / "blobs")}},
            "artifact_repos": {"local": {"type": "sqlite", "db": f"sqlite:///{tmp_path}/db.sqlite", "store": "disk"}},
        }
    )

    @p.provenance()
    def add(a, b):
        return a + b

    add(1, 2)
    repo = p.get_default_repo()
    rest: list = []
    real = repo._fetch_rest
    monkeypatch.setattr(repo, "_fetch_rest", lambda i: rest.append(i) or real(i))
    before = p.stats()["time_saved"]
    assert add(1, 2) == 3
    assert rest == []  # the stats' compute_duration came with the hit row
    assert p.stats()["time_saved"] > before


def test_small_immutable_values_are_read_once_mutable_ones_every_time(two_sqlite):
    repo, _ = two_sqlite

    @p.provenance(repo=repo)
    def word(n):
        return "ab" * n

    @p.provenance(repo=repo)
    def listing(n):
        return list(range(n))

    first, second = word(30), word(30)
    assert second.__wrapped__ is word(30).__wrapped__  # kept by its stored bytes, not unpickled again
    assert first == second == "ab" * 30
    one, two = listing(5), listing(5)
    assert one == two and one.__wrapped__ is not two.__wrapped__  # each hit gets its own list
    one.append(99)
    assert listing(5) == [0, 1, 2, 3, 4]


def test_kept_bytes_under_another_digest_are_checked_and_refused(two_sqlite):
    """A row holding the bytes of a value read before, but recorded with another digest
    (a row edited or swapped by hand), is refused as usual."""
    from provkit.storage.repos.sql import schema

    repo, _ = two_sqlite

    @p.provenance(repo=repo)
    def word(n):
        return "cd" * n

    other = word(21)
    word(20)
    kept = word(20)  # a hit: read from the row, then kept
    assert word(20).__wrapped__ is kept.__wrapped__
    with repo.engine.begin() as conn:
        conn.execute(
            sa.update(schema.artifacts)
            .where(schema.artifacts.c.id == other.artifact.id)
            .values(value_bytes=repo.lookup(kept.artifact.id)._value_bytes)
        )
    with pytest.raises(p.BlobCorruptError, match=other.artifact.id):
        repo.load_value(repo.lookup(other.artifact.id))


@pytest.fixture
def pg_repo(postgres_url, tmp_path):
    repo = PostgresRepo(postgres_url, DiskStore(str(tmp_path / "blobs")))
    yield repo
    repo.engine.dispose()


def _count(repo: PostgresRepo, table: str) -> int:
    engine = sa.create_engine(repo.url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"select count(*) from {table}")).scalar()
    finally:
        engine.dispose()


def test_postgres_row_and_edges_are_one_transaction(pg_repo):
    pg_repo.save(_artifact("x1parent"), 1)
    pg_repo.save(_artifact("x1child", ["x1parent"]), 2)
    assert pg_repo.parents_of(["x1child"]) == {"x1child": ["x1parent"]}
    too_long = "x1" + "f" * 200  # no artifact_inputs.input_artifact_id holds it: the edge fails
    with pytest.raises(psycopg.errors.StringDataRightTruncation, match="too long"):
        pg_repo.save(_artifact("x1orphan", [too_long]), 3)
    assert pg_repo.lookup("x1orphan") is None  # the row went back with its edge
    assert _count(pg_repo, "artifacts") == 2
    pg_repo.save(_artifact("x1after"), 4)  # the connection is usable after the failure
    assert pg_repo.load_value(pg_repo.lookup("x1after")) == 4


def test_postgres_batch_rows_wait_in_the_process_and_fail_together(pg_repo):
    with pytest.raises(Exception, match="too long") as failed, p.batch(every=1000, seconds=600):
        pg_repo.save(_artifact("x1first"), 1)
        assert pg_repo.lookup("x1first").value_id == "v-x1first"  # this thread sees it
        assert _count(pg_repo, "artifacts") == 0  # nobody else does yet
        pg_repo.save(_artifact("x1second", ["x1" + "f" * 200]), 2)
    assert any("none of the 2 row(s)" in note for note in failed.value.__notes__)
    assert _count(pg_repo, "artifacts") == 0
    assert pg_repo.lookup("x1first") is None
    with p.batch(every=2, seconds=600):
        for i in range(3):
            pg_repo.save(_artifact(f"x1ok{i}"), i)
        assert _count(pg_repo, "artifacts") == 2  # every=2: the first two were committed
    assert _count(pg_repo, "artifacts") == 3


def test_a_dropped_postgres_repository_closes_its_connections(postgres_url, tmp_path):
    """The engine's listener must not keep its repository (and the lookup connection each
    thread holds) alive: a process that makes repositories over and over would run the
    server out of connections."""
    import gc
    import time

    name = sa.engine.make_url(postgres_url).database
    admin = sa.create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", poolclass=sa.NullPool)

    def connections() -> int:
        with admin.connect() as conn:
            sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = :name"
            return conn.execute(sa.text(sql), {"name": name}).scalar()

    for i in range(3):
        repo = PostgresRepo(postgres_url, DiskStore(tmp_path / "blobs"))
        tracked = p.provenance(repo=repo, name=f"hot.drop{i}")(lambda x: x + 1)
        assert tracked(1) == 2 and tracked(1) == 2  # a miss and a hit on the lookup connection
        assert connections() >= 1
        del repo, tracked
        deadline = time.monotonic() + 10  # the lease heartbeat drops its row in the background
        while True:
            gc.collect()
            left = connections()
            if left == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert left == 0
    admin.dispose()


def _synchronous_commit(conn) -> str:
    return conn.execute("SHOW synchronous_commit").fetchone()[0]


def test_postgres_cached_rows_do_not_wait_for_the_log_flush_unless_asked(postgres_url, tmp_path):
    """Artifact rows commit with synchronous_commit = off (see README, Durability);
    ``synchronous_commit: true`` keeps the server's default; other writes stay synchronous."""
    fast = PostgresRepo(postgres_url, DiskStore(tmp_path / "blobs"))
    fast.save(_artifact("x1fast"), 1)
    assert _synchronous_commit(fast._raw().driver_connection) == "off"
    with fast.engine.connect() as conn:  # runs, sets, registry: the server's setting
        assert conn.execute(sa.text("SHOW synchronous_commit")).scalar() == "on"
    durable = p.from_config(
        {
            "blobstores": {"d": {"type": "disk", "cachedir": str(tmp_path / "blobs")}},
            "artifact_repos": {"r": {"type": "postgres", "db": postgres_url, "store": "d", "synchronous_commit": True}},
        }
    ).repos["r"]
    durable.save(_artifact("x1durable"), 2)
    assert _synchronous_commit(durable._raw().driver_connection) == "on"
    assert durable.load_value(durable.lookup("x1fast")) == 1  # both see each other's rows
    assert fast.load_value(fast.lookup("x1durable")) == 2
    with pytest.raises(p.ConfigError, match="synchronous_commit"):
        p.from_config(
            {
                "artifact_repos": {
                    "r": {"type": "postgres", "db": postgres_url, "store": None, "synchronous_commit": "yes"}
                },
            }
        )
    fast.engine.dispose()
    durable.engine.dispose()
