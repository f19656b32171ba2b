"""Pins and garbage collection by reachability, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

import provkit as p
from lifecycle_helpers import kind_repo_fixture  # noqa: F401 - the kind_repo fixture
from provkit.services.lifecycle import blobs


def _pipeline():
    @p.provenance(name="t.load")
    def load(i):
        return np.full(4000, i, dtype="float64")  # 32 kB: a blob, not inline

    @p.provenance(name="t.clean")
    def clean(x):
        return x * 2 + 0.5

    @p.provenance(name="t.model")
    def model(x):
        return float(x.sum())

    return load, clean, model


def _loads_everything(repo):
    for rid in repo.artifact_ids():
        repo.load_value(repo.get_artifact(rid))


def test_gc_keeps_a_pinned_result_and_its_lineage_and_deletes_the_rest(kind_repo):
    load, clean, model = _pipeline()
    kept = model(clean(load(1)))
    gone = model(clean(load(2)))
    p.pin(kept, "figure 3 of the paper")
    assert p.pins()[kept.artifact.id].reason == "figure 3 of the paper"
    store_before = set(kind_repo.store.keys())
    dry = p.gc(dry_run=True, grace=0)
    assert dry.rows == 3 and dry.by_name == {
        "t.clean": [1, dry.by_name["t.clean"][1]], "t.load": [1, dry.by_name["t.load"][1]],
        "t.model": [1, dry.by_name["t.model"][1]],
    }  # fmt: skip
    assert dry.by_name["t.load"][1] >= 32000 and dry.blobs == 2
    assert len(list(kind_repo.artifact_ids())) == 6 and set(kind_repo.store.keys()) == store_before
    report = p.gc(grace=0)
    assert report.rows == 3 and report.blobs == 2 and report.blob_bytes >= 64000
    remaining = set(kind_repo.artifact_ids())
    assert remaining == {kept.artifact.id, *kind_repo.ancestors(kept.artifact.id)}
    assert gone.artifact.id not in remaining
    _loads_everything(kind_repo)
    assert len(set(kind_repo.store.keys())) == 2
    assert p.unpin(kept) is True and p.unpin(kept) is False
    assert p.gc(grace=0).rows == 3


def test_shared_blobs_stay_while_one_reference_remains(kind_repo):
    @p.provenance(name="t.a")
    def a(i):
        return np.zeros(5000)

    @p.provenance(name="t.b")
    def b(i):
        return np.zeros(5000)

    keep, drop = a(1), b(1)
    assert keep.artifact.value_id == drop.artifact.value_id
    p.pin(keep, "shared")
    report = p.gc(grace=0)
    assert report.rows == 1 and report.blobs == 0
    assert np.array_equal(p.load_artifact(keep.artifact.id).value, np.zeros(5000))


def test_sets_are_roots_and_set_labels_choose_which(kind_repo):
    load, clean, _ = _pipeline()
    with p.capture_set("release") as release:
        clean(load(1))
    with p.capture_set("scratch") as scratch:
        clean(load(2))
    assert p.gc(dry_run=True, grace=0).rows == 0  # every set is a root
    report = p.gc(grace=0, set_labels=[{"name": "release"}])
    assert report.rows == 2 and report.sets == 1
    assert set(kind_repo.artifact_ids()) == set(release.artifact_set.artifact_ids)
    with pytest.raises(p.SetNotFoundError):
        kind_repo.get_set(scratch.artifact_set.id)
    _loads_everything(kind_repo)


def test_keep_last_per_name_and_keep_newer(kind_repo):
    load, _, _ = _pipeline()
    made = [load(i) for i in range(5)]
    report = p.gc(dry_run=True, grace=0, keep_last=2)
    assert report.rows == 3
    assert set(report.deleted_ids) == {m.artifact.id for m in made[:3]}
    assert p.gc(dry_run=True, grace=0, keep_newer="1h").rows == 0
    assert p.gc(dry_run=True, grace="1h").rows == 0  # too recent: a writer may still be busy
    with pytest.raises(p.ProvkitError, match="age"):
        p.gc(dry_run=True, keep_newer="soon")
    with pytest.raises(p.ProvkitError, match="keep_last"):
        p.gc(dry_run=True, keep_last=-1)


def test_orphan_blobs_and_stale_staging_files_go(kind_repo):
    store = kind_repo.store
    store.put_bytes("x1" + "ab" * 16, b"left by a crashed writer")
    staged = None
    for leaf in blobs.members(store):
        if hasattr(leaf, "_staging_dir"):
            staged = leaf._staging_path()
    report = p.gc(grace=0, staging_age=0)
    assert report.orphan_blobs == 1 and report.orphan_bytes == len(b"left by a crashed writer")
    assert "x1" + "ab" * 16 not in store
    if staged is not None:
        import os

        assert report.staging_files >= 1 and not os.path.exists(staged)


def test_pins_need_a_reason_and_an_existing_record(kind_repo):
    load, _, _ = _pipeline()
    x = load(1)
    with pytest.raises(p.ProvkitError, match="reason"):
        p.pin(x, "  ")
    with pytest.raises(p.ArtifactNotFoundError):
        p.pin("x1" + "0" * 32, "typo")


def test_gc_refuses_a_repository_that_may_not_delete(tmp_path):
    p.load_config({
        "blobstores": {"mem": {"type": "memory"}},
        "artifact_repos": {"m": {"type": "memory", "store": "mem"}},
    })  # fmt: skip
    with pytest.raises(p.PermissionDeniedError, match="delete"):
        p.gc()
    assert p.gc(dry_run=True).rows == 0


def test_valid_datasets_keep_their_inputs(kind_repo, tmp_path):
    load, clean, _ = _pipeline()
    used, unused = clean(load(1)), clean(load(2))
    reg = p.Registry()
    ex = reg.register_execution("stage", input_datasets=[used])
    src = tmp_path / "out.txt"
    src.write_text("x")
    reg.register_dataset("d/out.txt", "0.0.1", old_location=str(src), execution_id=ex)
    report = p.gc(grace=0)
    assert report.rows == 2 and set(report.deleted_ids) == {unused.artifact.id, *unused.artifact.input_artifact_ids}
    assert set(kind_repo.artifact_ids()) == {used.artifact.id, *used.artifact.input_artifact_ids}


def test_du_counts_bytes_by_name_user_and_age(kind_repo):
    load, clean, _ = _pipeline()
    clean(load(1))
    usage = p.du()
    assert usage["total"]["count"] == 2 and usage["total"]["bytes"] >= 64000
    assert set(usage["by_name"]) == {"t.load", "t.clean"}
    assert usage["by_name"]["t.load"]["bytes"] >= 32000
    assert sum(v["count"] for v in usage["by_user"].values()) == 2
    assert usage["by_age"]["<1d"]["count"] == 2
