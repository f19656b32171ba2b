"""gc while other processes write (and reuse the blobs gc is deleting): SQLite and PostgreSQL.

Afterwards every row that remains loads: no committed row is left without its blob."""

from __future__ import annotations

import multiprocessing as mp
import time

import numpy as np
import pytest

import provkit as p
from lifecycle_helpers import config_for, kind_repo_fixture  # noqa: F401 - the kind_repo fixture


def _writer(config: dict, seconds: float, tag: int, queue) -> None:
    try:
        p.load_config(config)

        @p.provenance(name="w.make")
        def make(i, tag, n):
            return np.full(3000, i % 4, dtype="float64")  # 4 values, shared by many rows

        deadline = time.time() + seconds
        n = 0
        while time.time() < deadline:
            result = make(n % 4, tag, n)
            assert float(result[0]) == n % 4 % 4
            n += 1
        queue.put(("ok", n))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(("error", repr(exc)))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_gc_with_writers_running_leaves_every_row_loadable(kind, tmp_path, request):
    url = request.getfixturevalue("postgres_url") if kind == "postgres" else None
    config = config_for(kind, str(tmp_path), url)
    p.load_config(config)

    @p.provenance(name="w.seed")
    def seed(i):
        return np.full(3000, i % 4, dtype="float64")

    for i in range(8):
        seed(i)  # unreachable: gc deletes these rows and, when no row names them, their blobs
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    writers = [ctx.Process(target=_writer, args=(config, 4.0, t, queue)) for t in range(2)]
    for w in writers:
        w.start()
    runs = deleted_blobs = deleted_rows = 0
    deadline = time.time() + 5.0
    while time.time() < deadline:
        report = p.gc(grace=0)
        runs += 1
        deleted_rows += report.rows
        deleted_blobs += report.blobs + report.orphan_blobs
    results = [queue.get(timeout=120) for _ in writers]
    for w in writers:
        w.join(timeout=60)
    assert all(r[0] == "ok" for r in results), results
    assert runs >= 2 and deleted_rows > 8 and deleted_blobs >= 1  # gc really raced the writers
    repo = p.get_default_repo()
    ids = list(repo.artifact_ids())
    for artifact_id in ids:
        value = repo.load_value(repo.get_artifact(artifact_id))
        assert value.shape == (3000,)


def test_a_write_reusing_a_blob_that_gc_deletes_ends_with_its_blob(kind_repo):
    """The race made deterministic: the writer finds the blob (and reuses it), gc deletes
    the old row and the blob, then the writer commits its row: the row gets its blob back."""

    @p.provenance(name="race.old")
    def old(i):
        return np.full(3000, 7.0)

    @p.provenance(name="race.new")
    def new(i):
        return np.full(3000, 7.0)

    key = old(1).artifact.value_id
    insert = kind_repo._insert
    reports = []

    def gc_between_blob_and_row(artifact, *, replace):
        if not reports:
            reports.append(p.gc(grace=0))  # deletes race.old and, as no row names it yet, the blob
            assert key not in kind_repo.store
        return insert(artifact, replace=replace)

    kind_repo._insert = gc_between_blob_and_row
    try:
        made = new(1)
    finally:
        del kind_repo._insert
    assert reports[0].rows == 1 and reports[0].blobs == 1
    assert key in kind_repo.store
    assert np.array_equal(kind_repo.load_value(kind_repo.get_artifact(made.artifact.id)), np.full(3000, 7.0))


def test_gc_puts_a_blob_back_when_a_row_names_it_after_it_was_taken(kind_repo):
    from provkit.services.lifecycle.blobs import delete_unreferenced

    kind_repo.store.put_bytes("x1" + "d" * 32, b"payload")
    answers = iter([False, True])  # nobody names it ... then a writer's row does
    assert delete_unreferenced(kind_repo.store, "x1" + "d" * 32, lambda key: next(answers)) is False
    assert kind_repo.store.get_bytes("x1" + "d" * 32) == b"payload"
