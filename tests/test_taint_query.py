"""``retracted`` / ``tainted`` anywhere in a query ($and / $or / $nor, $not, beside other
fields), the same on memory, SQLite and PostgreSQL (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

import provkit as p
from lifecycle_helpers import kind_repo_fixture  # noqa: F401 - the kind_repo fixture


@pytest.fixture
def graph(kind_repo):
    @p.provenance(name="q.source")
    def source(i):
        return np.arange(4) * i

    @p.provenance(name="q.step")
    def step(x, k):
        return x + k

    bad, good = source(1), source(2)
    bad1, bad2, good1 = step(bad, 1), step(bad, 2), step(good, 1)
    p.retract(bad, "wrong units")
    ids = {n: v.artifact.id for n, v in dict(bad=bad, good=good, bad1=bad1, bad2=bad2, good1=good1).items()}
    return ids


def _found(query):
    return {a.id for a in p.find_artifacts(query)}


def test_nested_retracted_and_tainted_conditions(graph):
    g = graph
    assert _found({"$or": [{"retracted": True}, {"name": "q.step", "inputs.k": 2}]}) == {g["bad"], g["bad2"]}
    assert _found({"$and": [{"name": "q.step"}, {"tainted": True}]}) == {g["bad1"], g["bad2"]}
    assert _found({"name": "q.step", "$or": [{"tainted": False}, {"inputs.k": 2}]}) == {g["good1"], g["bad2"]}
    assert _found({"$nor": [{"tainted": True}]}) == {g["good"], g["good1"]}
    assert _found({"tainted": {"$not": {"$eq": True}}, "name": "q.source"}) == {g["good"]}
    assert _found({"tainted": {"$ne": False}, "retracted": False}) == {g["bad1"], g["bad2"]}
    assert _found({"$or": [{"$and": [{"tainted": True}, {"retracted": {"$in": [False]}}]}]}) == {g["bad1"], g["bad2"]}
    assert _found({"tainted": {"$in": [True, False]}}) == set(g.values())
    assert _found({"tainted": {"$eq": True, "$ne": True}}) == set()
    assert _found({"id": g["bad1"], "$or": [{"tainted": True}]}) == {g["bad1"]}, "an id beside a taint filter"
    assert p.find({"$or": [{"retracted": True}, {"name": "nothing"}]}).index.tolist() == [g["bad"]]


def test_a_malformed_taint_condition_is_a_query_error(graph):
    for bad in ({"$or": [{"tainted": "yes"}]}, {"retracted": {"$gt": True}}, {"$and": [{"tainted": {}}]}):
        with pytest.raises(p.QueryError, match="true or false"):
            list(p.find_artifacts(bad))
