"""Registry rules that need processes, crashes or handlers: concurrent bumps and claims
(SQLite and PostgreSQL), a registration killed mid-copy, and enforced provenance."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time

import pytest

import provkit as p
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.memory import MemoryRepo
from provkit.storage.repos.sql import SqlRepo
from registry_suite import make_file, make_tree, stored_files

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def _open(url: str, blobs: str):
    if url.startswith("sqlite"):
        return SqlRepo(url, DiskStore(blobs, delete=True), delete=True)
    from provkit.storage.repos.sql.postgres import PostgresRepo

    return PostgresRepo(url, DiskStore(blobs, delete=True), delete=True)


def _bumper(url: str, blobs: str, source: str, worker: int, start_at: float, queue) -> None:
    try:
        reg = p.Registry(_open(url, blobs), owner="team", owner_type="group")
        while time.time() < start_at:
            time.sleep(0.001)
        versions = []
        for i in range(5):
            ds = reg.register_dataset(f"bumps/w{worker}-{i}", "patch", name="catalog", old_location=source)
            versions.append(ds.version)
        try:
            reg.register_dataset("contested/place", "minor", name="contested", old_location=source)
            claimed = True
        except p.RelpathTakenError:
            claimed = False
        try:  # nested places: "nest", "nest/x", "nest/x/x" ... any two overlap
            reg.register_dataset("/".join(["nest"] + ["x"] * worker), "1.0.0", name=f"n{worker}", old_location=source)
        except p.RegistryError as exc:
            assert "overlaps" in str(exc), exc
        queue.put(("ok", versions, claimed))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(("error", repr(exc), None))


def _concurrent_bumps(url: str, tmp_path, workers: int = 4) -> None:
    blobs = str(tmp_path / "blobs")
    source = make_file(tmp_path / "src.bin", os.urandom(20_000))
    _open(url, blobs)  # the schema, created once
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 3
    procs = [ctx.Process(target=_bumper, args=(url, blobs, source, w, start_at, queue)) for w in range(workers)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=180) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert all(r[0] == "ok" for r in results), results
    versions = [v for r in results for v in r[1]]
    expected = [f"0.0.{i}" for i in range(1, 5 * workers + 1)]
    assert sorted(versions, key=lambda v: int(v.split(".")[2])) == expected, "no version given twice, none skipped"
    assert sum(r[2] for r in results) == 1, "exactly one process claims a contested relpath"
    reg = p.Registry(_open(url, blobs), owner="team", owner_type="group")
    assert len(reg.find_datasets(name="catalog")) == 5 * workers
    assert [d.relpath for d in reg.find_datasets(name="contested")] == ["contested/place"]
    assert reg.find_datasets(status="pending") == []
    nested = [d.relpath for d in reg.find_datasets() if d.relpath.startswith("nest")]
    assert len(nested) <= 1, f"overlapping live datasets: {nested}"


def test_concurrent_bumps_and_claims_on_sqlite(tmp_path):
    _concurrent_bumps(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)


def test_concurrent_bumps_and_claims_on_postgres(tmp_path, postgres_url):
    _concurrent_bumps(postgres_url, tmp_path)


_KILLED = """
import sys, time
sys.path.insert(0, {src!r})
import provkit as p
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.sql import SqlRepo
reg = p.Registry(SqlRepo({url!r}, DiskStore({blobs!r})), owner="alice")
def slow(nbytes, total):
    print("copying", flush=True)
    time.sleep(0.5)
reg.register_dataset("crash/here", "1.0.0", old_location={source!r}, progress=slow)
"""


def test_a_registration_killed_mid_copy_stays_invisible_and_is_cleaned_up(tmp_path):
    url, blobs = f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "blobs")
    source = make_tree(tmp_path / "src", {f"f{i}.bin": os.urandom(1000) for i in range(20)})
    script = _KILLED.format(src=SRC, url=url, blobs=blobs, source=source)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "copying"
    time.sleep(1.2)  # a few files copied, most not
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reg = p.Registry(_open(url, blobs), owner="alice")
    assert reg.find_datasets() == [], "no valid row for an unfinished copy"
    pending = reg.find_datasets(status="pending")
    assert len(pending) == 1 and 0 < len(stored_files(reg)) < 20
    with pytest.raises(p.RelpathTakenError, match="pending"):
        reg.register_dataset("crash/here", "1.0.0", old_location=source)
    assert reg.cleanup() == [pending[0].id], "its process is gone: the claim is released"
    assert stored_files(reg) == [] and reg.find_datasets(all_statuses=True) == []
    done = reg.register_dataset("crash/here", "1.0.0", old_location=source)
    assert done.status == "valid" and done.nfiles == 20


def test_cleanup_leaves_live_registrations_alone(tmp_path):
    reg = p.Registry(MemoryRepo(), owner="alice")
    reg.register_dataset("a", "1.0.0", old_location=make_file(tmp_path / "a", b"a"))
    assert reg.cleanup() == [] and len(reg.find_datasets()) == 1


# ---- writer/handler pairs ---------------------------------------------------------
@pytest.fixture
def reg(tmp_path):
    def write_json(data, path):
        with open(path, "w") as fh:
            json.dump(data, fh)

    def read_json(path):
        with open(path) as fh:
            return json.load(fh)

    p.register_handler("json", write_json, read_json, suffix=".json")

    def write_dir(frames, path):
        for name, rows in frames.items():
            with open(os.path.join(path, f"{name}.json"), "w") as fh:
                json.dump(rows, fh)

    def read_dir(path):
        out = {}
        for name in sorted(os.listdir(path)):
            with open(os.path.join(path, name)) as fh:
                out[name[:-5]] = json.load(fh)
        return out

    p.register_handler("json-dir", write_dir, read_dir, data_org="directory")
    return p.Registry(SqlRepo(f"sqlite:///{tmp_path / 'db.sqlite'}", DiskStore(tmp_path / "blobs")), owner="ana")


CODE = {"code_name": "reduce.py", "code_version": "3f2a9c1", "code_url": "https://git.example.org/reduce"}


def test_derived_data_needs_every_provenance_field(reg, tmp_path):
    raw = reg.register_dataset("raw.bin", "1.0.0", old_location=make_file(tmp_path / "raw.bin", b"raw"))
    with pytest.raises(p.MissingProvenanceError) as info:
        reg.save_derived({"a": 1}, "json", "derived/a")
    assert info.value.missing == ["parents or source_files", "code_name", "code_version", "code_url"]
    assert "missing parents or source_files, code_name, code_version, code_url" in str(info.value)
    with pytest.raises(p.MissingProvenanceError, match=r"missing code_url \("):
        reg.save_derived({"a": 1}, "json", "derived/a", parents=[raw], code_name="x", code_version="1")
    assert reg.find_datasets(name="a", all_statuses=True) == [] and not [
        f for f in stored_files(reg) if "derived" in f
    ], "a refused save stores nothing"
    ds = reg.save_derived({"a": 1}, "json", "derived/a", parents=[raw], **CODE)
    assert ds.spec == "json" and ds.parent_ids == [raw.id] and ds.version == "0.0.1"
    assert ds.provenance["code"] == {"name": "reduce.py", "version": "3f2a9c1", "url": CODE["code_url"]}
    assert ds.provenance["waived"] == []
    assert reg.load(ds) == {"a": 1} and reg.load(ds.id) == {"a": 1}
    made_by = reg.get_execution(ds.execution_id)  # recorded for it: every dataset has an execution
    assert made_by.name == "for a"
    assert p.lineage.ancestors(ds, repo=reg.repo) == {raw.id: 1, made_by.id: 1, raw.execution_id: 2}
    assert reg.dependents(raw.id) == [ds.id]


def test_source_files_count_as_origin_and_opt_outs_are_explicit_and_recorded(reg, tmp_path):
    source = make_file(tmp_path / "scan_001.tiff", b"pixels")
    ds = reg.save_derived({"x": [1, 2]}, "json", "from-file", source_files=[source], **CODE)
    assert ds.provenance["source_files"][0]["path"] == source and ds.provenance["source_files"][0]["size"] == 6
    quick = reg.save_derived({"y": 1}, "json", "quick", source_files=[source], code_name="nb", code_version="0",
                             allow_missing=["code_url"])  # fmt: skip
    assert quick.provenance["waived"] == ["code_url"]
    anything = reg.save_derived({"z": 1}, "json", "scratch", allow_missing=True)
    assert anything.provenance["waived"] == ["parents or source_files", "code_name", "code_version", "code_url"]
    with pytest.raises(p.RegistryError, match="unknown field"):
        reg.save_derived({"z": 1}, "json", "scratch2", allow_missing=["code_urll"])


def test_directory_handlers_and_unknown_specs(reg, tmp_path):
    frames = {"left": [1, 2], "right": [3]}
    ds = reg.save_derived(frames, "json-dir", "frames", "1.0.0", parents=[], source_files=["in.csv"], **CODE)
    assert (ds.data_org, ds.nfiles) == ("directory", 2)
    assert reg.load(ds) == frames
    with pytest.raises(p.RegistryError, match="no handler registered for spec 'hdf9'"):
        reg.save_derived(frames, "hdf9", "nope", allow_missing=True)
    plain = reg.register_dataset("plain", "1.0.0", old_location=make_file(tmp_path / "plain", b"p"))
    with pytest.raises(p.RegistryError, match="not written through a handler"):
        reg.load(plain)
    with pytest.raises(p.RegistryError, match="callable writer and a callable reader"):
        p.register_handler("broken", writer=None, reader=print)


def test_promoting_an_artifact_built_on_a_dataset_keeps_the_edge(tmp_path):
    local, team = MemoryRepo(), MemoryRepo()
    reg = p.Registry(local, owner="ana")
    ds = reg.register_dataset("raw.bin", "1.0.0", old_location=make_file(tmp_path / "raw.bin", b"raw"))
    plot = p.Files(repo=local).upload([make_file(tmp_path / "plot.png", b"png")], {"datatype": "plot"}, based_on=[ds])
    promoted = p.promote(plot, team)
    assert promoted.input_artifact_ids == [ds.id], "registry records are not copied; the edge to them stays"
