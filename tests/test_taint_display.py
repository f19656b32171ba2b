"""Retraction and taint in reprs (artifacts, proxies, file sets, datasets, Jupyter HTML) and
in ``provkit show`` / ``provkit dataset show`` for datasets (issue 14)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import provkit as p
from lifecycle_helpers import kind_repo_fixture  # noqa: F401 - the kind_repo fixture
from provkit.storage.config import embedded_config


@pytest.fixture(autouse=True)
def _quiet():
    p.set_on_tainted("ignore")  # reading values below must not warn
    yield
    p.set_on_tainted("warn")


def _pipeline(tmp_path):
    @p.provenance(name="d.source")
    def source(i):
        return np.arange(3) * i

    @p.provenance(name="d.step")
    def step(x):
        return x + 1

    raw_file = tmp_path / "raw.csv"
    raw_file.write_text("1,2\n")
    files = p.Files().upload([str(raw_file)])
    root = source(1)
    child = step(root)
    derived = p.Files().upload([str(raw_file)], based_on=[child])
    return root, child, files, derived


def test_reprs_say_retracted_and_tainted(kind_repo, tmp_path):
    root, child, files, derived = _pipeline(tmp_path)
    assert "RETRACTED" not in repr(root.artifact) and "tainted" not in repr(child)
    p.retract(root, "bad calibration")
    assert repr(root.artifact) == f"<provkit.Artifact({root.artifact.id}) RETRACTED: bad calibration>"
    assert repr(child.artifact) == (
        f"<provkit.Artifact({child.artifact.id}) tainted via {root.artifact.id} (bad calibration)>"
    )
    assert repr(root).startswith(f"<provkit.ArtifactProxy({root.artifact.id}) [RETRACTED: bad calibration] array(")
    assert f"[tainted via {root.artifact.id} (bad calibration)]" in repr(child)
    assert f"tainted via {root.artifact.id}" in repr(derived)  # a FileSet built on the chain
    assert "RETRACTED" not in repr(files) and "tainted" not in repr(files)
    html = root.artifact._repr_html_()
    assert "RETRACTED: bad calibration" in html and "#b00020" in html
    assert f"tainted via {root.artifact.id}" in child.artifact._repr_html_()
    p.unretract(root)
    assert repr(child.artifact) == f"<provkit.Artifact({child.artifact.id})>"
    assert "tainted" not in repr(derived) and "RETRACTED" not in root.artifact._repr_html_()


def test_dataset_reprs_say_retracted_and_tainted(kind_repo, tmp_path):
    root, child, _, _ = _pipeline(tmp_path)
    reg = p.Registry()
    out = tmp_path / "out.txt"
    out.write_text("x")
    ds = reg.register_dataset("pub/out.txt", "0.0.1", old_location=str(out), input_datasets=[child])
    assert repr(ds).endswith(f"{ds.id[:14]}>")
    p.retract(root, "bad calibration")
    assert repr(ds).endswith(f"tainted via {root.artifact.id} (bad calibration)>")
    assert f"tainted via {root.artifact.id}" in ds._repr_html_()
    p.unretract(root)
    p.retract(ds, "published by mistake")
    assert repr(ds).endswith("RETRACTED: published by mistake>")
    assert "RETRACTED: published by mistake" in reg.get_dataset(ds.id)._repr_html_()


def test_repr_shows_when_the_status_cannot_be_read(any_repo, monkeypatch):
    from provkit.services.lifecycle import retraction

    @p.provenance(name="d.plain")
    def plain(i):
        return i

    made = plain(1)

    def broken(repo=None):
        raise p.RepoError("database is gone")

    monkeypatch.setattr(retraction, "retracted", broken)
    assert "retraction status unknown (RepoError: database is gone)" in repr(made.artifact)


def test_show_and_dataset_show_print_retraction_and_taint(cli, tmp_path):
    p.load_config(embedded_config(str(tmp_path / "home")))

    @p.provenance(name="d.cli")
    def source(i):
        return np.arange(3) * i

    root = source(1)
    out = tmp_path / "out.txt"
    out.write_text("x")
    ds = p.Registry().register_dataset("pub/cli.txt", "0.0.1", old_location=str(out), input_datasets=[root])
    cli("retract", root.artifact.id, "--reason", "miscalibrated")
    shown = json.loads(cli("show", ds.id, "--json").stdout)
    assert root.artifact.id in shown["tainted"] and "miscalibrated" in shown["tainted"]
    text = cli("dataset", "show", ds.id[:12]).stdout
    assert "tainted" in text and "miscalibrated" in text
    cli("unretract", root.artifact.id)
    assert "tainted" not in json.loads(cli("dataset", "show", ds.id, "--json").stdout)
    cli("retract", ds.id, "--reason", "wrong files")
    assert "wrong files" in json.loads(cli("dataset", "show", ds.id, "--json").stdout)["retracted"]
    assert cli("dataset", "show", root.artifact.id, ok=False).returncode != 0
