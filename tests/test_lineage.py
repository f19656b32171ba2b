"""The lineage graph: identical ancestors/descendants on memory, SQLite and Postgres; PROV-JSON."""

from __future__ import annotations

import json

import pytest

import provkit as p
from provkit import lineage
from provkit.storage.blobstores.memory import MemoryStore
from provkit.storage.repos.memory import MemoryRepo
from provkit.storage.repos.sql import SqlRepo


def _graph(repo) -> dict[str, str]:
    """a -> b -> d, a -> c -> d (a diamond), d -> e, plus a file artifact f based on e;
    then the registry: execution X uses e and makes dataset R; execution Y uses R and c
    and makes dataset S (written from a); file artifact g is based on S."""

    @p.provenance(repo=repo)
    def make(tag, *parents):
        return tag

    a = make("a")
    b, c = make("b", a), make("c", a)
    d = make("d", b, c)
    e = make("e", d)
    with p.using_repo(repo):
        f = p.Files().upload([__file__], based_on=[e])
    ids = {k: v.artifact.id for k, v in {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}.items()}
    reg = p.Registry(repo, owner="lin")
    x = reg.register_execution("X", input_datasets=[e])
    r = reg.register_dataset("r", "1.0.0", old_location=__file__, execution_id=x)
    y = reg.register_execution("Y", input_datasets=[r, c])
    s = reg.register_dataset("s", "1.0.0", old_location=__file__, execution_id=y, parents=[a])
    with p.using_repo(repo):
        g = p.Files().upload([__file__], based_on=[s.id])
    return {**ids, "X": x.id, "R": r.id, "Y": y.id, "S": s.id, "g": g.artifact.id}


@pytest.fixture
def graphs(tmp_path, postgres_url):
    from provkit.storage.repos.sql.postgres import PostgresRepo

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
            "up g": {names[i]: d for i, d in lineage.ancestors(ids["g"], repo=repo).items()},
            "up g 3": {names[i]: d for i, d in lineage.ancestors(ids["g"], depth=3, repo=repo).items()},
            "down R": {names[i]: d for i, d in lineage.descendants(ids["R"], repo=repo).items()},
            "up Y": {names[i]: d for i, d in lineage.ancestors(ids["Y"], repo=repo).items()},
        }
    expected = {
        "up f": {"e": 1, "d": 2, "b": 3, "c": 3, "a": 4},
        "up f 2": {"e": 1, "d": 2},
        "down a": {"b": 1, "c": 1, "S": 1, "d": 2, "Y": 2, "g": 2, "e": 3, "f": 4, "X": 4, "R": 5},
        "down b 1": {"d": 1},
        "up a": {},
        "depth 0": {},
        "up g": {"S": 1, "Y": 2, "a": 2, "R": 3, "c": 3, "X": 4, "e": 5, "d": 6, "b": 7},
        "up g 3": {"S": 1, "Y": 2, "a": 2, "R": 3, "c": 3},
        "down R": {"Y": 1, "S": 2, "g": 3},
        "up Y": {"R": 1, "c": 1, "X": 2, "a": 2, "e": 3, "d": 4, "b": 5},
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


def test_prov_json_covers_datasets_and_executions(graphs):
    from prov.model import ProvDocument

    repo, ids = graphs["postgres"]
    text = lineage.to_prov_json(ids["g"], repo=repo)
    ProvDocument.deserialize(content=text, format="json")
    data = json.loads(text)
    entities, activities = data["entity"], data["activity"]
    assert entities[f"provkit:{ids['S']}"]["provkit:kind"] == "dataset"
    assert activities[f"provkit:{ids['X']}"]["provkit:kind"] == "execution"
    generated = {(g["prov:entity"], g["prov:activity"]) for g in data["wasGeneratedBy"].values()}
    assert (f"provkit:{ids['R']}", f"provkit:{ids['X']}") in generated, "a dataset was generated by its execution"
    used = {(u["prov:activity"], u["prov:entity"]) for u in data["used"].values()}
    assert (f"provkit:{ids['Y']}", f"provkit:{ids['R']}") in used, "an execution used its input dataset"
    assert len(entities) == 8 and len(activities) == 8  # g S R a b c d e; 6 calls + X + Y
