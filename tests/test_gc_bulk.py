"""gc deleting a large part of a SQLite table: secondary indexes are rebuilt in the same
transaction (the same SQL as before), the page cache is put back, the marks of deleted
records go, and nothing reachable is deleted; the same gc on PostgreSQL (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

import provkit as p
from lifecycle_helpers import kind_repo_fixture  # noqa: F401 - the kind_repo fixture
from provkit.services.lifecycle import inventory_sql
from provkit.services.lifecycle.marks import marks_for

_INDEXES = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"


def _graph(n_chains: int = 30):
    @p.provenance(name="gb.root")
    def root(i):
        return np.arange(5) + i

    @p.provenance(name="gb.step")
    def step(x, k):
        return x * k

    chains = []
    for i in range(n_chains):
        a = root(i)
        chains.append([a, step(a, 2), step(step(a, 2), 3)])
    return chains


def test_a_bulk_delete_rebuilds_the_indexes_and_keeps_what_is_reachable(kind_repo, monkeypatch):
    monkeypatch.setattr(inventory_sql, "_BULK_ROWS", 10)  # the bulk path at test size
    real_drop, rebuilt = inventory_sql._drop_secondary_indexes, []

    def spy(conn):
        rebuilt.append(real_drop(conn))
        return rebuilt[-1]

    monkeypatch.setattr(inventory_sql, "_drop_secondary_indexes", spy)
    chains = _graph()
    keep = chains[:3]
    for chain in keep:
        p.pin(chain[-1], "release")
    retracted = chains[5][0]
    p.retract(retracted, "to be deleted")  # a mark on a deleted record goes with it
    sqlite = kind_repo.kind_name == "sqlite"
    if sqlite:
        with kind_repo.engine.connect() as conn:
            before = conn.exec_driver_sql(_INDEXES).all()
            cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    report = p.gc(grace=0)
    kept_ids = {x.artifact.id for chain in keep for x in chain}
    left = set(kind_repo.artifact_ids())
    assert left == kept_ids, "exactly the pinned chains stay"
    assert report.rows == 90 - len(kept_ids) and len(report.deleted_ids) == report.rows
    assert retracted.artifact.id not in marks_for(kind_repo).of_kind("retract")
    assert set(marks_for(kind_repo).of_kind("pin")) == {chain[-1].artifact.id for chain in keep}
    for chain in keep:
        assert float(p.load_proxy(chain[-1].artifact.id).sum()) == float(chain[-1].sum())
    assert len(rebuilt) == (1 if sqlite else 0), "SQLite (only) took the bulk path"
    if sqlite:
        assert len(rebuilt[0]) >= 10, "the artifact and edge tables' indexes were dropped and built again"
        with kind_repo.engine.connect() as conn:
            assert conn.exec_driver_sql(_INDEXES).all() == before, "the same indexes, from the same SQL"
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == cache, "the page cache is put back"
            plan = " ".join(str(r) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM artifacts WHERE name = 'gb.step'").all())  # fmt: skip
            assert "ix_artifacts_name" in plan


def test_a_small_delete_leaves_the_indexes_alone(any_repo, monkeypatch):
    dropped = []
    monkeypatch.setattr(inventory_sql, "_drop_secondary_indexes", lambda conn: dropped.append(1) or [])
    _graph(3)
    assert p.gc(grace=0).rows == 9
    assert dropped == []


def test_a_failed_bulk_delete_rolls_back_the_dropped_indexes(sqlite_config, monkeypatch):
    p.load_config(sqlite_config)
    repo = p.get_default_repo()
    monkeypatch.setattr(inventory_sql, "_BULK_ROWS", 10)
    real_drop = inventory_sql._drop_secondary_indexes

    def drop_then_fail(conn):
        assert real_drop(conn)
        raise RuntimeError("disk full")

    monkeypatch.setattr(inventory_sql, "_drop_secondary_indexes", drop_then_fail)
    _graph(10)
    with repo.engine.connect() as conn:
        before = conn.exec_driver_sql(_INDEXES).all()
    with pytest.raises(RuntimeError, match="disk full"):
        p.gc(grace=0)
    with repo.engine.connect() as conn:
        assert conn.exec_driver_sql(_INDEXES).all() == before, "DROP INDEX was inside the rolled-back transaction"
    assert len(set(repo.artifact_ids())) == 30, "and nothing was deleted"
