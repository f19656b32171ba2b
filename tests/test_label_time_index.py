"""Migration 0010: a label query's newest-first page is read from the (label, computed_at)
index, never sorted whole; ``artifacts.task_key``; the migration brings an older database to
the fresh schema and back."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from provkit import Artifact
from provkit.storage.blobstores.memory import MemoryStore
from provkit.storage.repos.sql import SqlRepo

N = 3000


def _fill(repo) -> None:
    """N file-artifact records over 13 projects, plus N/10 cached results without labels."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    items = []
    at = [start + timedelta(seconds=i) for i in range(N)]
    for i in range(N):
        labels = {"ticket": f"T-{i % 97}", "project": f"p{i % 13}", "datatype": f"dt{i % 500}", "dataset": ""}
        items.append((Artifact(f"f{i:08d}", f"v{i:08d}", "upload", kind="files", computed_at=at[i],
                               custom_fields={"labels": labels}, serializer="json"), {}))  # fmt: skip
    for i in range(N // 10):
        items.append((Artifact(f"c{i:08d}", f"w{i:08d}", "f", computed_at=at[i],
                               serializer="json"), None))  # fmt: skip
    repo.save_batch(items)
    with repo.engine.begin() as conn:  # committed: statistics written in a rolled-back transaction vanish
        conn.exec_driver_sql("ANALYZE")


def _statements(repo, query) -> list[tuple[str, object]]:
    """The SQL ``repo.find(query, limit=51)`` runs, with its parameters."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "artifacts" in statement:
            seen.append((statement, parameters))

    sa.event.listen(repo.engine, "before_cursor_execute", record)
    try:
        found = list(repo.find(query, limit=51))
    finally:
        sa.event.remove(repo.engine, "before_cursor_execute", record)
    assert len(found) == 51
    times = [a.computed_at for a in found]
    assert times == sorted(times, reverse=True), "newest first"
    return seen


def _plans(repo, query) -> list[str]:
    plans = []
    with repo.engine.connect() as conn:
        for statement, parameters in _statements(repo, query):
            if repo.engine.dialect.name == "postgresql":
                rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters)
                plans.append("\n".join(r[0] for r in rows))
            else:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                plans.append("\n".join(r[-1] for r in rows))
    return plans


def _full_sort(plan: str) -> bool:
    """Whether the plan sorts every matching row (a partial / incremental sort of ties is fine)."""
    if "USE TEMP B-TREE FOR ORDER BY" in plan:  # SQLite; "... FOR RIGHT PART OF ORDER BY" is the partial one
        return True
    return any(re.match(r"(->\s+)?Sort\s+\(", line.strip()) for line in plan.splitlines())  # not "Incremental Sort"


@pytest.fixture(params=["sqlite", "postgres"])
def filled(request, tmp_path):
    if request.param == "sqlite":
        repo = SqlRepo(f"sqlite:///{tmp_path / 'l.db'}", MemoryStore())
    else:
        from provkit.storage.repos.sql.postgres import PostgresRepo

        repo = PostgresRepo(request.getfixturevalue("postgres_url"), MemoryStore())
    _fill(repo)
    return repo


def test_first_and_next_page_of_a_common_label_read_the_label_time_index(filled):
    first = _plans(filled, {"labels.project": "p3"})
    cursor = datetime(2026, 1, 1, 0, 49, tzinfo=timezone.utc).isoformat()
    following = {"$and": [{"labels.project": "p3"}, {"computed_at": {"$lte": cursor}}]}  # the UI's next page
    for plan in first[:1] + _plans(filled, following)[:1]:  # dated rows (Postgres asks for undated ones after)
        assert "ix_artifacts_label_time_project" in plan, plan
        assert not _full_sort(plan), plan


def test_equality_on_a_rare_label_still_uses_it(filled):
    plan = _plans(
        filled, {"labels.datatype": {"$in": ["dt1", "dt2", "dt3", "dt4", "dt5", "dt6", "dt7", "dt8", "dt9"]}}
    )[0]
    assert "ix_artifacts_label_time_datatype" in plan, plan


def _indexes(url: str) -> dict[str, str]:
    """Every index's definition, and the artifacts table's columns (as "columns")."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        found = {name: " ".join(sql.split()) for name, sql in rows}
        found["columns"] = " ".join(sorted(r[1] for r in conn.exec_driver_sql("PRAGMA table_info(artifacts)")))
    engine.dispose()
    return found


def test_0009_database_upgrades_to_the_fresh_schema_and_back(tmp_path):
    import provkit as p
    from provkit.storage.repos.sql.migrate import upgrade

    fresh, old = f"sqlite:///{tmp_path / 'fresh.db'}", f"sqlite:///{tmp_path / 'old.db'}"
    SqlRepo(fresh, None)
    engine = sa.create_engine(old)
    with engine.begin() as conn:
        upgrade(conn, "0009")
    engine.dispose()
    at_0009 = _indexes(old)
    assert "ix_artifacts_label_project" in at_0009 and "ix_artifacts_label_time_project" not in at_0009
    assert "task_key" not in at_0009["columns"] and "task_key" in _indexes(fresh)["columns"]
    assert p.upgrade_db(old) == "0010"
    assert _indexes(old) == _indexes(fresh)
    assert "WHERE json_extract" in _indexes(fresh)["ix_artifacts_label_time_project"], "partial: labelled rows only"
    engine = sa.create_engine(old)
    with engine.begin() as conn:
        from alembic import command

        from provkit.storage.repos.sql.migrate import _alembic_config

        command.downgrade(_alembic_config(conn), "0009")
    engine.dispose()
    assert _indexes(old) == at_0009
