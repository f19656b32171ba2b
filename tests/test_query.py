"""The query language: the same answers from SQLite, PostgreSQL and the Python evaluator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import provkit as p
from provkit.storage.blobstores.memory import MemoryStore
from provkit.storage.repos.memory import MemoryRepo
from provkit.storage.repos.sql import SqlRepo

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)

#: Strings for regexes to disagree on: word boundaries, newlines, case, non-ASCII, brackets
TEXTS = ["foo bar", "foobar", "Foo_bar baz", "ab\n", "ab\ncd", "x\nab", "été ÉTÉ", "tab\there", "", "a]b-c",
         "[x] 42", "aaa", "LBL3 lbl1", "end.\n", "naïve café", "back\\slash"]  # fmt: skip


def _extra_fields(i: int) -> dict:
    """Fields that are missing, null, scalar or arrays holding nulls, depending on ``i``."""
    extra: dict = {"title": TEXTS[i % len(TEXTS)]}
    if i % 3 == 0:
        extra["opt"] = i
    elif i % 3 == 1:
        extra["opt"] = None
    if i % 4 != 3:
        extra["text"] = [TEXTS[(i + 3) % len(TEXTS)], TEXTS[(i + 7) % len(TEXTS)]]
    if i % 4 == 1:
        extra["mixed"] = [1, None, "x"]
    elif i % 4 == 2:
        extra["mixed"] = "x"
    return extra


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
                **_extra_fields(i),
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

    from provkit.storage.repos.sql import schema

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
    from provkit.storage.repos.sql.postgres import PostgresRepo

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


# ---- generated queries: regexes, negations over missing fields, big lists, date strings --------

_ATOMS = ["a", "b", "o", "f", "x", "c", "A", "F", "É", "é", r"\.", r"\n", r"\t", " ", ".", r"\d", r"\w", r"\s",
          r"\W", r"\D", r"\S", "[a-c]", "[^ab]", r"[\]\-]", r"[\w.]", "[0-9]", r"\x41", r"\\", "[É-ë]"]  # fmt: skip
_ANCHORS = ["^", "$", r"\b", r"\B", r"\A", r"\Z"]
_QUANTIFIERS = ["", "", "*", "+", "?", "{2}", "{1,3}", "{,2}", "*?", "+?", "{1,}"]

_piece = st.builds(str.__add__, st.sampled_from(_ATOMS), st.sampled_from(_QUANTIFIERS))
_group = st.builds(
    lambda first, second, alt, quantifier: f"({first}{'|' + second if alt else second}){quantifier}",
    _piece, _piece, st.booleans(), st.sampled_from(_QUANTIFIERS),
)  # fmt: skip
_look = st.builds(
    lambda kind, atom: f"(?{kind}{atom})", st.sampled_from(["=", "!", "<=", "<!"]), st.sampled_from(_ATOMS)
)
_regex = st.lists(st.one_of(_piece, _piece, _group, _look, st.sampled_from(_ANCHORS)), min_size=1, max_size=5).map(
    "".join
)
_REGEX_PATHS = ["custom_fields.title", "custom_fields.text", "tags", "name", "inputs.label", "custom_fields.mixed"]


@st.composite
def _regex_queries(draw):
    condition = {"$regex": draw(_regex)}
    options = draw(st.sampled_from(["", "", "i", "m", "s", "x", "im", "ms", "imsx"]))
    if options:
        condition["$options"] = options
    if draw(st.booleans()):
        condition = {"$not": condition}
    return {draw(st.sampled_from(_REGEX_PATHS)): condition}


_NEG_PATHS = ["custom_fields.opt", "custom_fields.mixed", "custom_fields.text", "custom_fields.nothere",
              "custom_fields.flags", "custom_fields.stage.n", "version", "tags", "based_on",
              "custom_fields.ok"]  # fmt: skip
_values = st.one_of(st.integers(-1, 12), st.sampled_from(["x", "a", "c", "prod", 0.5, True, False]))


@st.composite
def _negation_queries(draw):
    path = draw(st.sampled_from(_NEG_PATHS))
    value = draw(_values)
    other = draw(st.one_of(_values, st.none()))
    condition = draw(
        st.sampled_from([
            {"$ne": value}, {"$nin": [value, other]}, {"$not": {"$gt": 0}}, {"$not": {"$lte": 3}},
            {"$not": {"$regex": "x"}}, {"$not": {"$in": [value]}}, {"$exists": False}, {"$exists": True},
            {"$eq": None}, None, {"$in": [None, value]}, {"$not": {"$eq": None}}, {"$not": {"$exists": False}},
            {"$ne": None}, {"$nin": [None]}, value, {"$not": {"$ne": value}},
        ])
    )  # fmt: skip
    query = {path: condition}
    if draw(st.booleans()):
        query = {draw(st.sampled_from(["$nor", "$or", "$and"])): [query, {"version": draw(st.integers(0, 2))}]}
    return query


@st.composite
def _date_queries(draw):
    when = T0 + timedelta(days=draw(st.integers(-1, 13)), hours=draw(st.sampled_from([0, 0, 5, 23])))
    text = draw(
        st.sampled_from([
            when.strftime("%Y-%m-%d"), when.strftime("%Y-%m-%dT%H:%M"), when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            (when + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S+02:00"), when.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            when.date(), when,
        ])
    )  # fmt: skip
    op = draw(st.sampled_from(["$gt", "$gte", "$lt", "$lte", "$eq", "$ne", "$in", "$nin"]))
    value = [text, T0 + timedelta(days=3)] if op in ("$in", "$nin") else text
    return {draw(st.sampled_from(["computed_at", "creation_time"])): {op: value}}


@st.composite
def _big_queries(draw):
    """$in/$nin with 1,000 to 70,000 values (past SQLite's and PostgreSQL's parameter limits)."""
    import random

    rng = random.Random(draw(st.integers(0, 10**6)))
    size = draw(st.sampled_from([1_000, 5_000, 70_000]))
    path = draw(st.sampled_from(["id", "based_on", "custom_fields.owner", "custom_fields.opt", "inputs.x", "name"]))
    noise: list = [f"{rng.getrandbits(64):016x}" for _ in range(size)]
    if path in ("custom_fields.opt", "inputs.x"):
        noise = [rng.randrange(100, 10**9) for _ in range(size)]
    picks = draw(st.lists(st.sampled_from(["$ID", "ana", "bo", 3, 6, 9.0, "model.train", None]), max_size=4))
    op = draw(st.sampled_from(["$in", "$nin"]))
    if draw(st.integers(0, 4)) == 0:  # an $or with 5,000 branches
        branch = draw(st.sampled_from(["merged", "mixed"]))
        values = [*picks, *noise[:5000]]
        return {"$or": [{path: v} if branch == "merged" else {path: v, "version": {"$gte": 0}} for v in values]}
    return {path: {op: [*picks, *noise]}}


def _resolve_ids(query, ids):
    """Replace the "$ID" placeholder with real artifact ids (known only after populating)."""
    if isinstance(query, dict):
        return {k: _resolve_ids(v, ids) for k, v in query.items()}
    if isinstance(query, list):
        out = [_resolve_ids(v, ids) for v in query]
        return [x for v in out for x in (ids[1:9:3] if v == "$ID" else [v])] if "$ID" in query else out
    return query


@settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(_regex_queries(), _negation_queries(), _date_queries(), _big_queries()))
def test_generated_regex_negation_date_and_big_queries_agree(repos, query):
    made, ids = repos
    query = _resolve_ids(query, ids)
    results = {name: [a.id for a in repo.find(query)] for name, repo in made.items()}
    assert results["sqlite"] == results["memory"], str(query)[:300]
    assert results["postgres"] == results["memory"], str(query)[:300]


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

    from provkit.services.query_sql import compile_query
    from provkit.services.search import sql_artifact_fields
    from provkit.storage.repos.sql import schema

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
    assert "ix_artifacts_label_time_datatype" in _plan(repo, {"labels.datatype": "annotation_file"})
    assert "ix_artifact_inputs_input_artifact_id" in _plan(repo, {"based_on": ids[0]})


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_long_id_list_is_one_bound_array_served_by_the_primary_key(repos, backend):
    import sqlalchemy as sa

    from provkit.services.query_sql import compile_query
    from provkit.services.search import sql_artifact_fields

    made, ids = repos
    repo = made[backend]
    query = {"id": {"$in": [f"x1{n:032x}" for n in range(2000)] + ids[:2]}}
    compiled = sa.select(sa.literal(1)).where(compile_query(query, sql_artifact_fields(), backend_dialect(repo)))
    assert len(compiled.compile(dialect=repo.engine.dialect).params) <= 3, "one parameter for the whole list"
    plan = _plan(repo, query)
    assert ("sqlite_autoindex_artifacts_1" if backend == "sqlite" else "artifacts_pkey") in plan, plan


def backend_dialect(repo) -> str:
    return repo.engine.dialect.name


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet="ab.^$*+?{}[]()|\\-:=!<>,PdwsbByZA0129xu ", max_size=14), st.sampled_from(["", "i", "mx"]))
def test_any_pattern_is_refused_everywhere_or_agrees_everywhere(repos, pattern, options):
    """Random text as a pattern: a one-line QueryError on every backend, or the same answer."""
    made, _ = repos
    query = {"custom_fields.title": {"$regex": pattern, **({"$options": options} if options else {})}}
    outcomes = {}
    for name, repo in made.items():
        try:
            outcomes[name] = [a.id for a in repo.find(query)]
        except p.QueryError as exc:
            assert "\n" not in str(exc)
            outcomes[name] = "QueryError"
    assert outcomes["sqlite"] == outcomes["memory"] == outcomes["postgres"], (pattern, options)
