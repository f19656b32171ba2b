"""Repositories: the conformance suite on memory and SQLite, plus SQLite specifics."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import provkit as p
from conformance import RepositoryConformance
from provkit.blobstores.disk import DiskStore
from provkit.blobstores.memory import MemoryStore
from provkit.repos.memory import MemoryRepo
from provkit.repos.sql import SqlRepo


class TestMemoryRepo(RepositoryConformance):
    @pytest.fixture
    def repo(self):
        return MemoryRepo(MemoryStore(delete=True), delete=True)


class TestSqliteRepo(RepositoryConformance):
    @pytest.fixture
    def repo(self, tmp_path):
        return SqlRepo(f"sqlite:///{tmp_path / 'r.db'}", DiskStore(tmp_path / "b", delete=True), delete=True)

    def test_rows_are_queryable_with_sql(self, repo):
        @p.provenance(repo=repo)
        def expensive_add(a, b):
            return a + b

        expensive_add(4, 3)
        expensive_add(1, 1)
        with repo._db_engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select name, json_extract(inputs_json, '$.a') from artifacts"
                    " where fn_name = 'expensive_add' order by 2"
                )
            ).all()
        assert [r[1] for r in rows] == [1, 4]

    def test_schema_is_stamped_and_checked(self, tmp_path):
        url = f"sqlite:///{tmp_path / 's.db'}"
        SqlRepo(url, None)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            assert conn.execute(sa.text("select version_num from alembic_version")).scalar() == "0001"
            conn.execute(sa.text("update alembic_version set version_num = '9999'"))
        with pytest.raises(p.SchemaVersionError, match="newer than this provkit"):
            SqlRepo(url, None)

    def test_head_revision_constant_matches_migrations(self):
        from provkit.repos.sql.migrate import head_revision
        from provkit.repos.sql.schema import HEAD_REVISION

        assert head_revision() == HEAD_REVISION

    def test_upgrade_db_on_empty_database(self, tmp_path):
        from provkit.migrations import db_revision

        url = f"sqlite:///{tmp_path / 'u.db'}"
        assert db_revision(url) is None
        assert p.upgrade_db(url) == "0001"
        assert db_revision(url) == "0001"
        SqlRepo(url, None)  # opens cleanly at head
