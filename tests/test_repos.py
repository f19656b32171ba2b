"""Repositories: the conformance suite on memory and SQLite, plus SQLite specifics."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import provkit as p
from conformance import RepositoryConformance
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.blobstores.memory import MemoryStore
from provkit.storage.repos.memory import MemoryRepo
from provkit.storage.repos.sql import SqlRepo
from provkit.storage.repos.sql.schema import HEAD_REVISION


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
            assert conn.execute(sa.text("select version_num from alembic_version")).scalar() == HEAD_REVISION
            conn.execute(sa.text("update alembic_version set version_num = '9999'"))
        with pytest.raises(p.SchemaVersionError, match="newer than this provkit"):
            SqlRepo(url, None)

    def test_older_schema_is_refused_until_upgraded(self, tmp_path):
        _older_schema_is_refused_until_upgraded(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)

    def test_head_revision_constant_matches_migrations(self):
        from provkit.storage.repos.sql.migrate import head_revision
        from provkit.storage.repos.sql.schema import HEAD_REVISION

        assert head_revision() == HEAD_REVISION

    def test_upgrade_db_on_empty_database(self, tmp_path):
        from provkit.storage.migrations import db_revision

        url = f"sqlite:///{tmp_path / 'u.db'}"
        assert db_revision(url) is None
        assert p.upgrade_db(url) == HEAD_REVISION
        assert db_revision(url) == HEAD_REVISION
        SqlRepo(url, None)  # opens cleanly at head


class TestPostgresRepo(RepositoryConformance):
    """The same suite against a real PostgreSQL server."""

    @pytest.fixture
    def repo(self, tmp_path, postgres_url):
        from provkit.storage.repos.sql.postgres import PostgresRepo

        return PostgresRepo(postgres_url, DiskStore(tmp_path / "b", delete=True), delete=True)

    def test_jsonb_queries_as_documented(self, repo):
        @p.provenance(repo=repo)
        def expensive_add(a, b):
            return a + b

        expensive_add(4, 3), expensive_add(1, 1), expensive_add(2, 2)
        with repo._db_engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select (inputs_json ->> 'a')::int from artifacts where fn_name = 'expensive_add'"
                    " and (inputs_json ->> 'a')::int IN (1, 4) order by 1"
                )
            ).all()
            kinds = conn.execute(
                sa.text(
                    "select data_type from information_schema.columns"
                    " where table_name='artifacts' and column_name='inputs_json'"
                )
            ).scalar()
        assert [r[0] for r in rows] == [1, 4]
        assert kinds == "jsonb"

    def test_create_db_and_schema_options(self, postgres_server, tmp_path):
        from provkit.storage.repos.sql.postgres import PostgresRepo

        base = postgres_server.info["url"].rsplit("/", 1)[0]
        repo = PostgresRepo(
            f"{base}/created_by_provkit", None, create_db=True, schema="team_a", persistent_connections=False
        )

        @p.provenance(repo=repo)
        def f(a):
            return a

        assert f(1) == 1 and f(1).artifact.repo is repo
        with repo._db_engine.connect() as conn:
            tables = (
                conn.execute(sa.text("select table_name from information_schema.tables where table_schema='team_a'"))
                .scalars()
                .all()
            )
        assert {"artifacts", "runs", "artifact_inputs", "alembic_version"} <= set(tables)
        again = PostgresRepo(f"{base}/created_by_provkit", None, create_db=True, schema="team_a")
        assert again.lookup(f(1).artifact.id) is not None

    def test_config_type_postgres(self, postgres_url, tmp_path):
        p.load_config(
            {
                "blobstores": {"disk": {"type": "disk", "cachedir": str(tmp_path / "blobs")}},
                "artifact_repos": {
                    "team": {"type": "postgres", "db": postgres_url.replace("+psycopg", ""), "store": "disk"}
                },
            }
        )
        assert type(p.get_default_repo()).__name__ == "PostgresRepo"
        with pytest.raises(p.ConfigError, match="postgresql:// URL"):
            p.from_config({"artifact_repos": {"x": {"type": "postgres", "db": "sqlite:///x.db", "store": None}}})


def _older_schema_is_refused_until_upgraded(url, tmp_path):
    """A database left at revision 0001 (with data) is refused, then upgraded in place."""
    from provkit.storage.repos.sql.migrate import upgrade

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        upgrade(conn, "0001")
        conn.execute(
            sa.text(
                "insert into artifacts (id, value_id, name, version, composite, added_at, input_artifact_ids,"
                " inputs_json, serializer, custom_fields, value_bytes) values ('x1old', 'x1v', 'old.f', 0, false,"
                " '2020-01-01 00:00:00', '[]', '{}', 'joblib', '{}', :v)"
            ),
            {"v": __import__("pickle").dumps(42)},
        )
    engine.dispose()
    needs = rf"revision 0001, this provkit needs {HEAD_REVISION}: run `provkit db upgrade`"
    with pytest.raises(p.SchemaVersionError, match=needs):
        SqlRepo(url, None) if url.startswith("sqlite") else _pg(url)
    assert p.upgrade_db(url) == HEAD_REVISION
    repo = SqlRepo(url, None) if url.startswith("sqlite") else _pg(url)
    assert repo.load_value(repo.get_artifact("x1old")) == 42, "data survives the upgrade"


def _pg(url):
    from provkit.storage.repos.sql.postgres import PostgresRepo

    return PostgresRepo(url, None)


def test_older_postgres_schema_is_refused_until_upgraded(postgres_url, tmp_path):
    _older_schema_is_refused_until_upgraded(postgres_url, tmp_path)
