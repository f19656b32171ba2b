"""verify: missing, corrupt and orphan blobs, rows whose inputs are gone, repair from a
chained store's other member, marks for what cannot be repaired, and the CLI's exit code."""

from __future__ import annotations

import json
import os

import numpy as np

import provkit as p
from lifecycle_helpers import kind_repo_fixture  # noqa: F401 - the kind_repo fixture
from provkit.services.lifecycle import blobs
from provkit.services.lifecycle.gc import inventory_for
from provkit.services.lifecycle.marks import marks_for
from provkit.storage.config import embedded_config


def _made():
    @p.provenance(name="v.make")
    def make(i):
        return np.full(5000, float(i))

    @p.provenance(name="v.use")
    def use(x):
        return x + 0.25

    return make, use


def _damage(store, key, data=b"garbage"):
    """Overwrite a stored blob in place, as a failing disk or a careless person would."""
    for leaf in blobs.members(store):
        if hasattr(leaf, "path"):
            path = leaf.path(key)
            os.chmod(path, 0o644)
            with open(path, "wb") as fh:
                fh.write(data)
        else:
            leaf._blobs[key] = data


def test_a_healthy_repository_verifies(kind_repo):
    make, use = _made()
    use(make(1))
    report = p.verify()
    assert report.ok and report.problems == [] and report.rows == 2
    assert report.blobs == 2 and report.bytes >= 80000 and report.bytes_per_second > 0


def test_each_kind_of_damage_is_found(kind_repo):
    make, use = _made()
    a, b, c = make(1), make(2), use(make(3))
    store = kind_repo.store
    _damage(store, a.artifact.value_id)
    store.delete(b.artifact.value_id)
    store.put_bytes("x1" + "e" * 32, b"nobody's")
    parent = c.artifact.input_artifact_ids[0]
    inventory_for(kind_repo).delete_rows(
        [parent], __import__("datetime").datetime.now(__import__("datetime").timezone.utc)
    )
    report = p.verify()
    assert not report.ok
    kinds = {(x.kind, x.key) for x in report.problems}
    assert ("corrupt", a.artifact.value_id) in kinds
    assert ("missing", b.artifact.value_id) in kinds
    assert ("orphan", "x1" + "e" * 32) in kinds
    assert ("missing_input", parent) in kinds
    assert report.count("orphan") == 2  # the deleted parent's blob is an orphan now too
    p.verify(repair=True)  # nothing to copy from: the damaged rows are marked
    damaged = marks_for(kind_repo).of_kind("damaged")
    assert set(damaged) == {a.artifact.id, b.artifact.id}


def test_repair_copies_a_good_copy_from_the_other_member_of_a_chain(tmp_path):
    p.load_config({
        "blobstores": {
            "near": {"type": "disk", "cachedir": str(tmp_path / "near"), "delete": True},
            "far": {"type": "disk", "cachedir": str(tmp_path / "far"), "delete": True},
            "both": {"type": "chained", "stores": ["near", "far"]},
        },
        "artifact_repos": {"r": {"type": "sqlite", "db": f"sqlite:///{tmp_path}/db.sqlite", "store": "both"}},
    })  # fmt: skip
    make, _ = _made()
    x = make(7)
    repo = p.get_default_repo()
    near = repo.store.stores[0]
    _damage(near, x.artifact.value_id)
    report = p.verify()
    assert [(q.kind, q.repaired) for q in report.problems] == [("corrupt", False)]
    assert report.blobs == 2
    fixed = p.verify(repair=True)
    assert fixed.ok and [(q.kind, q.repaired) for q in fixed.problems] == [("corrupt", True)]
    assert p.verify().problems == []
    with open(near.path(x.artifact.value_id), "rb") as fh:
        assert fh.read() != b"garbage"


def test_file_artifacts_are_checked_by_content_key(kind_repo, tmp_path):
    src = tmp_path / "data.txt"
    src.write_text("hello")
    art = p.Files().upload([str(src)])
    key = art.artifact.custom_fields["file_hashes"]["data.txt"]
    assert p.verify().ok
    _damage(kind_repo.store, key, b"HELLO")
    report = p.verify()
    assert [(q.kind, q.key) for q in report.problems] == [("corrupt", key)]


def test_verify_on_the_command_line_exits_non_zero_on_damage(cli, tmp_path):
    p.load_config(embedded_config(str(tmp_path / "home")))
    make, _ = _made()
    x = make(1)
    ok = cli("verify")
    assert "ok" in ok.stdout and "/s" in ok.stdout
    _damage(p.get_default_repo().store, x.artifact.value_id)
    bad = cli("verify", ok=False)
    assert bad.returncode == 1 and "corrupt:" in bad.stdout
    data = json.loads(cli("verify", "--json", ok=False).stdout)
    assert data["ok"] is False and data["problems"][0]["kind"] == "corrupt"
