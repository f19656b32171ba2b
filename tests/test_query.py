"""The query language: the same answers from SQLite, PostgreSQL and the Python evaluator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import provkit as p
from provkit.blobstores.memory import MemoryStore
from provkit.repos.memory import MemoryRepo
from provkit.repos.sql import SqlRepo

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _populate(repo) -> list[str]:
    """Twelve artifacts with varied inputs, custom fields, lineage and times."""

    ids = []
    for i in range(12):

        @p.provenance(
            repo=repo,
            name=f"model.{'train' if i % 2 else 'prep'}",
            version=i % 3,
            custom_fields={
                "owner": ["ana", "bo", "cy"][i % 3],
                "score": i / 10,
                "stage": {"n": i % 4},
                "flags": ["a", "b"] if i % 4 == 0 else ["c"],
                "ok": i % 5 == 0,
            },
            tags=["prod"] if i % 3 == 0 else ["dev", "exp"],
        )
        def step(x, label, parent=None):
            return x

        with p.using_repo(repo):
            parent = repo.proxy(ids[i - 1]) if i % 3 == 2 else None
            r = step(i, f"lbl{i % 4}", parent=parent)
        ids.append(r.artifact.id)
    return ids


def _fix_times(repo, ids):
    """Give every artifact a distinct computed_at (newest last), in every backend."""
    import sqlalchemy as sa

    from provkit.repos.sql import schema

    for n, artifact_id in enumerate(ids):
        when = T0 + timedelta(days=n)
        if isinstance(repo, SqlRepo):
            value = when if repo.engine.dialect.name == "postgresql" else when.replace(tzinfo=None)
            with repo.engine.begin() as conn:
                conn.execute(
                    sa.update(schema.artifacts).where(schema.artifacts.c.id == artifact_id).values(computed_at=value)
                )
        else:
            repo._records[artifact_id][0]["computed_at"] = when


@pytest.fixture
def repos(tmp_path, postgres_url):
    from provkit.repos.sql.postgres import PostgresRepo

    made = {
        "memory": MemoryRepo(MemoryStore()),
        "sqlite": SqlRepo(f"sqlite:///{tmp_path / 'q.db'}", MemoryStore()),
        "postgres": PostgresRepo(postgres_url, MemoryStore()),
    }
    for repo in made.values():
        ids = _populate(repo)
        _fix_times(repo, ids)
    return made, ids


QUERIES = [
    {},
    {"name": "model.train"},
    {"version": {"$gte": 1}},
    {"version": {"$in": [0, 2]}, "name": {"$ne": "model.prep"}},
    {"custom_fields.owner": "ana"},
    {"custom_fields.score": {"$gt": 0.35, "$lte": 0.9}},
    {"custom_fields.stage.n": {"$lt": 2}},
    {"custom_fields.flags": "a"},
    {"custom_fields.flags": {"$in": ["b", "c"]}},
    {"custom_fields.flags": {"$nin": ["a"]}},
    {"custom_fields.ok": True},
    {"custom_fields.ok": {"$ne": True}},
    {"custom_fields.missing": {"$exists": False}},
    {"custom_fields.owner": {"$exists": True}},
    {"tags": "prod"},
    {"tags": {"$regex": "^ex"}},
    {"inputs.x": {"$gte": 6}},
    {"inputs.label": {"$regex": "lbl[12]"}},
    {"inputs.label": {"$regex": "LBL3", "$options": "i"}},
    {"inputs.parent": None},
    {"inputs.parent.name": "model.train"},
    {"$or": [{"custom_fields.owner": "bo"}, {"version": 0}]},
    {"$nor": [{"custom_fields.owner": "bo"}, {"version": 0}]},
    {"$and": [{"version": {"$ne": 1}}, {"custom_fields.score": {"$gte": 0.5}}]},
    {"version": {"$not": {"$gt": 1}}},
    {"computed_at": {"$gte": T0 + timedelta(days=5)}},
    {"creation_time": {"$lt": T0 + timedelta(days=3)}},
    {"name": {"$regex": "prep$"}},
    {"user": {"$exists": True}},
    {"custom_fields.score": {"$gt": "0.5"}},  # a string never compares with numbers
]


@pytest.mark.parametrize("query", QUERIES, ids=[str(i) for i in range(len(QUERIES))])
def test_backends_agree(repos, query):
    made, _ = repos
    results = {name: [a.id for a in repo.find(query)] for name, repo in made.items()}
    assert results["sqlite"] == results["memory"], query
    assert results["postgres"] == results["memory"], query


def test_based_on_and_newest_first(repos):
    made, ids = repos
    for repo in made.values():
        children = [a.id for a in repo.find({"based_on": ids[1]})]
        assert children == [ids[2]]
        everything = [a.id for a in repo.find({})]
        assert everything == list(reversed(ids)), "newest first"
        assert [a.id for a in repo.find({}, limit=3)] == list(reversed(ids))[:3]


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(
        ["version", "custom_fields.score", "custom_fields.owner", "inputs.x", "tags", "custom_fields.flags"]
    ),
    st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"]),
    st.one_of(st.integers(-1, 12), st.floats(-1, 2), st.sampled_from(["ana", "bo", "a", "c", "prod", "dev"])),
)
def test_generated_queries_agree(repos, path, op, value):
    made, _ = repos
    if op in ("$in", "$nin"):
        value = [value]
    query = {path: {op: value}}
    results = {name: [a.id for a in repo.find(query)] for name, repo in made.items()}
    assert results["sqlite"] == results["memory"] == results["postgres"], query


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"version": {"$gtx": 1}}, "unknown operator"),
        ({"$xor": []}, "unknown top-level operator"),
        ({"nope": 1}, "unknown field 'nope'"),
        ({"version": {"$in": 3}}, r"\$in needs a list"),
        ({"name": {"$regex": "("}}, "bad \\$regex"),
        ({"version": {"$gt": [1]}}, "compares with scalars"),
        ({"$or": "x"}, "needs a non-empty list"),
        ({"custom_fields": 1}, "query a path inside"),
        ({"name; drop table artifacts": 1}, "invalid field name"),
        ([("name", 1)], "a query is a mapping"),
    ],
)
def test_malformed_queries_are_clear_errors(repos, query, message):
    made, _ = repos
    for repo in made.values():
        with pytest.raises(p.QueryError, match=message):
            list(repo.find(query))


def test_values_are_bound_parameters(repos):
    made, ids = repos
    evil = ["x'; DROP TABLE artifacts; --", "' OR '1'='1", '") OR 1=1 --', "$(rm -rf /)"]
    for repo in made.values():
        for value in evil:
            assert list(repo.find({"name": value})) == []
            assert list(repo.find({"custom_fields.owner": {"$in": [value]}})) == []
            assert list(repo.find({"inputs.label": {"$regex": value.replace("(", "").replace(")", "")}})) == []
        assert len(list(repo.find({}))) == len(ids), "nothing was dropped"


def test_find_returns_a_dataframe(any_repo):
    @p.provenance(custom_fields={"owner": "ana"})
    def f(a):
        return a

    first, second = f(1), f(2)
    df = p.find({"custom_fields.owner": "ana"})
    assert list(df.index) == [second.artifact.id, first.artifact.id]
    assert {"creation_time", "username", "hostname", "argv", "based_on", "custom_fields"} <= set(df.columns)
    assert df.loc[first.artifact.id, "custom_fields"] == {"owner": "ana"}
    assert len(p.find({}, limit=1)) == 1
    with pytest.raises(p.QueryError, match="limit"):
        p.find({}, limit=-1)


def _plan(repo, query) -> str:
    import sqlalchemy as sa

    from provkit.query_sql import compile_query
    from provkit.repos.sql import schema
    from provkit.search import sql_artifact_fields

    dialect = repo.engine.dialect
    stmt = sa.select(schema.artifacts.c.id).where(compile_query(query, sql_artifact_fields(), dialect.name))
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    with repo.engine.connect() as conn:
        if dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # tiny tables: ask whether an index *can* serve
            return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
        return "\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_label_and_lineage_queries_use_indexes(repos, backend):
    made, ids = repos
    repo = made[backend]
    assert "ix_artifacts_label_datatype" in _plan(repo, {"labels.datatype": "annotation_file"})
    assert "ix_artifact_inputs_input_artifact_id" in _plan(repo, {"based_on": ids[0]})
