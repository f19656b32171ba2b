"""Retraction and taint: through 10 levels, across artifacts, file artifacts and datasets;
queryable; warn / raise / ignore on load; un-retracting; on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import provkit as p
from lifecycle_helpers import kind_repo_fixture  # noqa: F401 - the kind_repo fixture
from provkit.storage.config import embedded_config


@pytest.fixture(autouse=True)
def _policy():
    yield
    p.set_on_tainted("warn")


def _chain():
    @p.provenance(name="r.source")
    def source(i):
        return np.arange(10) * i

    @p.provenance(name="r.step")
    def step(x, k):
        return x + k

    return source, step


def test_taint_propagates_through_ten_levels_and_is_queryable(kind_repo):
    source, step = _chain()
    root = source(1)
    node, levels = root, []
    for k in range(10):
        node = step(node, k)
        levels.append(node)
    clean = step(source(2), 0)
    p.retract(root, "sensor calibration was wrong")
    taint = p.taint_of(levels[-1])
    assert taint.retracted_id == root.artifact.id and taint.reason == "sensor calibration was wrong"
    assert taint.path[0] == levels[-1].artifact.id and taint.path[-1] == root.artifact.id and len(taint.path) == 11
    assert set(p.tainted()) == {root.artifact.id, *(x.artifact.id for x in levels)}
    assert p.taint_of(clean) is None
    assert {a.id for a in p.find_artifacts({"retracted": True})} == {root.artifact.id}
    assert {a.id for a in p.find_artifacts({"tainted": True, "name": "r.step"})} == {x.artifact.id for x in levels}
    assert {a.id for a in p.find_artifacts({"tainted": False})} == {
        clean.artifact.id,
        *clean.artifact.input_artifact_ids,
    }
    with pytest.raises(p.ProvkitError, match="true or false"):
        list(p.find_artifacts({"tainted": "yes"}))


def test_loading_a_tainted_value_warns_raises_or_not(kind_repo):
    source, step = _chain()
    root = source(1)
    child = step(root, 5)
    p.retract(root.artifact.id, "bad batch")
    with pytest.warns(p.TaintedWarning, match="bad batch") as caught:
        p.load_artifact(child.artifact.id).value  # noqa: B018 - loading is the point
    assert root.artifact.id in str(caught[0].message)
    with pytest.warns(p.TaintedWarning):
        step(root, 5)  # a cached call that hits a tainted result warns too
    p.set_on_tainted("raise")
    with pytest.raises(p.TaintedArtifactError) as info:
        p.load_artifact(child.artifact.id).value  # noqa: B018
    assert info.value.retracted_id == root.artifact.id
    p.set_on_tainted("ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # provkit's warnings, not unrelated garbage's
        assert list(p.load_artifact(child.artifact.id).value) == list(np.arange(10) + 5)
    with pytest.raises(p.ProvkitError, match="on_tainted"):
        p.set_on_tainted("shout")


def test_a_new_input_recomputes_clean(kind_repo):
    source, step = _chain()
    bad = step(source(1), 1)
    p.retract(source(1), "wrong")
    good = step(source(3), 1)  # the corrected input: another artifact id, computed afresh
    assert good.artifact.id != bad.artifact.id and p.taint_of(good) is None


def test_unretract_keeps_taint_explained_by_another_retraction(kind_repo):
    source, step = _chain()
    a, b = source(1), source(2)

    @p.provenance(name="r.join")
    def join(x, y):
        return x + y

    both = join(a, b)
    only_a = step(a, 1)
    p.retract(a, "a is wrong")
    p.retract(b, "b is wrong")
    assert p.unretract(a) is True and p.unretract(a) is False
    assert p.taint_of(only_a) is None
    assert p.taint_of(both).retracted_id == b.artifact.id


def test_taint_crosses_file_artifacts_and_datasets(kind_repo, tmp_path):
    src = tmp_path / "raw.csv"
    src.write_text("1,2\n")
    files = p.Files()
    raw = files.upload([str(src)])
    _, step = _chain()

    @p.provenance(name="r.parse")
    def parse(f):
        return np.arange(3)

    parsed = parse(raw)
    derived = step(parsed, 1)
    reg = p.Registry()
    ex = reg.register_execution("publish", input_datasets=[derived])
    out = tmp_path / "out.txt"
    out.write_text("x")
    ds = reg.register_dataset("pub/out.txt", "0.0.1", old_location=str(out), execution_id=ex)
    p.retract(raw, "the raw export was truncated")
    assert p.taint_of(derived).retracted_id == raw.artifact.id
    assert p.taint_of(ds.id).retracted_id == raw.artifact.id
    p.unretract(raw)
    p.retract(ds, "published by mistake")
    assert p.retracted()[ds.id].reason == "published by mistake" and p.taint_of(derived) is None


def test_retract_and_show_on_the_command_line(cli, tmp_path):
    p.load_config(embedded_config(str(tmp_path / "home")))
    source, step = _chain()
    root = source(1)
    child = step(root, 2)
    out = cli("retract", root.artifact.id[:12], "--reason", "miscalibrated").stdout
    assert f"retracted {root.artifact.id}; 1 downstream records are tainted" in out
    shown = json.loads(cli("show", child.artifact.id, "--json").stdout)
    assert "miscalibrated" in shown["tainted"] and root.artifact.id in shown["tainted"]
    assert "miscalibrated" in json.loads(cli("show", root.artifact.id, "--json").stdout)["retracted"]
    assert "unretracted" in cli("unretract", root.artifact.id).stdout
    assert "tainted" not in json.loads(cli("show", child.artifact.id, "--json").stdout)
    assert cli("unretract", root.artifact.id, ok=False).returncode == 1


def test_lineage_pictures_colour_retracted_and_tainted_records(kind_repo):
    source, step = _chain()
    root = source(1)
    child = step(root, 1)
    other = step(source(2), 1)
    p.retract(root, "wrong")
    dot = p.vis.visualize_lineage(child, show_values=False).source
    assert dot.count("#e8a0a0") == 1 and dot.count("#f7dcc4") == 1
    assert "#e8a0a0" not in p.vis.visualize_lineage(other, show_values=False).source
