"""diff: two results through their lineage, the first divergence points, text, JSON and
one DOT picture; on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import json

import numpy as np

import provkit as p
from lifecycle_helpers import kind_repo_fixture  # noqa: F401 - the kind_repo fixture
from provkit.storage.config import embedded_config


def _pipeline():
    @p.provenance(name="d.load")
    def load(path, sep=","):
        return np.arange(20) * len(path)

    @p.provenance(name="d.clean")
    def clean(x, drop=0):
        return x[drop:]

    @p.provenance(name="d.fit")
    def fit(x, y, lr=0.1):
        return float(x.sum() + y.sum()) * lr

    return load, clean, fit


def test_diff_locates_the_divergence_deep_in_the_lineage(kind_repo):
    load, clean, fit = _pipeline()
    ref = load("ref.csv")
    a = fit(clean(load("a.csv")), ref)
    b = fit(clean(load("bbb.csv")), ref)
    result = p.diff(a, b)
    assert not result.same
    [(path, point)] = result.divergences()
    assert (point.what, point.name, point.old, point.new) == ("argument", "path", "a.csv", "bbb.csv")
    assert len(path) == 2  # fit.x -> clean.x -> load.path
    assert result.differing_ids() >= {a.artifact.id, b.artifact.id, *a.artifact.input_artifact_ids[:1]}
    assert ref.artifact.id not in result.differing_ids()
    text = str(result)
    assert "first divergence points" in text and 'argument \'path\': "a.csv" -> "bbb.csv"' in text
    data = json.loads(json.dumps(result.to_dict()))
    assert data["divergences"][0]["name"] == "path"
    dot = result.to_dot()
    assert dot.startswith("digraph") and dot.count("fillcolor") == 6  # a, b, two cleans, two loads
    assert f'"{ref.artifact.id}" [label=' in dot and f'"{ref.artifact.id}" ->' in dot


def test_diff_names_versions_arguments_and_same_results(kind_repo):
    load, clean, _ = _pipeline()
    x = clean(load("a.csv"))
    same = p.diff(x, x)
    assert same.same and "made the same way" in str(same)
    drop = p.diff(clean(load("a.csv"), drop=0), clean(load("a.csv"), drop=2))
    assert [(d.what, d.name, d.old, d.new) for d in drop.differences] == [("argument", "drop", 0, 2)]

    @p.provenance(name="d.clean", version=3)
    def clean3(x, drop=0):
        return x[drop:]

    ver = p.diff(x, clean3(load("a.csv")))
    assert [d.what for d in ver.differences] == ["version"]


def test_diff_of_file_artifacts_names_the_files(kind_repo, tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    for folder, text in (("one", "a"), ("two", "b")):
        (tmp_path / folder / "x.txt").write_text(text)
        (tmp_path / folder / "same.txt").write_text("s")
    files = p.Files()
    a = files.upload([str(tmp_path / "one")])
    b = files.upload([str(tmp_path / "two")])
    result = p.diff(a, b, env=False)
    assert [(d.what, d.new) for d in result.differences] == [("files", ["x.txt"])]


def test_diff_environment_packages_and_git(kind_repo):
    runs = iter([{"packages": {"numpy": "1.0", "pandas": "2.0"}, "git": {"commit": "aaa"}},
                 {"packages": {"numpy": "2.0", "pandas": "2.0"}, "git": {"commit": "bbb"}}])  # fmt: skip

    def hook(info):
        info.update(next(runs))
        return info

    @p.provenance(name="d.env")
    def f(i):
        return i

    p.set_run_info_fn(hook)
    a = f(1)
    p.set_run_info_fn(hook)  # a new run: other packages, another commit
    b = f(2)
    details = [d.detail for d in p.diff(a, b).differences]
    assert details == ["argument 'i': 1 -> 2", "packages differ: numpy 1.0 -> 2.0", "git commit aaa -> bbb"]
    assert [d.what for d in p.diff(a, b, env=False).differences] == ["argument"]


def test_diff_on_the_command_line(cli, tmp_path):
    p.load_config(embedded_config(str(tmp_path / "home")))
    load, clean, _ = _pipeline()
    a, b = clean(load("a.csv")), clean(load("cc.csv"))
    text = cli("diff", a.artifact.id[:12], b.artifact.id[:12]).stdout
    assert "first divergence points" in text and "argument 'path'" in text
    data = json.loads(cli("diff", a.artifact.id, b.artifact.id, "--json").stdout)
    assert data["divergences"][0]["new"] == "cc.csv"
    assert cli("diff", a.artifact.id, b.artifact.id, "-f", "dot").stdout.startswith("digraph")
    assert "<svg" in cli("diff", a.artifact.id, b.artifact.id, "-f", "svg").stdout
    assert "--format" in cli("diff", a.artifact.id, b.artifact.id, "-f", "png", ok=False).stderr
