"""Uploads (issue 12): one path or many, folders, checks before any byte is written, label
JSON, file names that are not UTF-8, and the registry's owner_type; on memory, SQLite and
PostgreSQL (real server)."""

from __future__ import annotations

import math
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

import provkit as p


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def repo_config(request, tmp_path):
    """A config (memory / SQLite / PostgreSQL, each with a disk store), installed."""
    store = {"disk": {"type": "disk", "cachedir": str(tmp_path / "blobs"), "delete": True}}
    if request.param == "memory":
        repo = {"type": "memory", "store": "disk", "delete": True}
    elif request.param == "sqlite":
        repo = {"type": "sqlite", "db": f"sqlite:///{tmp_path / 'meta.db'}", "store": "disk", "delete": True}
    else:
        repo = {"type": "postgres", "db": request.getfixturevalue("postgres_url"), "store": "disk", "delete": True}
    config = {"blobstores": store, "artifact_repos": {"r": repo}, "default_repo": "r"}
    p.load_config(config)
    return config


@pytest.fixture
def docs(tmp_path):
    root = tmp_path / "docs"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty" / "nested_empty").mkdir(parents=True)
    (root / "train.txt").write_text("train\n")
    (root / "sub" / "notes.md").write_text("# notes\n")
    (root / "sub" / "deeper" / "x.bin").write_bytes(b"\x00\x01")
    return root


def _files_on_disk(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()


def _state(tmp_path: Path) -> tuple:
    """Everything an upload could leave behind: rows, blobs, blob-store files (temp ones too)."""
    repo = p.get_default_repo()
    return (
        sorted(a.id for a in repo.find({})),
        sorted(repo.store.keys()),
        _files_on_disk(tmp_path / "blobs"),
    )


def test_a_single_path_string_or_pathlike_is_one_file(repo_config, docs):
    by_str = p.Files().upload(str(docs / "train.txt"))
    assert list(by_str.files) == ["train.txt"], "a string is one path, not a list of characters"
    by_path = p.Files().upload(docs / "sub" / "notes.md", labels={"datatype": "notes"})
    assert list(by_path.files) == ["notes.md"]
    assert by_path.files["notes.md"].read_text() == "# notes\n"


def test_a_folder_is_uploaded_recursively_with_empty_subfolders(repo_config, docs, tmp_path):
    art = p.Files().upload(str(docs), labels={"datatype": "tree"})
    assert sorted(art.files) == ["sub/deeper/x.bin", "sub/notes.md", "train.txt"]
    assert art.files.folders == ["empty/nested_empty"]
    assert art.artifact.custom_fields["empty_folders"] == ["empty/nested_empty"]
    again = p.Files().get(art.artifact.id)  # read back from the repository
    assert sorted(again.files) == sorted(art.files) and again.files.folders == ["empty/nested_empty"]
    assert again.artifact.custom_fields["file_relpaths"] == ["sub/deeper/x.bin", "sub/notes.md", "train.txt"]
    out = tmp_path / "out"
    again.files.download(out)
    assert (out / "sub" / "deeper" / "x.bin").read_bytes() == b"\x00\x01"
    assert (out / "empty" / "nested_empty").is_dir()
    found = p.Files().find({"file_relpaths": {"$regex": r"deeper/x\.bin$"}})
    assert list(found.index) == [art.artifact.id]


def test_folders_and_files_mixed_keep_paths_from_their_common_folder(repo_config, docs):
    art = p.Files().upload([docs / "sub", docs / "train.txt"])
    assert sorted(art.files) == ["sub/deeper/x.bin", "sub/notes.md", "train.txt"]


@pytest.mark.parametrize(
    ("make_bad_call", "message"),
    [
        (lambda d: p.Files().upload([d / "train.txt", d / "nope.txt"]), "no file or folder at"),
        (lambda d: p.Files().upload(d / "train.txt", labels={"colour": "red"}), r"unknown label\(s\) \['colour'\]"),
        (
            lambda d: p.Files().upload(d, labels={"infos": {"metrics": {"loss": float("nan")}}}),
            r"labels\.infos\.metrics\.loss is nan",
        ),
        (lambda d: p.Files().upload(d, labels={"infos": {"t": np.datetime64("2024-01-01")}}), r"labels\.infos\.t "),
        (lambda d: p.Files().upload(d, labels={"infos": {"s": {1, 2}}}), r"labels\.infos\.s is a builtins\.set"),
        (lambda d: p.Files().upload(d, labels={"ticket": "a\x00b"}), r"labels\.ticket holds a NUL"),
        (lambda d: p.Files().upload(d, labels={"project": 7}), r"labels\.project must be a string"),
        (lambda d: p.Files().upload(d, based_on=[object()]), "based_on"),
    ],
)
def test_every_check_runs_before_any_byte_is_written(repo_config, docs, tmp_path, make_bad_call, message):
    before = _state(tmp_path)
    with pytest.raises((ValueError, TypeError, FileNotFoundError, p.ProvkitError), match=message):
        make_bad_call(docs)
    assert _state(tmp_path) == before, "no blob, row or temporary file is left behind"


def test_label_infos_are_stored_as_documented_json(repo_config, docs):
    naive = datetime(2024, 5, 6, 7, 8, 9)
    infos = {
        "when": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        "naive": naive,
        "day": date(2024, 1, 2),
        "f32": np.float32(0.5),
        "i64": np.int64(7),
        "flag": np.bool_(True),
        "path": Path("/data/x.csv"),
        "pair": (1, (2, "three")),
        "array": np.arange(3),
        "nested": {"values": [np.float64(1.25), None, "ok"]},
    }
    expected = {
        "when": "2024-01-02T03:04:05+02:00",
        "naive": naive.astimezone().isoformat(),
        "day": "2024-01-02",
        "f32": 0.5,
        "i64": 7,
        "flag": True,
        "path": "/data/x.csv",
        "pair": [1, [2, "three"]],
        "array": [0, 1, 2],
        "nested": {"values": [1.25, None, "ok"]},
    }
    art = p.Files().upload(docs / "train.txt", labels={"datatype": "d", "infos": infos})
    assert art.artifact.custom_fields["labels"]["infos"] == expected
    fresh = p.from_config(repo_config).repos["r"] if repo_config["artifact_repos"]["r"]["type"] != "memory" else None
    stored = (fresh or p.get_default_repo()).get_artifact(art.artifact.id).custom_fields["labels"]["infos"]
    assert stored == expected
    assert type(stored["i64"]) is int and type(stored["flag"]) is bool and "+" in stored["naive"][19:]
    assert list(p.Files().find({"labels.infos.i64": 7}).index) == [art.artifact.id]


@pytest.mark.parametrize("bad", [math.inf, -math.inf, np.float64("nan")])
def test_values_json_cannot_hold_are_refused_naming_the_key(repo_config, docs, bad):
    with pytest.raises(ValueError, match=r"labels\.infos\.scores\[1\] is .*JSON cannot hold NaN or infinity"):
        p.Files().upload(docs / "train.txt", labels={"infos": {"scores": [1.0, bad]}})


def _latin1_name(folder: Path) -> bytes:
    path = os.fsencode(folder) + b"/caf\xe9.txt"
    with open(path, "wb") as fh:
        fh.write(b"latin-1 name\n")
    return path


def test_file_names_that_are_not_utf8_are_refused_up_front(repo_config, docs, tmp_path):
    good = p.Files().upload(docs / "train.txt")
    bad_dir = tmp_path / "latin1"
    bad_dir.mkdir()
    bad = _latin1_name(bad_dir)
    before = _state(tmp_path)
    with pytest.raises(p.InvalidKeyError, match=r"file name b'.*caf\\xe9\.txt' is not valid UTF-8"):
        p.Files().upload(bad)
    with pytest.raises(p.InvalidKeyError, match="not valid UTF-8"):
        p.Files().upload(bad_dir)
    with pytest.raises(p.InvalidKeyError, match="not valid UTF-8"):
        p.Files().upload([os.fsdecode(bad)])
    assert _state(tmp_path) == before
    # the repository stays queryable by file name
    assert list(p.Files().find({"file_relpaths": {"$regex": r"\.txt$"}}).index) == [good.artifact.id]


def test_registry_refuses_an_empty_owner_type_or_owner(repo_config, tmp_path):
    src = tmp_path / "d.csv"
    src.write_text("a\n")
    reg = p.Registry(owner_type="group", owner="team")
    with pytest.raises(p.RegistryError, match="owner_type must be one of"):
        reg.register_dataset("x/d.csv", "0.1.0", old_location=src, owner_type="")
    with pytest.raises(p.RegistryError, match="owner must be a plain name"):
        reg.register_dataset("x/d.csv", "0.1.0", old_location=src, owner="")
    with pytest.raises(p.RegistryError, match="owner must be a plain name"):
        p.Registry(owner="")
    assert reg.find_datasets(all_statuses=True) == []
    ds = reg.register_dataset("x/d.csv", "0.1.0", old_location=src)
    assert (ds.owner_type, ds.owner) == ("group", "team")
