"""gc and verify on the remote blob stores (real servers): S3 (SeaweedFS), SFTP (sshd), GCS."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

import provkit as p


def _store(kind: str, request, tmp_path) -> dict:
    if kind == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        return {"type": "s3", "basepath": f"{bucket['bucket']}/a", "endpoint_url": bucket["endpoint_url"],
                "s3_config": bucket["s3_config"], "delete": True}  # fmt: skip
    if kind == "sftp":
        sshd = request.getfixturevalue("sshd_server")
        return {"type": "sftp", "basepath": str(tmp_path / "remote"), "ssh_config": dict(sshd.info), "delete": True}
    gcs = request.getfixturevalue("gcs_server")
    return {
        "type": "gs", "bucket": "bucket-" + uuid.uuid4().hex[:10], "basepath": "a", "project": "provkit-test",
        "gcs_config": {"endpoint_url": gcs.info["endpoint_url"], "token": "anon"}, "create_bucket": True,
        "delete": True,
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["s3", "sftp", "gcs"])
def test_gc_and_verify_on_a_remote_store(kind, request, tmp_path):
    p.load_config({
        "blobstores": {"s": _store(kind, request, tmp_path)},
        "artifact_repos": {"r": {"type": "sqlite", "db": f"sqlite:///{tmp_path}/db.sqlite", "store": "s",
                                 "delete": True}},
        "default_repo": "r",
    })  # fmt: skip

    @p.provenance(name="remote.make")
    def make(i):
        return np.full(5000, float(i))

    keep, drop = make(1), make(2)
    repo = p.get_default_repo()
    repo.store.put_bytes("x1" + "f" * 32, b"orphan")
    p.pin(keep, "kept")
    assert p.du()["total"]["bytes"] >= 80000
    report = p.gc(grace=0)
    assert (report.rows, report.blobs, report.orphan_blobs) == (1, 1, 1)
    assert report.blob_bytes >= 40000 and report.orphan_bytes == len(b"orphan")
    assert set(repo.store.keys()) == {keep.artifact.value_id}
    assert drop.artifact.value_id not in repo.store
    assert p.verify().ok
    repo.store.put_bytes(keep.artifact.value_id, b"damaged", overwrite=True)
    bad = p.verify()
    assert [(x.kind, x.key) for x in bad.problems] == [("corrupt", keep.artifact.value_id)]
