"""A file artifact's story at the user's fingertips: ``.metadata``, a readable repr, a
direct ``url`` per file (local or S3), ``Files.new()`` handing back the artifact, and
``download()`` into the current folder by default."""

from __future__ import annotations

import os

import pytest

import provkit as p


@pytest.fixture
def csv_dir(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "x.csv").write_text("a,b\n1,2\n3,4\n")
    (folder / "notes.txt").write_text("hello")
    return folder


def test_metadata_and_repr_show_the_story(any_repo, csv_dir):
    files = p.Files()
    base = files.upload([str(csv_dir / "notes.txt")], {"project": "survey", "datatype": "notes"}, root=str(csv_dir))
    art = files.upload([str(csv_dir / "x.csv")], {"project": "survey", "datatype": "table"}, root=str(csv_dir),
                       based_on=[base])  # fmt: skip
    meta = art.metadata
    assert meta["username"] == art.artifact.user and meta["hostname"] == os.uname().nodename
    assert isinstance(meta["argv"], str) and meta["argv"]
    assert meta["python_packages"]["numpy"], "name -> version of installed packages"
    assert meta["creation_time"] == art.artifact.computed_at and meta["run_id"] == art.artifact.run_id
    assert meta["based_on"] == [base.artifact.id]
    assert meta["labels"]["datatype"] == "table"
    assert meta["files"] == [{"relpath": "x.csv", "size": 12, "hash": art["x.csv"].key}]
    assert art["x.csv"].hash == art["x.csv"].key
    again = p.load_proxy(art.artifact.id)  # loaded back: the same story
    assert again.metadata["files"] == meta["files"] and again.metadata["labels"] == meta["labels"]
    shown = repr(again)
    for part in (art.artifact.id, "x.csv", "12 bytes", meta["username"], "table"):
        assert part in shown
    assert art.artifact.metadata["based_on"] == [base.artifact.id], "every artifact has .metadata"


def test_file_url_opens_directly_and_download_defaults_to_here(any_repo, csv_dir, tmp_path, monkeypatch):
    import pandas as pd

    art = p.Files().upload([str(csv_dir / "x.csv")], {"datatype": "table"}, root=str(csv_dir))
    if any_repo.store.type_name == "memory":  # bytes in this process only: nothing to point a reader at
        with pytest.raises(p.ConfigError, match="no address"):
            art["x.csv"].url  # noqa: B018
    else:
        frame = pd.read_csv(art["x.csv"].url, storage_options=art["x.csv"].storage_options or None)
        assert frame["b"].tolist() == [2, 4]
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert os.path.samefile(art["x.csv"].download(), here / "x.csv")
    assert [os.path.basename(f) for f in art.download()] == ["x.csv"]


def test_new_hands_back_the_artifact_and_its_files(any_repo):
    files = p.Files()
    with files.new(["out/model.txt"], {"datatype": "model"}) as new, open(new.path(), "w") as fh:
        fh.write("weights")
    assert isinstance(new.artifact, p.Artifact)
    assert new.artifact.id == new.files.artifact.id
    assert new.files["out/model.txt"].read_text() == "weights"


def test_url_of_a_file_on_s3_reads_with_pandas(tmp_path, s3_bucket, csv_dir):
    import pandas as pd

    p.load_config({
        "blobstores": {"s3": {"type": "s3", "cachedir": str(tmp_path / "cache"), "basepath": f"{s3_bucket['bucket']}/f",
                              "s3_config": s3_bucket["s3_config"], "endpoint_url": s3_bucket["endpoint_url"]}},
        "artifact_repos": {"r": {"type": "sqlite", "db": f"sqlite:///{tmp_path}/db.sqlite", "store": "s3"}},
    })  # fmt: skip
    art = p.Files().upload([str(csv_dir / "x.csv")], {"datatype": "table"}, root=str(csv_dir))
    stored = art["x.csv"]
    assert stored.url.startswith("s3://" + s3_bucket["bucket"] + "/")
    assert pd.read_csv(stored.url, storage_options=stored.storage_options)["a"].tolist() == [1, 3]
