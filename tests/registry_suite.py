"""The registry rules, as one suite every repository/storage combination must pass.

Subclass ``RegistryConformance`` and provide a ``repo`` fixture (tests/test_registry.py
runs it on memory, SQLite + disk, Postgres + disk, Postgres + S3, SQLite + SFTP and
SQLite + GCS, each against the real server).
"""

from __future__ import annotations

import contextlib
import os

import pytest

import provkit as p
from provkit import lineage


def make_tree(root, files: dict[str, bytes]) -> str:
    for rel, data in files.items():
        path = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    return str(root)


def make_file(path, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    return str(path)


def _read(path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


@contextlib.contextmanager
def _production_user():
    """The current user listed as a production user while the block runs."""
    from provkit.core.runs import current_user

    before = os.environ.get("PROVKIT_PRODUCTION_USERS")
    os.environ["PROVKIT_PRODUCTION_USERS"] = current_user()
    try:
        yield
    finally:
        if before is None:
            del os.environ["PROVKIT_PRODUCTION_USERS"]
        else:
            os.environ["PROVKIT_PRODUCTION_USERS"] = before


def stored_files(reg: p.Registry) -> list[str]:
    area = reg.area
    try:
        found = area.fs.find(area.root)
    except FileNotFoundError:
        return []
    root = area.fs._strip_protocol(area.root).rstrip("/")
    return sorted(f[len(root) + 1 :] for f in found if f.startswith(root + "/"))


class RegistryConformance:
    @pytest.fixture
    def reg(self, repo):
        return p.Registry(repo, owner="alice")

    @pytest.fixture
    def src_dir(self, tmp_path):
        return make_tree(tmp_path / "src", {"a.txt": b"alpha", "sub/b.bin": os.urandom(3000), "sub/c.txt": b""})

    @pytest.fixture
    def src_file(self, tmp_path):
        return make_file(tmp_path / "one" / "table.db", b"x" * 5000)

    # ---- registration and copies --------------------------------------------------
    def test_directory_and_file_datasets_are_copied_and_described(self, reg, src_dir, src_file, tmp_path):
        ex = reg.register_execution("stage-1", description="first", configuration="a: 1")
        d1 = reg.register_dataset("pipe/d1", "0.0.1", old_location=src_dir, execution_id=ex.id,
                                  name="Dataset 1.1", keywords=["sim", "raw", "sim"], description="dir")  # fmt: skip
        d2 = reg.register_dataset("pipe/d2.db", "0.0.1", old_location=src_file, execution_id=ex, name="Dataset 1.2")
        assert (d1.status, d1.data_org, d1.nfiles, d1.total_size) == ("valid", "directory", 3, 5 + 3000)
        assert (d2.data_org, d2.nfiles, d2.total_size) == ("file", 1, 5000)
        assert d1.keywords == ["raw", "sim"] and d1.owner == "alice" and d1.owner_type == "user"
        assert d1.content_hash and d1.content_hash != d2.content_hash
        assert stored_files(reg) == ["user/alice/pipe/d1/a.txt", "user/alice/pipe/d1/sub/b.bin",
                                     "user/alice/pipe/d1/sub/c.txt", "user/alice/pipe/d2.db"]  # fmt: skip
        got = reg.fetch(d1, tmp_path / "back")
        for rel in ("a.txt", "sub/b.bin", "sub/c.txt"):
            with open(os.path.join(got, rel), "rb") as a, open(os.path.join(src_dir, rel), "rb") as b:
                assert a.read() == b.read()
        one = reg.fetch(d2.id, tmp_path / "back2")
        assert os.path.basename(one) == "d2.db" and _read(one) == b"x" * 5000
        again = reg.get_dataset(d1.id)
        assert again == d1, "what is read back equals what register returned"
        assert reg.get_execution(ex.id).configuration == "a: 1"

    def test_versions_and_bumps(self, reg, src_file):
        first = reg.register_dataset("v/a1", "patch", old_location=src_file, name="cat")
        assert first.version == "0.0.1", "a bump with no previous version starts from 0.0.0"
        assert reg.register_dataset("v/a2", "minor", old_location=src_file, name="cat").version == "0.1.0"
        assert reg.register_dataset("v/a3", "2.3.4", old_location=src_file, name="cat").version == "2.3.4"
        assert reg.register_dataset("v/a4", "patch", old_location=src_file, name="cat").version == "2.3.5"
        assert reg.register_dataset("v/a5", "major", old_location=src_file, name="cat").version == "3.0.0"
        assert reg.register_dataset("v/a6", "minor", old_location=src_file, name="cat").version == "3.1.0"
        other_owner = reg.register_dataset("v/b1", "patch", old_location=src_file, name="cat", owner="bob")
        assert other_owner.version == "0.0.1", "bumps count per name, owner and owner type"
        group = reg.register_dataset("v/c1", "major", old_location=src_file, name="cat", owner_type="group")
        assert group.version == "1.0.0"
        assert reg.latest("cat").version == "3.1.0"
        with pytest.raises(p.RegistryError, match="exists already"):
            reg.register_dataset("v/a7", "2.3.4", old_location=src_file, name="cat")
        for bad in ("1.2", "v1.2.3", "01.2.3", "1.2.3-rc1", "huge"):
            with pytest.raises(p.RegistryError, match="semver"):
                reg.register_dataset("v/bad", bad, old_location=src_file, name="cat")
        assert not [f for f in stored_files(reg) if "bad" in f], "refused versions copy nothing"

    def test_owner_types_and_relpaths_are_checked(self, reg, src_file):
        with pytest.raises(p.RegistryError, match="owner_type must be one of user, group, project, production"):
            reg.register_dataset("x/y", "0.0.1", old_location=src_file, owner_type="team")
        for bad in ("../escape", "/abs/path", "a/../../b", "a/.hidden", "", "."):
            with pytest.raises(p.InvalidKeyError):
                reg.register_dataset(bad, "0.0.1", old_location=src_file)
        with pytest.raises(p.RegistryError, match="owner must be a plain name"):
            reg.register_dataset("x/y", "0.0.1", old_location=src_file, owner="a/b")
        with pytest.raises(FileNotFoundError, match="neither a file nor a directory"):
            reg.register_dataset("x/y", "0.0.1", old_location=src_file + ".missing")
        for owner_type in ("user", "group", "project"):
            ds = reg.register_dataset("x/y", "0.0.1", old_location=src_file, owner_type=owner_type, owner="desc")
            assert reg.url(ds).endswith(f"{owner_type}/desc/x/y")
        with pytest.raises(p.RegistryError, match="owned by 'production'"):
            reg.register_dataset("x/y", "0.0.1", old_location=src_file, owner_type="production", owner="desc")
        with pytest.raises(p.PermissionDeniedError, match="PROVKIT_PRODUCTION_USERS"):
            reg.register_dataset("x/y", "0.0.1", old_location=src_file, owner_type="production", owner="production")
        with _production_user():
            with pytest.raises(p.RegistryError, match="never overwritable"):
                reg.register_dataset("x/y", "0.0.1", old_location=src_file, owner_type="production",
                                     owner="production", is_overwritable=True)  # fmt: skip
            ds = reg.register_dataset(
                "x/y", "0.0.1", old_location=src_file, owner_type="production", owner="production"
            )
        assert reg.url(ds).endswith("production/production/x/y")
        assert reg.find_datasets(name="y", owner="nobody") == []

    def test_live_relpaths_are_unique_and_may_not_nest(self, reg, src_dir, src_file):
        first = reg.register_dataset("p/d", "0.0.1", old_location=src_dir)
        with pytest.raises(p.RelpathTakenError, match=first.id) as info:
            reg.register_dataset("p/d", "0.0.2", old_location=src_file)
        assert info.value.holder == first.id
        with pytest.raises(p.RegistryError, match="overlaps"):
            reg.register_dataset("p/d/inner.txt", "0.0.1", old_location=src_file)
        with pytest.raises(p.RegistryError, match="overlaps"):
            reg.register_dataset("p", "0.0.1", old_location=src_dir)
        reg.register_dataset("p/d", "0.0.1", old_location=src_file, owner="bob")  # another owner's area
        reg.delete_dataset(first)
        again = reg.register_dataset("p/d", "0.0.2", old_location=src_file)
        assert again.status == "valid", "a deleted dataset frees its relpath"

    def test_data_already_in_place_is_indexed(self, reg, src_file):
        area = reg.area
        area.fs.makedirs(area.path("user/alice/placed"), exist_ok=True)
        with area.fs.open(area.path("user/alice/placed/x.txt"), "wb") as fh:
            fh.write(b"put there by hand")
        ds = reg.register_dataset("placed", "1.0.0")
        assert (ds.nfiles, ds.total_size, ds.data_org) == (1, 17, "directory")
        with pytest.raises(p.RegistryError, match="nothing at"):
            reg.register_dataset("not-there", "1.0.0")

    def test_mongo_style_queries_over_datasets(self, reg, src_dir, src_file):
        ex = reg.register_execution("sim")
        a = reg.register_dataset("q/a", "1.2.0", old_location=src_dir, name="cat", keywords=["sim", "raw"],
                                 execution_id=ex)  # fmt: skip
        with _production_user():
            b = reg.register_dataset("q/b", "minor", old_location=src_file, name="cat", keywords=["sim"],
                                     owner_type="production", owner="production")  # fmt: skip
        c = reg.register_dataset("q/c", "0.0.1", old_location=src_file, name="other", parents=[a])
        reg.delete_dataset(c)

        def ids(query=None, **options):
            return sorted(d.id for d in reg.find_datasets(query, **options))

        assert ids({"keywords": "sim"}) == sorted([a.id, b.id])
        assert ids({"keywords": {"$in": ["raw", "nope"]}}) == [a.id]
        assert ids({"total_size": {"$gt": 4000}, "name": "cat"}) == [b.id]
        assert ids({"$or": [{"owner_type": "production"}, {"execution_id": ex.id}]}) == sorted([a.id, b.id])
        assert ids({"version_major": 1, "version_minor": {"$gte": 2}}) == [a.id], "1.2.0 only; b is 0.1.0"
        assert ids({"relpath": {"$regex": "^q/[ab]$"}}) == sorted([a.id, b.id])
        assert ids({"parents": a.id}) == [], "deleted datasets stay out unless asked for"
        assert ids({"parents": a.id}, all_statuses=True) == [c.id]
        assert ids({"status": "deleted"}) == [c.id]
        assert ids({"name": "cat"}, owner="production", owner_type="production") == [b.id]
        assert len(reg.find_datasets({"name": "cat"}, limit=1)) == 1
        frame = reg.find({"keywords": "sim"})
        assert sorted(frame.index) == sorted([a.id, b.id]) and set(frame["version"]) == {"1.2.0", "0.1.0"}
        with pytest.raises(p.QueryError, match="unknown field"):
            reg.find_datasets({"colour": "red"})
        with pytest.raises(p.QueryError):
            reg.find_datasets({"total_size": {"$near": 3}})

    # ---- failures leave nothing behind -------------------------------------------
    def test_a_failed_copy_leaves_no_row_and_no_files(self, reg, src_dir):
        calls = []

        def interrupted(nbytes, total):
            calls.append(nbytes)
            if len(calls) == 2:
                raise KeyboardInterrupt  # Ctrl-C in the middle of the copy

        with pytest.raises(KeyboardInterrupt):
            reg.register_dataset("f/d", "0.0.1", old_location=src_dir, progress=interrupted)
        assert reg.find_datasets(all_statuses=True) == []
        assert stored_files(reg) == []
        assert reg.register_dataset("f/d", "0.0.1", old_location=src_dir).status == "valid", "nothing blocks a retry"

    def test_a_source_changing_during_the_copy_is_refused(self, reg, tmp_path):
        src = make_file(tmp_path / "growing.log", b"first part")

        appended = []

        def append(nbytes, total):
            if not appended:  # a writer still appending while the copy runs
                appended.append(nbytes)
                with open(src, "ab") as fh:
                    fh.write(b"more")

        with pytest.raises(p.DatasetCopyError, match="changed size"):
            reg.register_dataset("f/log", "0.0.1", old_location=src, progress=append)
        assert reg.find_datasets(all_statuses=True) == [] and stored_files(reg) == []

    def test_a_copy_that_does_not_verify_is_refused(self, reg, src_dir):
        area = reg.area
        target = area.path("user/alice/f/bad/a.txt")
        seen = []

        def corrupt_first_file(nbytes, total):
            seen.append(nbytes)
            if len(seen) == 2:  # a.txt is in the storage by now: damage it
                with area.fs.open(target, "wb") as fh:
                    fh.write(b"ALPHA")

        with pytest.raises(p.DatasetCopyError, match=r"did not verify: a\.txt"):
            reg.register_dataset("f/bad", "0.0.1", old_location=src_dir, progress=corrupt_first_file)
        assert reg.find_datasets(all_statuses=True) == [] and stored_files(reg) == []

    # ---- history: delete and replace ---------------------------------------------
    def test_delete_keeps_history_and_refuses_to_destroy_used_data(self, reg, src_dir, src_file, tmp_path):
        used = reg.register_dataset("h/used", "0.0.1", old_location=src_dir)
        unused = reg.register_dataset("h/unused.db", "0.0.1", old_location=src_file)
        ex = reg.register_execution("consumer", input_datasets=[used])
        with p.as_user("carol"), pytest.raises(p.PermissionDeniedError, match="only its owner 'alice'"):
            reg.delete_dataset(unused.id)  # neither its owner nor who registered it
        with p.as_user("alice"):
            gone = reg.delete_dataset(unused.id)
        assert (gone.status, gone.status_changed_by, gone.location) == ("deleted", "alice", None)
        assert gone.status_changed_at is not None
        assert "user/alice/h/unused.db" not in stored_files(reg)
        with pytest.raises(p.DatasetInUseError, match=ex.id) as info:
            reg.delete_dataset(used)
        assert info.value.dependents == [ex.id]
        assert reg.get_dataset(used.id).status == "valid", "a refused delete changes nothing"
        kept = reg.delete_dataset(used, force=True)
        assert kept.status == "deleted" and kept.location == f"_archive/{used.id}"
        archived = reg.fetch(kept, tmp_path / "archived")
        assert _read(os.path.join(archived, "a.txt")) == b"alpha", "the consumer's input is still there"
        assert sorted(f for f in stored_files(reg) if f.startswith("_archive")) == [
            f"_archive/{used.id}/a.txt", f"_archive/{used.id}/sub/b.bin", f"_archive/{used.id}/sub/c.txt"]  # fmt: skip
        assert not [f for f in stored_files(reg) if f.startswith("user/alice/h/used")]
        assert reg.find_datasets(name="used") == [], "deleted datasets are history, not live"
        assert [d.id for d in reg.find_datasets(name="used", all_statuses=True)] == [used.id]
        with pytest.raises(p.RegistryError, match="it is deleted"):
            reg.delete_dataset(used)

    def test_replace_keeps_the_old_record_and_the_files_others_use(self, reg, src_dir, tmp_path):
        v1 = reg.register_dataset("r/d", "1.0.0", old_location=src_dir, is_overwritable=True, name="cat")
        fixed = make_tree(tmp_path / "fixed", {"a.txt": b"ALPHA v2", "new.txt": b"n"})
        v1b = reg.replace_dataset(v1, fixed, description="fixed")
        assert (v1b.version, v1b.replace_iteration, v1b.status, v1b.nfiles) == ("1.0.0", 1, "valid", 2)
        old = reg.get_dataset(v1.id)
        assert (old.status, old.replaced_by, old.location) == ("replaced", v1b.id, None), "nothing used v1"
        assert stored_files(reg) == ["user/alice/r/d/a.txt", "user/alice/r/d/new.txt"]
        assert [d.id for d in reg.find_datasets(name="cat")] == [v1b.id]
        consumer = reg.register_execution("consumer", input_datasets=[v1b])
        again = make_tree(tmp_path / "again", {"a.txt": b"ALPHA v3"})
        v1c = reg.replace_dataset(v1b.id, again)
        previous = reg.get_dataset(v1b.id)
        assert previous.status == "replaced" and previous.location == f"_archive/{v1b.id}"
        back = reg.fetch(previous, tmp_path / "prev")
        assert _read(os.path.join(back, "a.txt")) == b"ALPHA v2", "what consumer used is kept"
        assert consumer.id in reg.dependents(v1b.id)
        assert v1c.replace_iteration == 2
        fixed_file = reg.register_dataset("r/nope", "1.0.0", old_location=src_dir)
        with pytest.raises(p.RegistryError, match="not overwritable"):
            reg.replace_dataset(fixed_file, again)

    # ---- lineage ------------------------------------------------------------------
    def test_registry_records_and_artifacts_form_one_graph(self, reg, repo, src_file, tmp_path):
        @p.provenance(repo=repo)
        def calibrate(x):
            return x * 2

        cal = calibrate(21)
        ex1 = reg.register_execution("stage-1", input_datasets=[cal])
        d1 = reg.register_dataset("g/d1.db", "0.0.1", old_location=src_file, execution_id=ex1)
        ex2 = reg.register_execution("stage-2", input_datasets=[d1])
        d2 = reg.register_dataset("g/d2.db", "0.0.1", old_location=src_file, execution_id=ex2)
        files = p.Files(repo=repo)
        uploaded = files.upload([make_file(tmp_path / "plot.png", b"png")], {"datatype": "plot"}, based_on=[d2])
        up = lineage.ancestors(uploaded, repo=repo)
        assert up == {d2.id: 1, ex2.id: 2, d1.id: 3, ex1.id: 4, cal.artifact.id: 5}
        assert lineage.ancestors(uploaded, depth=2, repo=repo) == {d2.id: 1, ex2.id: 2}
        down = lineage.descendants(cal, repo=repo)
        assert down == {ex1.id: 1, d1.id: 2, ex2.id: 3, d2.id: 4, uploaded.artifact.id: 5}
        assert lineage.get_record(repo, d1.id) == d1

        calls = []

        @p.provenance(repo=repo)
        def summarize(dataset, scale):
            calls.append(dataset.id)
            return dataset.total_size * scale

        total = summarize(d2, scale=2)
        assert total == 10_000 and total.artifact.input_artifact_ids == [d2.id], "a dataset argument is a parent"
        assert summarize(reg.get_dataset(d2.id), scale=2).artifact.id == total.artifact.id and len(calls) == 1
        assert total.artifact.inputs_json["dataset"]["id"] == d2.id
        assert lineage.ancestors(total, repo=repo)[ex2.id] == 2
        assert total.artifact.id in lineage.descendants(d2, repo=repo)
        with pytest.raises(p.RecordNotFoundError):
            lineage.get_record(repo, "ds_nope")
        with pytest.raises(p.RecordNotFoundError):
            reg.register_execution("bad", input_datasets=["ds_nope"])

    def test_one_replacement_at_a_time(self, reg, src_dir, tmp_path):
        ds = reg.register_dataset("one/d", "1.0.0", old_location=src_dir, is_overwritable=True)
        new = make_tree(tmp_path / "new", {"a.txt": b"new"})
        seen = []

        def meanwhile(nbytes, total):
            if not seen:  # a second replace (and a delete) while the first one copies
                seen.append(1)
                with pytest.raises(p.RegistryError, match="in progress"):
                    reg.replace_dataset(ds, new)
                with pytest.raises(p.RegistryError, match="in progress"):
                    reg.delete_dataset(ds)

        done = reg.replace_dataset(ds, new, progress=meanwhile)
        assert seen and done.status == "valid" and reg.get_dataset(ds.id).replaced_by == done.id
        assert [d.id for d in reg.find_datasets(relpath="one/d")] == [done.id]

        def fail(nbytes, total):
            raise OSError("disk full")

        with pytest.raises(OSError, match="disk full"):
            reg.replace_dataset(done, new, progress=fail)
        assert reg.get_dataset(done.id).replaced_by is None, "a failed replacement releases its claim"
        assert reg.replace_dataset(done, new).replace_iteration == 2

    def test_an_interrupted_replace_leaves_the_old_dataset_readable(self, reg, src_dir, tmp_path, monkeypatch):
        from provkit.services.registry.storage import DatasetArea

        ds = reg.register_dataset("ir/d", "1.0.0", old_location=src_dir, is_overwritable=True)
        new = make_tree(tmp_path / "new", {"a.txt": b"new"})
        original = DatasetArea.copy_within

        def interrupted(self, source, target, manifest):
            if source.startswith("_staging/"):  # old files archived, live place cleared: stop here
                raise KeyboardInterrupt
            return original(self, source, target, manifest)

        monkeypatch.setattr(DatasetArea, "copy_within", interrupted)
        with pytest.raises(KeyboardInterrupt):
            reg.replace_dataset(ds, new)
        monkeypatch.setattr(DatasetArea, "copy_within", original)
        old = reg.get_dataset(ds.id)
        assert old.status == "valid" and old.location == f"_archive/{ds.id}"
        assert _read(os.path.join(reg.fetch(old, tmp_path / "o"), "a.txt")) == b"alpha", "still whole"
        assert len(reg.cleanup(older_than=0)) == 1 and reg.get_dataset(ds.id).replaced_by is None
        done = reg.replace_dataset(ds, new)
        assert _read(os.path.join(reg.fetch(done, tmp_path / "n"), "a.txt")) == b"new"
        assert not [f for f in stored_files(reg) if f.startswith(("_archive", "_staging"))], "nothing left over"
