"""Issue 12, queries: one answer on memory, SQLite and PostgreSQL for regexes, negations over
missing fields, huge value lists, typed time and boolean fields; one-line errors for hostile input.

Expected answers are computed here from the data, not only compared between backends.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timezone

import pytest

import provkit as p
from provkit.services.query import MAX_DEPTH
from provkit.storage.blobstores.memory import MemoryStore
from provkit.storage.repos.memory import MemoryRepo
from provkit.storage.repos.sql import SqlRepo
from test_query import TEXTS, _extra_fields, repos  # noqa: F401  (the three-backend fixture)

N = 12


def _find(made, query) -> dict[str, set[str]]:
    return {name: {a.id for a in repo.find(query)} for name, repo in made.items()}


def _expect(made, query, expected_ids) -> None:
    found = _find(made, query)
    for name, got in found.items():
        assert got == set(expected_ids), (name, str(query)[:200])


def _where(ids, predicate) -> set[str]:
    return {ids[i] for i in range(N) if predicate(i)}


# ---- regex dialect ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "options"),
    [(r"\bbar\b", ""), (r"\Bbar", ""), (r"^ab$", ""), (r"^ab$", "m"), (r"^cd$", "m"), ("été", "i"), (r"\w+\s\d", ""),
     ("FOO", "i"), (r"end\.$", ""), (r"a.b", "s"), (r"[\]\-]", ""), (r"\\", ""), ("b  # comment\n a", "x")],
)  # fmt: skip
def test_regexes_mean_the_same_on_every_backend(repos, pattern, options):  # noqa: F811
    made, ids = repos
    flags = re.ASCII | sum(f for c, f in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X)) if c in options)
    query = {"custom_fields.title": {"$regex": pattern, **({"$options": options} if options else {})}}
    _expect(made, query, _where(ids, lambda i: re.search(pattern, TEXTS[i % len(TEXTS)], flags) is not None))


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("[[:alpha:]]", "POSIX classes"), ("(?P<g>a)", "named groups"), (r"\y", "PostgreSQL-only"),
     ("(?i)a", "inline flags"), (r"(a)\1", "back-references"), ("a{300}", "up to 255"), ("a*+", "possessive"),
     ("(?<=a+)b", "look-behind"), (r"\p{L}", "Unicode properties"), ("(?#note)a", "comments")],
)  # fmt: skip
def test_regexes_outside_the_dialect_are_refused_everywhere(repos, pattern, message):  # noqa: F811
    made, _ = repos
    for name, repo in made.items():
        with pytest.raises(p.QueryError, match=re.escape(message)) as caught:
            list(repo.find({"name": {"$regex": pattern}}))
        assert "\n" not in str(caught.value), name


# ---- $not and missing fields ----------------------------------------------------------------


def _opt(i):
    return _extra_fields(i).get("opt", "missing")


NEGATIONS = [
    ({"custom_fields.opt": {"$not": {"$gt": 3}}}, lambda i: _opt(i) in (None, "missing") or _opt(i) <= 3),
    ({"$nor": [{"custom_fields.opt": {"$gt": 3}}]}, lambda i: _opt(i) in (None, "missing") or _opt(i) <= 3),
    ({"custom_fields.text": {"$not": {"$regex": "^foo"}}},
     lambda i: "text" not in _extra_fields(i) or not any(t.startswith("foo") for t in _extra_fields(i)["text"])),
    ({"custom_fields.opt": {"$ne": 0}}, lambda i: i != 0),
    ({"custom_fields.opt": {"$nin": [0, 3]}}, lambda i: i not in (0, 3)),
    ({"custom_fields.opt": {"$exists": False}}, lambda i: i % 3 == 2),
    ({"custom_fields.opt": None}, lambda i: i % 3 != 0),
    ({"custom_fields.opt": {"$in": [None, 6]}}, lambda i: i % 3 != 0 or i == 6),
    ({"custom_fields.mixed": None}, lambda i: i % 4 != 2),
    ({"custom_fields.mixed": {"$ne": None}}, lambda i: i % 4 == 2),
    ({"custom_fields.mixed": {"$nin": [None]}}, lambda i: i % 4 == 2),
    ({"tags": None}, lambda i: False),
    ({"based_on": {"$ne": None}}, lambda i: True),
    ({"version": {"$not": {"$regex": "x"}}}, None),
]  # fmt: skip


@pytest.mark.parametrize(("query", "predicate"), NEGATIONS, ids=[str(i) for i in range(len(NEGATIONS))])
def test_negations_keep_documents_missing_the_field(repos, query, predicate):  # noqa: F811
    made, ids = repos
    if predicate is None:  # $regex on an integer column is a type error, on every backend
        for repo in made.values():
            with pytest.raises(p.QueryError, match="needs a text field"):
                list(repo.find(query))
        return
    _expect(made, query, _where(ids, predicate))


# ---- any list size --------------------------------------------------------------------------


def _noise(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [f"x1{rng.getrandbits(128):032x}" for _ in range(n)]


@pytest.mark.parametrize("size", [1_000, 65_536, 100_000])
def test_in_lists_of_any_size(repos, size):  # noqa: F811
    made, ids = repos
    wanted = ids[2:5]
    values = _noise(size - len(wanted)) + wanted
    _expect(made, {"id": {"$in": values}}, wanted)
    _expect(made, {"id": {"$nin": values}}, set(ids) - set(wanted))
    _expect(made, {"based_on": {"$in": values}}, {ids[i + 1] for i in range(2, 5) if (i + 1) % 3 == 2})
    _expect(made, {"custom_fields.owner": {"$in": [*_noise(size)[:-1], "bo"]}}, _where(ids, lambda i: i % 3 == 1))


def test_or_with_5000_branches(repos):  # noqa: F811
    made, ids = repos
    values = _noise(5_000) + ids[:2]
    _expect(made, {"$or": [{"id": v} for v in values]}, ids[:2])
    _expect(made, {"$or": [{"id": v, "version": {"$gte": 0}} for v in values]}, ids[:2])
    _expect(made, {"$and": [{"id": {"$ne": v}} for v in values]}, ids[2:])


# ---- typed fields -----------------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "value",
    ["2026-01-06", "2026-01-06T00:00", "2026-01-06T00:00:00Z", "2026-01-06T02:00:00+02:00", "2026-01-05T19:00-05:00",
     "2026-01-06 00:00:00.000000", date(2026, 1, 6), datetime(2026, 1, 6)],
)  # fmt: skip
def test_time_fields_take_iso_strings_and_dates(repos, value):  # noqa: F811
    made, ids = repos
    _expect(made, {"computed_at": {"$gte": value}}, ids[5:])
    _expect(made, {"creation_time": {"$lt": value}}, ids[:5])
    _expect(made, {"computed_at": value}, [ids[5]])
    _expect(made, {"computed_at": {"$in": [value, "2026-01-01"]}}, [ids[0], ids[5]])


@pytest.mark.parametrize("value", [5, 1.5, True, "yesterday", "2026-13-01", "2026/01/06", ["2026-01-01"]])
def test_time_fields_refuse_other_values(repos, value):  # noqa: F811
    made, _ = repos
    for repo in made.values():
        with pytest.raises(p.QueryError, match="computed_at"):
            list(repo.find({"computed_at": {"$gt": value}}))


def test_boolean_columns_work_everywhere(repos):  # noqa: F811
    made, ids = repos
    _expect(made, {"composite": False}, ids)
    _expect(made, {"composite": True}, [])
    _expect(made, {"composite": {"$ne": True}}, ids)
    _expect(made, {"composite": {"$in": [True, False]}}, ids)
    _expect(made, {"composite": {"$nin": [False]}}, [])


@pytest.fixture
def registries(tmp_path, postgres_url):
    from provkit.storage.repos.sql.postgres import PostgresRepo

    made = {
        "memory": MemoryRepo(MemoryStore(), delete=True),
        "sqlite": SqlRepo(f"sqlite:///{tmp_path / 'r.db'}", MemoryStore(), delete=True),
        "postgres": PostgresRepo(postgres_url, MemoryStore(), delete=True),
    }
    source = tmp_path / "table.csv"
    source.write_text("a,b\n1,2\n")
    out = {}
    for name, repo in made.items():
        reg = p.Registry(repo, owner="alice")
        fixed = reg.register_dataset(f"{name}/fixed", "1.0.0", old_location=source, name="t")
        loose = reg.register_dataset(f"{name}/loose", "1.0.0", old_location=source, name="u", is_overwritable=True)
        out[name] = (reg, fixed.id, loose.id)
    return out


def test_boolean_and_time_fields_of_the_registry(registries):
    for name, (reg, fixed, loose) in registries.items():

        def ids(query, reg=reg):
            return {d.id for d in reg.find_datasets(query)}

        assert ids({"is_overwritable": True}) == {loose}, name
        assert ids({"is_overwritable": False}) == {fixed}, name
        assert ids({"is_overwritable": {"$ne": False}}) == {loose}, name
        assert ids({"created_at": {"$gte": "2020-01-01"}}) == {fixed, loose}, name
        assert ids({"created_at": {"$lt": "2020-01-01T00:00:00Z"}}) == set(), name
        with pytest.raises(p.QueryError, match="created_at"):
            reg.find_datasets({"created_at": {"$gt": 2020}})
        # a column holding NULL counts as missing (README: where provkit differs from Mongo)
        assert ids({"replaced_by": None}) == ids({"replaced_by": {"$exists": False}}) == {fixed, loose}, name
        assert ids({"replaced_by": {"$ne": None}}) == ids({"replaced_by": {"$exists": True}}) == set(), name
        assert ids({"replaced_by": {"$not": {"$regex": "."}}}) == {fixed, loose}, name


# ---- hostile input ----------------------------------------------------------------------------


def _deep_and(n: int) -> dict:
    query: dict = {"name": "model.train"}
    for _ in range(n):
        query = {"$and": [query]}
    return query


def _deep_not(n: int) -> dict:
    condition: dict = {"$gt": 1}
    for _ in range(n):
        condition = {"$not": condition}
    return {"version": condition}


HOSTILE = {
    "3000-deep $and": (lambda: _deep_and(3000), "nested deeper than"),
    "3000-deep $not": (lambda: _deep_not(3000), "nested deeper than"),
    "3000-deep $or": (lambda: {"$or": [_deep_and(3000)]}, "nested deeper than"),
    "10**30": (lambda: {"version": 10**30}, "64-bit"),
    "10**30 in a JSON $in": (lambda: {"custom_fields.opt": {"$in": [1, -(10**30)]}}, "64-bit"),
    "NaN": (lambda: {"custom_fields.score": float("nan")}, "finite"),
    "NUL in a value": (lambda: {"name": "a\x00b"}, "NUL"),
    "NUL in a regex": (lambda: {"name": {"$regex": "a\x00"}}, "NUL"),
    "lone surrogate": (lambda: {"custom_fields.owner": "ana\ud800"}, "surrogate"),
    "lone surrogate in $in": (lambda: {"id": {"$in": ["x", "\udfff"]}}, "surrogate"),
    "named group": (lambda: {"name": {"$regex": "(?P<g>model)"}}, "named groups"),
    "deeply nested groups": (lambda: {"name": {"$regex": "(" * 3000 + ")" * 3000}}, "nested deeper"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_input_is_one_line_query_error(repos, case):  # noqa: F811
    made, _ = repos
    build, message = HOSTILE[case]
    for name, repo in made.items():
        with pytest.raises(p.QueryError, match=message) as caught:
            list(repo.find(build()))
        text = str(caught.value)
        assert "\n" not in text and len(text) < 300, (name, text)


def test_the_nesting_limit_itself_works_everywhere(repos):  # noqa: F811
    made, ids = repos
    _expect(made, _deep_and(MAX_DEPTH), _where(ids, lambda i: i % 2 == 1))
    _expect(made, _deep_not(MAX_DEPTH), _where(ids, lambda i: i % 3 == 2))  # an even number of $not: version > 1
    deep_or: dict = {"custom_fields.owner": "ana"}
    for _ in range(MAX_DEPTH):
        deep_or = {"$or": [deep_or, {"id": "none"}], "version": {"$gte": 0}}
    _expect(made, deep_or, _where(ids, lambda i: i % 3 == 0))
