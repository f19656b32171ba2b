"""Team setups end to end: Postgres + S3 with a local cache, the seed's disk + SFTP
chain, corrupt and missing blobs, against real servers."""

from __future__ import annotations

import os

import numpy as np
import pytest

import provkit as p


def _team_config(tmp_path, postgres_url, s3_bucket) -> dict:
    return {
        "blobstores": {
            "s3": {
                "type": "s3",
                "basepath": f"{s3_bucket['bucket']}/artifacts",
                "cachedir": str(tmp_path / "s3-cache"),
                "endpoint_url": s3_bucket["endpoint_url"],
                "s3_config": s3_bucket["s3_config"],
                "delete": True,
            }
        },
        "artifact_repos": {"team": {"type": "postgres", "db": postgres_url, "store": "s3", "delete": True}},
        "default_repo": "team",
    }


def test_postgres_plus_s3_with_local_cache(tmp_path, postgres_url, s3_bucket):
    p.load_config(_team_config(tmp_path, postgres_url, s3_bucket))

    @p.provenance()
    def features(n):
        return np.arange(n, dtype="float64") ** 2

    @p.provenance()
    def total(x):
        return float(x.sum())

    f = features(100_000)
    t = total(f)
    repo = p.get_default_repo()
    store = repo.store
    assert store.fs.exists(store._path(f.artifact.value_id)), "the value is in S3"
    store.evict(f.artifact.value_id)
    loaded = p.load_artifact(f.artifact.id).value
    assert (loaded == f).all() and store.cache.exists(f.artifact.value_id), "fetched once into the cache"
    assert t.artifact.input_artifact_ids == [f.artifact.id]


def _seed_config(tmp_path, sshd, postgres_url) -> dict:
    """The seed experiment's config: disk + sftp + a chained `experiment` store, repo on Postgres."""
    return {
        "blobstores": {
            "disk": {
                "type": "disk",
                "cachedir": str(tmp_path / "artifacts"),
                "read": True,
                "write": True,
                "delete": True,
            },
            "sftp": {
                "type": "sftp",
                "cachedir": str(tmp_path / "sftp-cache"),
                "basepath": str(tmp_path / "remote-machine" / "artifacts"),
                "read": True,
                "write": True,
                "delete": True,
                "ssh_config": {
                    "hostname": sshd.info["hostname"],
                    "port": sshd.info["port"],
                    "username": sshd.info["username"],
                    "key_filename": sshd.info["key_filename"],
                },
            },
            "experiment": {"type": "chained", "stores": ["disk", "sftp"], "read_through_write": True},
        },
        "artifact_repos": {
            "experiment": {
                "type": "postgres",
                "db": postgres_url,
                "store": "experiment",
                "read": True,
                "write": True,
                "delete": True,
                "create_db": True,
            },
        },
        "default_repo": "experiment",
    }


def test_seed_experiment_config_works_as_written(tmp_path, sshd_server, postgres_url):
    import yaml

    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(_seed_config(tmp_path, sshd_server, postgres_url)))
    p.load_yaml_config(str(path))

    @p.provenance()
    def matrix(n):
        return np.eye(n)

    m = matrix(300)  # ~700 KB: goes to the blob stores
    chain = p.get_default_repo().store
    disk, sftp = chain.stores
    key = m.artifact.value_id
    assert disk.exists(key) and sftp._remote_exists(key), "written to both stores"
    disk.delete(key)
    sftp.evict(key)
    assert (p.load_artifact(m.artifact.id).value == np.eye(300)).all()
    assert disk.exists(key), "read_through_write copied it back to disk"


def test_corrupt_copy_falls_through_and_is_repaired(tmp_path):
    config = {
        "blobstores": {
            "near": {"type": "disk", "cachedir": str(tmp_path / "near")},
            "far": {"type": "disk", "cachedir": str(tmp_path / "far")},
            "both": {"type": "chained", "stores": ["near", "far"]},
        },
        "artifact_repos": {"r": {"type": "sqlite", "db": f"sqlite:///{tmp_path}/r.db", "store": "both"}},
    }
    p.load_config(config)

    @p.provenance()
    def big(n):
        return np.arange(n, dtype="float64")

    b = big(100_000)
    near = p.get_default_repo().store.stores[0]
    path = near.path(b.artifact.value_id)
    with open(path, "r+b") as fh:  # flip bytes inside the array data
        fh.seek(-16, os.SEEK_END)
        fh.write(b"\xff" * 16)
    value = p.load_artifact(b.artifact.id).value
    assert (value == np.arange(100_000)).all(), "the good copy in `far` was used"
    assert (np.load(path) == np.arange(100_000)).all(), "the bad copy was repaired"


def test_corrupt_only_copy_is_reported_and_recomputed(tmp_path, sqlite_config):
    p.load_config(sqlite_config)
    calls = []

    @p.provenance()
    def big(n):
        calls.append(n)
        return np.arange(n, dtype="float64")

    b = big(100_000)
    store = p.get_default_repo().store
    with open(store.path(b.artifact.value_id), "r+b") as fh:
        fh.seek(-8, os.SEEK_END)
        fh.write(b"\x00" * 8)
    with pytest.raises(p.BlobCorruptError, match="no longer matches its value id"):
        _ = p.load_artifact(b.artifact.id).value
    again = big(100_000)
    assert len(calls) == 2 and (again == np.arange(100_000)).all()
    assert (p.load_artifact(b.artifact.id).value == np.arange(100_000)).all(), "stored again, intact"


def _pipeline():
    @p.provenance()
    def load(n):
        return np.arange(n, dtype="float64")

    @p.provenance()
    def scale(x, k):
        return x * k

    @p.provenance()
    def summary(x, y):
        return {"sum": float(x.sum() + y.sum())}

    raw = load(200_000)
    return raw, scale(raw, 2), summary(raw, scale(raw, 3))


def test_promote_copies_an_artifact_and_its_upstream(tmp_path, postgres_url, s3_bucket, sqlite_config):
    config = _team_config(tmp_path, postgres_url, s3_bucket)
    config["blobstores"].update(sqlite_config["blobstores"])
    config["artifact_repos"].update(sqlite_config["artifact_repos"])
    config["default_repo"] = "local"
    p.load_config(config)
    raw, scaled, result = _pipeline()
    team = p.get_repo_by_name("team")
    assert team.lookup(result.artifact.id) is None
    promoted = p.promote(result, "team")
    assert promoted.id == result.artifact.id and promoted.repo is team
    for proxy in (raw, result):
        assert team.lookup(proxy.artifact.id) is not None
    assert team.lookup(scaled.artifact.id) is None, "not upstream of the result: left behind"
    with p.using_repo("team"):
        again = p.load_artifact(result.artifact.id)
        assert again.value == {"sum": float(np.arange(200_000).sum() * 4)}
        assert again.run_info["id"] == result.artifact.run_id
        parent = again.inputs["kargs"]["x"]
        assert parent.artifact.id == raw.artifact.id and (parent == np.arange(200_000)).all()
    assert p.promote(result.artifact.id, team, from_repo="local").id == result.artifact.id, "idempotent"


def test_chained_repo_reads_through_and_writes_everywhere(tmp_path, sqlite_config):
    config = dict(sqlite_config)
    config["blobstores"]["shared_disk"] = {"type": "disk", "cachedir": str(tmp_path / "shared")}
    config["artifact_repos"]["shared"] = {
        "type": "sqlite",
        "db": f"sqlite:///{tmp_path}/shared.db",
        "store": "shared_disk",
    }
    config["artifact_repos"]["both"] = {"type": "chained", "repos": ["local", "shared"]}
    config["default_repo"] = "both"
    p.load_config(config)
    local, shared = p.get_repo_by_name("local"), p.get_repo_by_name("shared")

    with p.using_repo("shared"):
        raw, _, result = _pipeline()
    assert local.lookup(result.artifact.id) is None
    found = p.load_artifact(result.artifact.id)
    assert found.value == result.__wrapped__
    assert local.lookup(result.artifact.id) is not None and local.lookup(raw.artifact.id) is not None

    @p.provenance()
    def fresh(a):
        return a + 1

    r = fresh(1)
    assert local.lookup(r.artifact.id) is not None and shared.lookup(r.artifact.id) is not None
