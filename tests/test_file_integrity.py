"""Stored files are served read-only and checked on every read; disk writes are durable;
staging files of killed writers are cleaned up (issue 11)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest

import provkit as p
from provkit.storage.blobstores.disk import DiskStore
from test_integrity import _config


def _tamper(path: str, data: bytes = b"tampered!") -> None:
    os.chmod(path, 0o644)
    with open(path, "r+b") as fh:
        fh.write(data)


def _no_write_bits(path: str) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) & 0o222 == 0


@pytest.fixture
def docs(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "train.csv").write_text("a,b\n" + "1,2\n" * 500)
    (root / "notes.md").write_text("# notes\n")
    return root


def test_disk_store_files_are_read_only_and_checked_on_every_read(sqlite_config, docs, tmp_path):
    p.load_config(sqlite_config)
    fileset = p.Files().upload([docs / "train.csv", docs / "notes.md"])
    stored = fileset["train.csv"]
    assert _no_write_bits(stored.local_path), "the store's own file is never handed out writable"
    assert stored.read_text() == (docs / "train.csv").read_text()
    archived = p.archive_file(docs / "notes.md", preserve_ext=True)
    assert _no_write_bits(archived.path) and archived.read_text() == "# notes\n"

    _tamper(stored.local_path)
    for read in (
        stored.read_text,
        stored.read_bytes,
        lambda: stored.open().read(),
        lambda: stored.download(tmp_path / "out"),
    ):
        with pytest.raises(p.BlobCorruptError, match=r"train\.csv"):
            read()
    assert not (tmp_path / "out" / "train.csv").exists(), "no damaged copy is left behind"
    _tamper(archived.path)
    with pytest.raises(p.BlobCorruptError, match=archived.artifact.id):
        _ = p.load_artifact(archived.artifact.id).value  # a fresh load checks it first
    loaded = archived.__wrapped__  # one loaded before the change checks on every read
    for read in (
        loaded.read_text,
        loaded.read_bytes,
        lambda: loaded.open().read(),
        lambda: loaded.copy_to(tmp_path / "x"),
    ):
        with pytest.raises(p.BlobCorruptError, match=r"notes\.md"):
            read()


def test_provkit_get_refuses_altered_files(cli, tmp_path, docs):
    home = tmp_path / "home"
    script = f"""
import os, json
os.environ["PROVKIT_HOME"] = {str(home)!r}
import provkit as p
fs = p.Files().upload([{str(docs / "train.csv")!r}])
print(json.dumps({{"id": fs.artifact.id, "path": fs["train.csv"].local_path}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    made = json.loads(out.strip().splitlines()[-1])
    assert cli("get", made["id"], "--to", str(tmp_path / "good")).returncode == 0
    _tamper(made["path"])
    bad = cli("get", made["id"], "--to", str(tmp_path / "bad"), ok=False)
    assert bad.returncode != 0 and "train.csv" in bad.stderr and "corrupt" in bad.stderr
    assert not (tmp_path / "bad" / "train.csv").exists()


@pytest.mark.parametrize("kind", ["memory", "sqlite+s3"])
def test_remote_files_are_verified_read_only_copies_in_one_bounded_cache(kind, docs, tmp_path, request, monkeypatch):
    p.load_config(_config(kind, tmp_path, request))
    cache = os.path.join(os.environ["PROVKIT_HOME"], "file-cache")
    fileset = p.Files().upload([docs / "train.csv", docs / "notes.md"])
    stored = fileset["train.csv"]
    path = stored.local_path
    assert os.path.dirname(path) == cache and _no_write_bits(path)
    assert stored.read_text() == (docs / "train.csv").read_text()
    _tamper(path)  # the cached copy altered
    with pytest.raises(p.BlobCorruptError, match=r"train\.csv"):
        stored.read_bytes()
    os.remove(path)
    store = p.get_default_repo().store  # the stored object altered: the copy is refused
    if kind == "memory":
        store._blobs[stored.key] = b"tampered"
    else:
        store.fs.pipe_file(store._path(stored.key), b"tampered")
    with pytest.raises(p.BlobCorruptError, match=r"train\.csv"):
        _ = stored.local_path
    assert os.listdir(cache) == [], "nothing unverified is published"
    # the cache is bounded: least recently used copies go first
    monkeypatch.setenv("PROVKIT_FILE_CACHE_BYTES", str(3000))
    big = []
    for i in range(4):
        (docs / f"big{i}.bin").write_bytes(os.urandom(1000))
        big.append(p.Files().upload([docs / f"big{i}.bin"])[f"big{i}.bin"])
    for item in big:
        _ = item.local_path
        time.sleep(0.01)
    sizes = [os.path.getsize(os.path.join(cache, n)) for n in os.listdir(cache)]
    assert sum(sizes) <= 3000 and os.path.exists(big[-1].local_path)


def test_disk_blobs_are_fsynced_before_the_rename_that_publishes_them(tmp_path, monkeypatch):
    store = DiskStore(tmp_path / "blobs")
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst):
        real_replace(src, dst)  # (a first try may fail: the fan-out folder is made on demand)
        events.append(("rename", os.fspath(dst)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store.put_bytes("x1durable", b"payload")
    final = store.path("x1durable")
    kinds = [kind for kind, _ in events]
    assert kinds == ["fsync", "rename", "fsync"], events
    assert events[0][1].startswith(str(tmp_path / "blobs" / ".staging")), "the file's bytes first"
    assert events[1][1] == final and events[2][1] == os.path.dirname(final), "then the folder after the rename"


def test_staging_files_of_killed_writers_are_removed_by_age(tmp_path):
    """A writer killed with SIGKILL mid-write leaves its staging file; once it is old, opening
    the store for writing removes it (a fresh one, maybe a live writer's, stays)."""
    blobs = tmp_path / "blobs"
    DiskStore(blobs)
    child = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {os.path.join(os.path.dirname(p.__file__), "..")!r})
        from provkit.storage.blobstores.disk import DiskStore
        store = DiskStore({str(blobs)!r})
        with store.staged("x1big") as path:
            with open(path, "wb") as fh:
                fh.write(b"x" * (1 << 20))
                fh.flush()
                print("writing", flush=True)
                time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    staging = blobs / ".staging"
    left = list(staging.iterdir())
    assert len(left) == 1 and left[0].stat().st_size == 1 << 20, "the killed writer left its staging file"
    fresh = staging / "blob-fresh"
    fresh.write_bytes(b"live writer")
    DiskStore(blobs)
    assert len(list(staging.iterdir())) == 2, "young files stay (they may belong to a live writer)"
    hours_ago = time.time() - 2 * 3600
    os.utime(left[0], (hours_ago, hours_ago))
    DiskStore(blobs, write=False)
    assert left[0].exists(), "a read-only opening removes nothing"
    DiskStore(blobs)
    assert not left[0].exists() and fresh.exists()


def test_remote_stores_stage_in_the_provkit_home_and_clean_up(tmp_path, request):
    from provkit.storage.blobstores.base import staging_dir

    p.load_config(_config("sqlite+s3", tmp_path, request))
    folder = staging_dir()
    assert folder.startswith(os.environ["PROVKIT_HOME"])
    os.makedirs(folder, exist_ok=True)
    old = os.path.join(folder, "provkit-old")
    with open(old, "wb") as fh:
        fh.write(b"left by a killed upload")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    p.load_config(_config("sqlite+s3", tmp_path, request))
    assert not os.path.exists(old)
