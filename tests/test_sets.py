"""Artifact sets: capture, decorate, create, load, algebra, proxy dicts."""

from __future__ import annotations

import pytest

import provkit as p


@pytest.fixture
def pipeline_fns(any_repo):
    @p.provenance()
    def load_data(query):
        return [len(query), 2, 3]

    @p.provenance()
    def build_model(data, num_trees=100):
        return {"trees": num_trees, "n": len(data)}

    @p.provenance()
    def evaluate(model, data):
        return {"metric": 0.5}

    return load_data, build_model, evaluate


def test_capture_set_records_everything_made_or_reused_in_the_block(pipeline_fns):
    load_data, build_model, evaluate = pipeline_fns
    cached = load_data("warm")  # made before: reused inside the block, still captured
    with p.capture_set("production") as capture:
        data = load_data("warm")
        model = build_model(data)
        evaluation = evaluate(model, load_data("validation"))
    artifact_set = capture[0]
    assert artifact_set is capture.artifact_set
    expected = {cached.artifact.id, model.artifact.id, evaluation.artifact.id, load_data("validation").artifact.id}
    assert artifact_set.artifact_ids == expected
    assert artifact_set.name == "production" and artifact_set.labels == {"name": "production"}
    assert p.load_set_by_name("production") == artifact_set
    assert p.load_set_by_id(artifact_set.id).artifact_ids == expected
    assert p.load_set_by_labels("production").id == artifact_set.id


def test_proxy_dict_groups_by_name(pipeline_fns):
    load_data, build_model, _ = pipeline_fns
    with p.capture_set({"name": "prod", "stage": "train"}) as capture:
        build_model(load_data("a")), load_data("b")
    artifact_set = capture.artifact_set
    with pytest.raises(ValueError, match="share the name"):
        artifact_set.proxy_dict()
    grouped = artifact_set.proxy_dict(group_artifacts_of_same_name=True)
    names = {k.rsplit(".", 1)[-1]: v for k, v in grouped.items()}
    assert sorted(len(x) for x in names["load_data"]) == [3, 3]
    assert names["build_model"]["trees"] == 100 and p.is_proxy(names["build_model"]), "one artifact: one proxy"
    assert p.load_set_by_labels({"name": "prod", "stage": "train"}).id == artifact_set.id


def test_nothing_is_stored_when_the_block_fails(pipeline_fns):
    load_data = pipeline_fns[0]
    with pytest.raises(RuntimeError), p.capture_set("broken"):
        load_data("x")
        raise RuntimeError("boom")
    with pytest.raises(p.SetNotFoundError):
        p.load_set_by_name("broken")


def test_nested_captures_and_initial_set(pipeline_fns):
    load_data = pipeline_fns[0]
    seed = load_data("seed")
    with p.capture_set("outer", initial_set=[seed]) as outer:
        a = load_data("a")
        with p.capture_set("inner") as inner:
            b = load_data("b")
    assert inner.artifact_set.artifact_ids == {b.artifact.id}
    assert outer.artifact_set.artifact_ids == {seed.artifact.id, a.artifact.id, b.artifact.id}


def test_provenance_set_decorator(pipeline_fns):
    load_data, build_model, _ = pipeline_fns

    @p.provenance_set(set_labels_fn=lambda entry: {"name": f"entry-{entry}"})
    def process(entry):
        build_model(load_data(entry))

    s1 = process("0001")
    assert isinstance(s1, p.ArtifactSet) and len(s1) == 2 and s1.name == "entry-0001"
    assert p.load_set_by_name("entry-0001").id == s1.id

    @p.provenance_set(set_labels="fixed")
    def other():
        load_data("z")

    assert other().name == "fixed"
    with pytest.raises(ValueError):
        p.provenance_set(set_labels="a", set_labels_fn=lambda: "b")


def test_create_set_and_algebra(pipeline_fns):
    load_data = pipeline_fns[0]
    a, b, c = load_data("a"), load_data("bb"), load_data("ccc")
    s1 = p.create_set([a, b.artifact], "one")
    s2 = p.create_set([b.artifact.id, c], {"name": "two"})
    assert (s1 | s2).artifact_ids == {a.artifact.id, b.artifact.id, c.artifact.id}
    assert (s1 & s2).artifact_ids == {b.artifact.id}
    assert (s1 - s2).artifact_ids == {a.artifact.id}
    assert s1.union(s2, labels="all").name == "all"
    assert p.load_set_by_name("all").artifact_ids == (s1 | s2).artifact_ids
    assert s1.add(c).artifact_ids == {a.artifact.id, b.artifact.id, c.artifact.id}
    assert s1.remove(a).artifact_ids == {b.artifact.id}
    assert s1.relabel({"stage": "x"}).labels == {"stage": "x"}
    renamed = s1.rename("uno")
    assert renamed.name == "uno" and renamed.artifact_ids == s1.artifact_ids
    assert p.load_set_by_name("uno").id == renamed.id
    assert a in s1 and c not in s1
    assert p.create_set([a, b], "one").id == s1.id, "same members and labels: same set id"
    with pytest.raises(TypeError):
        p.create_set([1.5])


def test_archive_file_joins_a_capture(any_repo, tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("x")
    with p.capture_set("files") as capture:
        f = p.archive_file(str(path))
    assert capture.artifact_set.artifact_ids == {f.artifact.id}
