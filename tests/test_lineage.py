"""The lineage graph: identical ancestors/descendants on memory, SQLite and Postgres; PROV-JSON."""

from __future__ import annotations

import json

import pytest

import provkit as p
from provkit import lineage
from provkit.blobstores.memory import MemoryStore
from provkit.repos.memory import MemoryRepo
from provkit.repos.sql import SqlRepo


def _graph(repo) -> dict[str, str]:
    """a -> b -> d, a -> c -> d (a diamond), d -> e, plus a file artifact based on e."""

    @p.provenance(repo=repo)
    def make(tag, *parents):
        return tag

    a = make("a")
    b, c = make("b", a), make("c", a)
    d = make("d", b, c)
    e = make("e", d)
    with p.using_repo(repo):
        f = p.Files().upload([__file__], based_on=[e])
    return {k: v.artifact.id for k, v in {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}.items()}


@pytest.fixture
def graphs(tmp_path, postgres_url):
    from provkit.repos.sql.postgres import PostgresRepo

    repos = {
        "memory": MemoryRepo(MemoryStore()),
        "sqlite": SqlRepo(f"sqlite:///{tmp_path / 'l.db'}", MemoryStore()),
        "postgres": PostgresRepo(postgres_url, MemoryStore()),
    }
    return {name: (repo, _graph(repo)) for name, repo in repos.items()}


def test_ancestors_and_descendants_agree_everywhere(graphs):
    answers = {}
    for name, (repo, ids) in graphs.items():
        names = {v: k for k, v in ids.items()}
        answers[name] = {
            "up f": {names[i]: d for i, d in lineage.ancestors(ids["f"], repo=repo).items()},
            "up f 2": {names[i]: d for i, d in lineage.ancestors(ids["f"], depth=2, repo=repo).items()},
            "down a": {names[i]: d for i, d in lineage.descendants(ids["a"], repo=repo).items()},
            "down b 1": {names[i]: d for i, d in lineage.descendants(ids["b"], depth=1, repo=repo).items()},
            "up a": lineage.ancestors(ids["a"], repo=repo),
            "depth 0": lineage.ancestors(ids["f"], depth=0, repo=repo),
        }
    expected = {
        "up f": {"e": 1, "d": 2, "b": 3, "c": 3, "a": 4},
        "up f 2": {"e": 1, "d": 2},
        "down a": {"b": 1, "c": 1, "d": 2, "e": 3, "f": 4},
        "down b 1": {"d": 1},
        "up a": {},
        "depth 0": {},
    }
    for name, answer in answers.items():
        assert answer == expected, name


def test_bad_depth_and_targets(graphs):
    repo, ids = graphs["memory"]
    with pytest.raises(ValueError):
        lineage.ancestors(ids["a"], depth=-1, repo=repo)
    with pytest.raises(TypeError):
        lineage.ancestors(3.5, repo=repo)


def test_prov_json_export_validates(graphs):
    from prov.model import ProvDocument

    repo, ids = graphs["sqlite"]
    text = lineage.to_prov_json(ids["e"], repo=repo)
    doc = ProvDocument.deserialize(content=text, format="json")
    data = json.loads(text)
    assert len(data["entity"]) == 5 and len(data["activity"]) == 5
    assert len(data["wasDerivedFrom"]) == 5  # b<-a, c<-a, d<-b, d<-c, e<-d
    assert f"provkit:{ids['a']}" in data["entity"]
    assert doc.get_provn()  # the prov package can render what it parsed
