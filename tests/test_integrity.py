"""Damaged stored bytes are caught before deserializing and recomputed (issue 11).

Every test damages real bytes where they live (a blob file on disk, an object on
S3 / SFTP / GCS, a ``value_bytes`` / ``inputs_bytes`` row in SQLite or Postgres, a
memory store's dict), then checks: reading is a ``BlobCorruptError`` and a decorated
call recomputes once, rewrites, and is a plain hit afterwards.
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import provkit as p
from provkit.storage.repos.sql import schema

DAMAGES = ["truncate", "empty", "garbage", "bitflip"]


def damage(data: bytes, how: str) -> bytes:
    if how == "truncate":
        return data[: len(data) // 2]
    if how == "empty":
        return b""
    if how == "garbage":
        return os.urandom(max(len(data), 16))
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x10
    return bytes(flipped)


# ---- where bytes live: read and overwrite them behind provkit's back ----------------


def _blob_get(store, key: str) -> bytes:
    from provkit.storage.blobstores.disk import DiskStore
    from provkit.storage.blobstores.memory import MemoryStore

    if isinstance(store, DiskStore):
        with open(store.path(key), "rb") as fh:
            return fh.read()
    if isinstance(store, MemoryStore):
        return store._blobs[key]
    return store.fs.cat_file(store._path(key))


def _blob_put(store, key: str, data: bytes) -> None:
    """Overwrite the stored object in place (the file, the remote object, the dict)."""
    from provkit.storage.blobstores.disk import DiskStore
    from provkit.storage.blobstores.memory import MemoryStore

    if isinstance(store, DiskStore):
        with open(store.path(key), "r+b") as fh:
            fh.truncate(0)
            fh.write(data)
    elif isinstance(store, MemoryStore):
        store._blobs[key] = data
    else:
        store.fs.pipe_file(store._path(key), data)
        if store.cache is not None:
            store.evict(key)


def _row_get(repo, artifact_id: str, column: str) -> bytes:
    from provkit.storage.repos.memory import MemoryRepo

    if isinstance(repo, MemoryRepo):
        return repo._records[artifact_id][1]["_" + column]
    with repo.engine.connect() as conn:
        return bytes(
            conn.execute(sa.select(schema.artifacts.c[column]).where(schema.artifacts.c.id == artifact_id)).scalar()
        )


def _row_put(repo, artifact_id: str, column: str, data: bytes) -> None:
    from provkit.storage.repos.memory import MemoryRepo

    if isinstance(repo, MemoryRepo):
        repo._records[artifact_id][1]["_" + column] = data
        return
    with repo.engine.begin() as conn:
        conn.execute(sa.update(schema.artifacts).where(schema.artifacts.c.id == artifact_id).values({column: data}))


def _damage_value(repo, artifact, how: str) -> None:
    artifact = repo.get_artifact(artifact.id)
    if artifact._value_bytes is not None:
        _row_put(repo, artifact.id, "value_bytes", damage(_row_get(repo, artifact.id, "value_bytes"), how))
    else:
        _blob_put(repo.store, artifact.value_id, damage(_blob_get(repo.store, artifact.value_id), how))


# ---- the values of every serializer ----------------------------------------------------


def _register_user_serializer() -> str:
    name = "user_lines"

    def dump(value, path, **kw):
        text = "\n".join(value).encode()
        if not isinstance(path, (str, os.PathLike)):
            path.write(text)
            return
        with open(path, "wb") as fh:
            fh.write(text)

    def load(path, **kw):
        if not isinstance(path, (str, os.PathLike)):
            return path.read().decode().split("\n")
        with open(path) as fh:
            return fh.read().split("\n")

    p.register_serializer(name, dump, load)
    return name


def _value_for(serializer: str, big: bool):
    n = 20_000 if big else 5
    if serializer in ("joblib", "npy"):
        return np.arange(n, dtype="float64")
    if serializer == "pd_df_parquet":
        return pd.DataFrame({"a": np.arange(n), "b": np.arange(n) * 0.5})
    if serializer == "pd_series_parquet":
        return pd.Series(np.arange(n, dtype="int64"), name="s")
    if serializer == "json":
        return {"rows": list(range(n))}
    if serializer == "cloudpickle":
        return {"f": lambda x: x + 1, "data": list(range(n))}
    return [f"line {i}" for i in range(n)]  # user serializer


SERIALIZERS = ["joblib", "npy", "pd_df_parquet", "pd_series_parquet", "json", "cloudpickle", "user"]


def _same(a, b) -> bool:
    if isinstance(a, dict) and "f" in a:
        return a["data"] == b["data"] and a["f"](1) == b["f"](1)
    if isinstance(a, (pd.DataFrame, pd.Series)):
        return a.equals(b)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def _decorated(serializer: str, big: bool, calls: list):
    name = _register_user_serializer() if serializer == "user" else serializer

    @p.provenance(serializer=name)
    def make(tag):
        calls.append(tag)
        return _value_for(serializer, big)

    return make


def _damage_and_recompute(repo, make, calls: list, how: str, expected) -> None:
    first = make("x")
    assert calls == ["x"]
    _damage_value(repo, first.artifact, how)
    with pytest.raises(p.BlobCorruptError, match=first.artifact.id):
        _ = repo.get_artifact(first.artifact.id).value
    again = make("x")
    assert calls == ["x", "x"], "the damaged value was recomputed"
    assert _same(again.__wrapped__, expected)
    third = make("x")
    assert calls == ["x", "x"], "and rewritten: the next call is a hit"
    assert _same(third.__wrapped__, expected)
    assert _same(repo.get_artifact(first.artifact.id).value, expected)


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_damaged_blob_of_every_serializer_is_recomputed(sqlite_config, serializer, how):
    p.load_config(sqlite_config)
    repo = p.get_default_repo()
    calls: list = []
    make = _decorated(serializer, True, calls)
    assert repo.lookup(make("probe").artifact.id)._value_bytes is None, "a blob, not inline"
    calls.clear()
    _damage_and_recompute(repo, make, calls, how, _value_for(serializer, True))


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_damaged_inline_value_of_every_serializer_is_recomputed(any_repo, serializer, how):
    calls: list = []
    make = _decorated(serializer, False, calls)
    assert any_repo.lookup(make("probe").artifact.id)._value_bytes is not None, "inline in the row"
    calls.clear()
    _damage_and_recompute(any_repo, make, calls, how, _value_for(serializer, False))


@pytest.mark.parametrize("how", DAMAGES)
def test_damaged_archived_file_is_recomputed(sqlite_config, tmp_path, how):
    p.load_config(sqlite_config)
    repo = p.get_default_repo()
    calls: list = []

    @p.provenance(archive_file=True)
    def report(tag):
        calls.append(tag)
        out = tmp_path / f"report-{len(calls)}.txt"
        out.write_text("a report\n" * 1000)
        return str(out)

    first = report("x")
    _damage_value(repo, first.artifact, how)
    with pytest.raises(p.BlobCorruptError):
        _ = repo.get_artifact(first.artifact.id).value
    again = report("x")
    assert len(calls) == 2 and again.read_text() == "a report\n" * 1000
    report("x")
    assert len(calls) == 2


@pytest.mark.parametrize("how", ["truncate", "bitflip"])
def test_damaged_stored_inputs_are_a_clear_error(any_repo, how):
    @p.provenance()
    def keep(data, small):
        return 1

    big_input = list(range(5000))  # its pickle is over inline_max_bytes: a blob under the artifact id
    small = keep([1, 2, 3], small=True)
    large = keep(big_input, small=False)
    _row_put(
        any_repo, small.artifact.id, "inputs_bytes", damage(_row_get(any_repo, small.artifact.id, "inputs_bytes"), how)
    )
    with pytest.raises(p.BlobCorruptError, match="stored inputs"):
        _ = any_repo.get_artifact(small.artifact.id).inputs
    store = any_repo.store
    _blob_put(store, large.artifact.id, damage(_blob_get(store, large.artifact.id), how))
    with pytest.raises(p.BlobCorruptError, match="stored inputs"):
        _ = any_repo.get_artifact(large.artifact.id).inputs


def test_damaged_large_input_blob_is_a_clear_error(sqlite_config):
    p.load_config(sqlite_config)
    repo = p.get_default_repo()

    @p.provenance()
    def total(x):
        return float(x.sum())

    arr = np.arange(300_000, dtype="float64")  # > 1 MiB: stored once as its own blob
    t = total(arr)
    key = p.hash(arr)
    assert repo.store.exists(key)
    _blob_put(repo.store, key, damage(_blob_get(repo.store, key), "bitflip"))
    with pytest.raises(p.BlobCorruptError, match=key):
        _ = repo.get_artifact(t.artifact.id).inputs


def test_rows_written_before_digests_still_load_and_damage_is_still_caught(sqlite_config):
    """An old row (NULL digest columns) loads as before; a truncated old blob is a
    BlobCorruptError (not EOFError forever) and is recomputed."""
    p.load_config(sqlite_config)
    repo = p.get_default_repo()
    calls: list = []
    make = _decorated("joblib", True, calls)
    first = make("x")
    with repo.engine.begin() as conn:
        conn.execute(sa.update(schema.artifacts).values(value_digest=None, inputs_digest=None))
    assert np.array_equal(repo.get_artifact(first.artifact.id).value, first)
    _damage_value(repo, first.artifact, "truncate")
    with pytest.raises(p.BlobCorruptError):
        _ = repo.get_artifact(first.artifact.id).value
    make("x")
    assert calls == ["x", "x"]


# ---- the same on every repository and store kind -------------------------------------


def _config(kind: str, tmp_path, request) -> dict:
    disk = {"type": "disk", "cachedir": str(tmp_path / "blobs"), "delete": True}
    sqlite = {"type": "sqlite", "db": f"sqlite:///{tmp_path / 'db.sqlite'}", "store": "s", "delete": True}
    if kind == "memory":
        return {
            "blobstores": {"s": {"type": "memory", "delete": True}},
            "artifact_repos": {"r": {"type": "memory", "store": "s", "delete": True}},
            "default_repo": "r",
        }
    if kind == "postgres+disk":
        url = request.getfixturevalue("postgres_url")
        return {
            "blobstores": {"s": disk},
            "artifact_repos": {"r": {"type": "postgres", "db": url, "store": "s", "delete": True}},
            "default_repo": "r",
        }
    if kind.startswith("sqlite+s3"):
        bucket = request.getfixturevalue("s3_bucket")
        store = {
            "type": "s3", "basepath": f"{bucket['bucket']}/a", "endpoint_url": bucket["endpoint_url"],
            "s3_config": bucket["s3_config"], "delete": True,
        }  # fmt: skip
        if kind.endswith("cache"):
            store["cachedir"] = str(tmp_path / "s3-cache")
    elif kind == "sqlite+sftp":
        sshd = request.getfixturevalue("sshd_server")
        store = {"type": "sftp", "basepath": str(tmp_path / "remote"), "ssh_config": dict(sshd.info), "delete": True}
    elif kind == "sqlite+gcs":
        gcs = request.getfixturevalue("gcs_server")
        store = {
            "type": "gs", "bucket": "bucket-" + uuid.uuid4().hex[:10], "basepath": "a", "project": "provkit-test",
            "gcs_config": {"endpoint_url": gcs.info["endpoint_url"], "token": "anon"}, "create_bucket": True,
            "delete": True,
        }  # fmt: skip
    else:
        store = disk
    return {"blobstores": {"s": store}, "artifact_repos": {"r": sqlite}, "default_repo": "r"}


KINDS = ["memory", "sqlite+disk", "postgres+disk", "sqlite+s3", "sqlite+s3+cache", "sqlite+sftp", "sqlite+gcs"]


@pytest.mark.parametrize("kind", KINDS)
def test_damage_is_caught_and_recomputed_on_every_backend(kind, tmp_path, request):
    p.load_config(_config(kind, tmp_path, request))
    repo = p.get_default_repo()
    for serializer, big, how in [("joblib", True, "truncate"), ("npy", True, "bitflip"), ("joblib", False, "garbage")]:
        calls: list = []
        make = _decorated(serializer, big, calls)
        _damage_and_recompute(repo, make, calls, how, _value_for(serializer, big))
        p.get_default_repo().delete(make("x").artifact.id)  # fresh start for the next case
