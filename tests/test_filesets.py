"""File artifacts: upload with labels, find, get, new(), lineage, metadata, path safety."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

import provkit as p


@pytest.fixture
def data_dir(tmp_path):
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "train.txt").write_text("path,class\n/img0.png,0\n")
    (root / "test.txt").write_text("path,class\n/img1.png,1\n")
    (root / "sub" / "notes.md").write_text("# notes\n")
    return root


def test_upload_get_and_read(any_repo, data_dir, tmp_path):
    files = p.Files()
    with p.as_user("andy"):
        art = files.upload(
            [data_dir / "train.txt", data_dir / "test.txt", data_dir / "sub" / "notes.md"],
            labels=p.Labels(ticket="AB-123", project="awesome", datatype="annotation_file", infos={"strat": "new"}),
        )
    meta = art.artifact
    assert meta.kind == "files" and meta.user == "andy"
    assert sorted(art.files) == ["sub/notes.md", "test.txt", "train.txt"]
    assert meta.custom_fields["labels"]["ticket"] == "AB-123" and meta.custom_fields["labels"]["infos"] == {
        "strat": "new"
    }
    assert meta.custom_fields["file_sizes"]["train.txt"] == len("path,class\n/img0.png,0\n")
    assert meta.computed_at.tzinfo is not None and meta.run_info["host"]["nodename"]
    assert "pandas" in {k.lower() for k in meta.run_info["packages"]} and "git" in meta.run_info

    got = p.Files().get(meta.id)
    assert got.files["test.txt"].read_text() == "path,class\n/img1.png,1\n"
    with got.files["train.txt"].open("r") as fh:
        assert fh.readline() == "path,class\n"
    out = got.files["sub/notes.md"].download(tmp_path / "out")
    assert out == str(tmp_path / "out" / "sub" / "notes.md")
    assert (tmp_path / "out" / "sub" / "notes.md").read_text() == "# notes\n"
    import pandas as pd

    assert list(pd.read_csv(got.files["test.txt"].local_path)["class"]) == [1]


def test_identical_content_is_stored_once(any_repo, data_dir):
    files = p.Files()
    a = files.upload([data_dir / "train.txt"])
    b = files.upload([data_dir / "train.txt"], labels={"datatype": "again"})
    assert a.artifact.id != b.artifact.id
    key = a.files["train.txt"].key
    assert b.files["train.txt"].key == key
    assert list(any_repo.store.keys()).count(key) == 1


def test_find_like_the_user_story(any_repo, data_dir):
    files = p.Files()
    with p.as_user("andy"):
        files.upload([data_dir / "train.txt", data_dir / "test.txt"], labels={"datatype": "annotation_file"})
        files.upload([data_dir / "sub" / "notes.md"], labels={"datatype": "notes"})
    with p.as_user("brenda"):
        files.upload([data_dir / "test.txt"], labels={"datatype": "annotation_file"})
    df = files.find(
        {
            "username": "andy",
            "labels.datatype": "annotation_file",
            "creation_time": {"$gte": datetime.now(tz=timezone.utc) - timedelta(days=7)},
            "file_relpaths": {"$regex": r"\.txt$"},
        }
    )
    assert len(df) == 1
    row = df.iloc[0]
    assert row["username"] == "andy" and sorted(row["file_relpaths"]) == ["test.txt", "train.txt"]
    assert {"creation_time", "argv", "based_on", "hostname", "labels", "run_id"} <= set(df.columns)
    assert len(files.find({"labels.datatype": "annotation_file"})) == 2
    assert len(files.find({}, limit=1)) == 1


def test_new_records_only_on_a_clean_exit(any_repo):
    files = p.Files()
    with files.new(["model.pt", "logs/train.log"], labels={"datatype": "model"}) as new:
        with open(new.path("model.pt"), "w") as fh:
            fh.write("weights")
        with open(new.path("logs/train.log"), "w") as fh:
            fh.write("ok")
    assert new.artifact is not None and new.files["logs/train.log"].read_text() == "ok"
    before = len(files.find({}))
    with pytest.raises(RuntimeError), files.new(["a.txt"]) as failing:
        with open(failing.path(), "w") as fh:
            fh.write("half")
        raise RuntimeError("training crashed")
    with (
        pytest.raises(FileNotFoundError, match="not written"),
        files.new(["a.txt", "b.txt"]) as partial,
        open(partial.path("a.txt"), "w") as fh,
    ):
        fh.write("only one")
    assert len(files.find({})) == before, "nothing recorded for a failed or incomplete block"


def test_lineage_follows_gets_within_a_handler(any_repo, data_dir):
    andy = p.Files()
    with p.as_user("andy"):
        data = andy.upload([data_dir / "train.txt"], labels={"datatype": "annotation_file"})
    brenda = p.Files()
    with p.as_user("brenda"):
        fetched = brenda.get(data.artifact.id)
        with brenda.new(["model.pt"]) as new, open(new.path(), "w") as fh:
            fh.write(fetched.files["train.txt"].read_text())
        unrelated = p.Files().upload([data_dir / "test.txt"])
        explicit = brenda.upload([data_dir / "test.txt"], based_on=[])
    assert new.artifact.input_artifact_ids == [data.artifact.id]
    assert unrelated.artifact.input_artifact_ids == [] and explicit.artifact.input_artifact_ids == []
    children = andy.find({"based_on": data.artifact.id})
    assert list(children.index) == [new.artifact.id]
    assert children.iloc[0]["username"] == "brenda"


def test_file_artifacts_feed_decorated_functions(any_repo, data_dir):
    files = p.Files()
    art = files.upload([data_dir / "train.txt"])

    @p.provenance()
    def count_rows(fileset):
        return len(fileset.files["train.txt"].read_text().splitlines())

    n = count_rows(files.get(art.artifact.id))
    assert n == 2 and n.artifact.input_artifact_ids == [art.artifact.id]
    assert count_rows(p.load_proxy(art.artifact.id)).artifact.id == n.artifact.id


@pytest.mark.parametrize("bad", ["../escape.txt", "/abs.txt", "a/../b.txt", "", "./x"])
def test_relpaths_that_escape_are_refused(any_repo, bad):
    with pytest.raises(p.InvalidKeyError), p.Files().new([bad]):
        pass


def test_symlinks_out_of_the_tree_are_refused(any_repo, data_dir, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, data_dir / "link.txt")
    with pytest.raises(p.InvalidKeyError, match="outside"):
        p.Files().upload([data_dir / "link.txt", data_dir / "train.txt"], root=data_dir)


def test_unknown_labels_and_missing_files(any_repo, data_dir):
    with pytest.raises(TypeError, match="infos"):
        p.Files().upload([data_dir / "train.txt"], labels={"colour": "red"})
    with pytest.raises(FileNotFoundError):
        p.Files().upload([data_dir / "nope.txt"])
    cached = p.provenance()(lambda a: a)(1)
    with pytest.raises(p.InvalidKeyError, match="not a file artifact"):
        p.Files().get(cached.artifact.id)


@pytest.mark.parametrize("kind", ["s3", "s3-cached", "sftp"])
def test_file_artifacts_on_remote_stores(kind, tmp_path, data_dir, request):
    if kind.startswith("s3"):
        bucket = request.getfixturevalue("s3_bucket")
        store = {"type": "s3", "basepath": f"{bucket['bucket']}/files", "endpoint_url": bucket["endpoint_url"],
                 "s3_config": bucket["s3_config"]}  # fmt: skip
        if kind == "s3-cached":
            store["cachedir"] = str(tmp_path / "cache")
    else:
        sshd = request.getfixturevalue("sshd_server")
        store = {"type": "sftp", "basepath": str(tmp_path / "remote"), "ssh_config": dict(sshd.info)}
    p.load_config(
        {"blobstores": {"remote": store},
         "artifact_repos": {"r": {"type": "sqlite", "db": f"sqlite:///{tmp_path}/r.db", "store": "remote"}}}
    )  # fmt: skip
    art = p.Files().upload([data_dir / "train.txt", data_dir / "sub" / "notes.md"])
    got = p.Files().get(art.artifact.id)
    assert got.files["sub/notes.md"].read_text() == "# notes\n"
    assert os.path.exists(got.files["train.txt"].local_path)


def test_run_scope_and_cached_results_as_parents(any_repo, data_dir):
    @p.provenance()
    def features(n):
        return list(range(n))

    feats = features(3)
    run = p.run_files()
    assert run is p.run_files(), "one handler per run (process)"
    data = p.Files().upload([data_dir / "train.txt"])
    run.get(data.artifact.id)
    run.use(feats)
    with run.new(["report.txt"]) as new, open(new.path(), "w") as fh:
        fh.write("ok")
    assert new.artifact.input_artifact_ids == [data.artifact.id, feats.artifact.id]
    assert [a.id for a in any_repo.find({"based_on": feats.artifact.id})] == [new.artifact.id]


def test_upload_reports_progress_per_file(any_repo, data_dir):
    calls = []
    files = sorted(str(f) for f in data_dir.iterdir() if f.is_file())
    p.Files().upload(files, {"datatype": "raw"}, progress=lambda n, total: calls.append((n, total)))
    total = sum(os.path.getsize(f) for f in files)
    assert len(calls) == len(files) and sum(n for n, _ in calls) == total
    assert {t for _, t in calls} == {total}
