"""Conformance suites every blob store and repository must pass.

Subclass ``BlobStoreConformance`` / ``RepositoryConformance`` and provide a ``store`` /
``repo`` fixture (see test_blobstores.py and test_repos.py). Later backends (S3, SFTP,
GCS, PostgreSQL) run the very same tests against their real servers.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone

import pytest

import provkit as p
from provkit.core.artifacts import Artifact
from provkit.core.errors import BlobExistsError, BlobMissingError, InvalidKeyError, PermissionDeniedError


class BlobStoreConformance:
    """Behaviour shared by all blob stores. Needs a ``store`` fixture (delete enabled)."""

    def test_put_and_get_bytes(self, store):
        assert store.put_bytes("x1abc", b"hello") is True
        assert store.exists("x1abc")
        assert "x1abc" in store
        assert store.get_bytes("x1abc") == b"hello"
        with store.open("x1abc") as fh:
            assert fh.read() == b"hello"

    def test_missing_key_is_a_clear_error(self, store):
        assert not store.exists("x1nothere")
        with pytest.raises(BlobMissingError, match="x1nothere"):
            store.get_bytes("x1nothere")

    def test_put_file_and_get_file(self, store, tmp_path):
        src = tmp_path / "src.bin"
        src.write_bytes(os.urandom(3 << 20))
        store.put_file("x1file", src)
        assert src.exists(), "put_file without move keeps the original"
        dest = tmp_path / "dest.bin"
        store.get_file("x1file", dest)
        assert dest.read_bytes() == src.read_bytes()

    def test_staged_write_commits_only_on_success(self, store):
        with store.staged("x1staged") as path, open(path, "wb") as fh:
            fh.write(b"done")
        assert store.get_bytes("x1staged") == b"done"
        with pytest.raises(RuntimeError), store.staged("x1failed") as path:
            with open(path, "wb") as fh:
                fh.write(b"half")
            raise RuntimeError("writer died")
        assert not store.exists("x1failed")

    def test_duplicate_policies(self, store):
        store.put_bytes("x1dup", b"one")
        store.on_duplicate_key = "skip"
        assert store.put_bytes("x1dup", b"two") is False
        assert store.get_bytes("x1dup") == b"one"
        store.on_duplicate_key = "overwrite"
        assert store.put_bytes("x1dup", b"three") is True
        assert store.get_bytes("x1dup") == b"three"
        store.on_duplicate_key = "raise"
        with pytest.raises(BlobExistsError):
            store.put_bytes("x1dup", b"four")
        assert store.get_bytes("x1dup") == b"three"

    def test_delete_and_keys(self, store):
        store.put_bytes("x1a", b"a")
        store.put_bytes("x1b", b"b")
        assert {"x1a", "x1b"} <= set(store.keys())
        store.delete("x1a")
        assert not store.exists("x1a")
        with pytest.raises(BlobMissingError):
            store.delete("x1a")

    @pytest.mark.parametrize("key", ["../escape", "a/b", "", "/abs", "..", "x1..", "with space"])
    def test_keys_that_escape_or_are_malformed_are_refused(self, store, key):
        with pytest.raises(InvalidKeyError):
            store.put_bytes(key, b"x")
        with pytest.raises(InvalidKeyError):
            store.get_bytes(key)

    def test_flags_are_enforced(self, store):
        store.put_bytes("x1flag", b"v")
        store.write = False
        with pytest.raises(PermissionDeniedError):
            store.put_bytes("x1other", b"v")
        store.write = True
        store.delete_enabled = False
        with pytest.raises(PermissionDeniedError):
            store.delete("x1flag")
        assert store.get_bytes("x1flag") == b"v"
        store.read = False
        with pytest.raises(PermissionDeniedError):
            store.get_bytes("x1flag")
        assert not store.exists("x1flag")

    def test_concurrent_writers_of_one_key(self, store):
        data = os.urandom(1 << 20)
        errors = []

        def write():
            try:
                store.put_bytes("x1race", data)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=write) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert store.get_bytes("x1race") == data


def _artifact(artifact_id: str, **fields) -> Artifact:
    base = dict(
        version=1,
        fn_module="tests",
        fn_name="f",
        inputs_json={"a": 1, "__varargs": []},
        custom_fields={"tags": ["t"]},
        computed_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        compute_duration=0.5,
    )
    value_id = fields.pop("value_id", "x1value" + artifact_id[-4:])
    base.update(fields)
    return Artifact(artifact_id, value_id, "tests.f", **base)


class RepositoryConformance:
    """Behaviour shared by all repositories. Needs a ``repo`` fixture (delete enabled)."""

    def test_save_and_lookup_roundtrip(self, repo):
        art = _artifact("x1art0001")
        repo.save(
            art, {"v": [1, 2, 3]}, inputs={"kargs": {"a": 1}, "varargs": ()}, run_info={"id": "x1run", "user": "u"}
        )
        got = repo.get_artifact("x1art0001")
        assert got.id == "x1art0001" and got.name == "tests.f" and got.version == 1
        assert got.inputs_json == {"a": 1, "__varargs": []}
        assert got.custom_fields == {"tags": ["t"]}
        assert got.tags == ["t"]
        assert got.computed_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        assert got.added_at is not None and got.added_at.tzinfo is not None
        assert got.run_id == "x1run" and got.run_info["user"] == "u"
        assert repo.load_value(got) == {"v": [1, 2, 3]}
        assert got.inputs == {"kargs": {"a": 1}, "varargs": ()}
        assert "x1art0001" in repo
        assert "x1art0001" in set(repo.artifact_ids())

    def test_missing_artifact(self, repo):
        assert repo.lookup("x1nope") is None
        with pytest.raises(p.ArtifactNotFoundError, match="x1nope"):
            repo.get_artifact("x1nope")

    def test_large_values_go_to_the_blob_store(self, repo):
        np = pytest.importorskip("numpy")
        value = np.arange(200_000, dtype="float64")
        art = _artifact("x1big0001", value_id=p.hash(value))
        repo.save(art, value)
        got = repo.get_artifact("x1big0001")
        assert got._value_bytes is None
        assert repo.store.exists(got.value_id)
        assert (repo.load_value(got) == value).all()

    def test_insert_is_idempotent_and_replace_updates(self, repo):
        repo.save(_artifact("x1dup0001"), 1)
        repo.save(_artifact("x1dup0001", custom_fields={"second": True}), 1)
        assert repo.get_artifact("x1dup0001").custom_fields == {"tags": ["t"]}
        repo.save(_artifact("x1dup0001", custom_fields={"second": True}), 1, replace=True)
        assert repo.get_artifact("x1dup0001").custom_fields == {"second": True}

    def test_lineage_ids_survive(self, repo):
        repo.save(_artifact("x1parent1"), 1)
        repo.save(_artifact("x1child01", input_artifact_ids=["x1parent1"]), 2)
        assert repo.get_artifact("x1child01").input_artifact_ids == ["x1parent1"]

    def test_delete_keeps_shared_values(self, repo):
        np = pytest.importorskip("numpy")
        value = np.ones(100_000)
        vid = p.hash(value)
        repo.save(_artifact("x1del0001", value_id=vid), value)
        repo.save(_artifact("x1del0002", value_id=vid), value)
        repo.delete("x1del0001")
        assert repo.lookup("x1del0001") is None
        assert (repo.load_value(repo.get_artifact("x1del0002")) == value).all()
        repo.delete("x1del0002")
        assert not repo.store.exists(vid)

    def test_write_flag(self, repo):
        repo.write = False
        with pytest.raises(PermissionDeniedError):
            repo.save(_artifact("x1nowrite"), 1)
        repo.write = True
        assert repo.lookup("x1nowrite") is None

    def test_missing_blob_is_reported(self, repo):
        np = pytest.importorskip("numpy")
        value = np.zeros(100_000)
        art = _artifact("x1gone001", value_id=p.hash(value))
        repo.save(art, value)
        repo.store.delete(art.value_id)
        with pytest.raises(BlobMissingError, match="x1gone001"):
            repo.load_value(repo.get_artifact("x1gone001"))

    def test_decorated_functions_work_on_it(self, repo):
        calls = []

        @p.provenance(repo=repo)
        def add(a, b):
            calls.append((a, b))
            return a + b

        assert add(1, 2) == 3 and add(1, 2) == 3
        assert calls == [(1, 2)]
        assert repo.get_artifact(add(1, 2).artifact.id).inputs_json["a"] == 1

    def test_sets_are_stored_and_found_newest_first(self, repo):
        from provkit.services.sets import ArtifactSet

        first = ArtifactSet.make(["x1a", "x1b"], "production")
        repo.save_set(first)
        repo.save_set(first)  # idempotent
        got = repo.get_set(first.id)
        assert got.artifact_ids == frozenset({"x1a", "x1b"}) and got.labels == {"name": "production"}
        assert got.created_at is not None and got.created_at.tzinfo is not None
        import time

        time.sleep(0.01)
        second = ArtifactSet.make(["x1c"], "production")
        repo.save_set(second)
        repo.save_set(ArtifactSet.make(["x1d"], {"name": "production", "env": "eu"}))
        assert repo.latest_set({"name": "production"}).id == second.id
        assert repo.latest_set({"name": "production", "env": "eu"}).artifact_ids == {"x1d"}
        repo.save_set(ArtifactSet.make(["x1e"], {"team": "ml"}))
        assert repo.latest_set({"team": "ml"}).artifact_ids == {"x1e"}
        with pytest.raises(p.SetNotFoundError):
            repo.latest_set({"name": "nope"})
        with pytest.raises(p.SetNotFoundError):
            repo.get_set("x1nope")

    def test_save_batch(self, repo):
        items = [
            (_artifact(f"x1batch{i:04d}", input_artifact_ids=["x1batch0000"] if i else []), {"i": i}) for i in range(50)
        ]
        assert repo.save_batch(items, run_info={"id": "x1runbatch", "user": "u"}) == 50
        assert repo.save_batch(items[:5]) == 0, "existing rows are left alone"
        got = repo.get_artifact("x1batch0007")
        assert repo.load_value(got) == {"i": 7} and got.run_id == "x1runbatch"
        assert {a.id for a in repo.find({"based_on": "x1batch0000"})} == {f"x1batch{i:04d}" for i in range(1, 50)}
