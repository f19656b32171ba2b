"""Shared stores across users: blobs follow the umask (a group reads each other's
blobs); a ``write: false`` repository reads a SQLite file it may not write (issue 11).

Each side runs in a child process that starts as root, warms up (imports everything
from the root-only interpreter folder), then drops to another uid / gid with
``os.setgroups`` / ``os.setgid`` / ``os.setuid``: real permission checks, no mocks.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import uuid

import pytest

GROUP, OTHER_GROUP = 23_456, 23_457
WRITER, READER, STRANGER = 23_461, 23_462, 23_463

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")

_CHILD = textwrap.dedent(
    """
    import json, os, sys, tempfile
    import numpy as np
    import provkit as p
    from provkit.services.lineage import walk  # noqa: F401 - imported before privileges drop

    args = json.loads(sys.argv[1])
    shared = args["shared"]

    def config(write=True):
        return {
            "blobstores": {"disk": {"type": "disk", "cachedir": os.path.join(shared, "blobs")}},
            "artifact_repos": {"team": {"type": "sqlite", "db": "sqlite:///" + os.path.join(shared, "db.sqlite"),
                                        "store": "disk", "write": write}},
            "default_repo": "team",
        }

    computed = []

    @p.provenance(name="features")
    def features(n):
        computed.append("features")
        return np.arange(n, dtype="float64")

    @p.provenance(name="total")
    def total(x):
        computed.append("total")
        return {"sum": float(x.sum())}

    # warm up as root in a scratch folder: every lazily imported module gets loaded
    warm = tempfile.mkdtemp()
    os.environ["PROVKIT_HOME"] = warm
    warm_repo = {"type": "sqlite", "db": f"sqlite:///{warm}/db.sqlite", "store": "disk"}
    p.load_config({**config(), "blobstores": {"disk": {"type": "disk", "cachedir": warm + "/b"}},
                   "artifact_repos": {"team": warm_repo}})
    t = total(features(200_000)); total(features(200_000))
    list(p.find_artifacts({"name": "total"})); p.get_default_repo().ancestors(t.artifact.id)
    t.artifact.inputs
    computed.clear()

    os.setgroups(args["groups"])
    os.setgid(args["gid"])
    os.setuid(args["uid"])
    os.umask(args["umask"])
    os.environ["PROVKIT_HOME"] = args["home"]
    p.load_config(config(write=args["write"]))
    repo = p.get_default_repo()
    out = {}
    if args["write"]:
        t = total(features(200_000))
        out["id"] = t.artifact.id
        out["sum"] = t["sum"]
    else:
        t = p.load_proxy(args["id"])  # lookup and load
        out["sum"] = t["sum"]
        out["inputs"] = float(t.artifact.inputs["kargs"]["x"].sum())
        out["found"] = [a.name for a in p.find_artifacts({"name": "total"})]
        out["ancestors"] = sorted(repo.ancestors(args["id"]))
    out["computed"] = computed
    print("RESULT " + json.dumps(out))
    """
)


def _run(shared: str, *, uid: int, gid: int, groups: list[int], umask: int = 0o002, write: bool = True, **extra):
    home = os.path.join(shared, f"home-{uid}")
    os.makedirs(home, exist_ok=True)
    os.chown(home, uid, gid)
    args = {"shared": shared, "uid": uid, "gid": gid, "groups": groups, "umask": umask, "write": write, "home": home}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps({**args, **extra})],
        capture_output=True, text=True, timeout=300, cwd=shared,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])


@pytest.fixture
def shared():
    """A team folder: owned by root and the shared group, setgid so new files keep the group."""
    folder = f"/tmp/provkit-share-{uuid.uuid4().hex[:10]}"
    os.mkdir(folder)
    os.chown(folder, 0, GROUP)
    os.chmod(folder, 0o2775)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _modes(folder: str) -> dict[str, int]:
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            out[os.path.relpath(path, folder)] = stat.S_IMODE(os.lstat(path).st_mode)
    return out


def test_umask_002_lets_the_group_hit_each_others_blobs(shared):
    made = _run(shared, uid=WRITER, gid=GROUP, groups=[GROUP])
    assert made["computed"] == ["features", "total"]
    blobs = {k: m for k, m in _modes(os.path.join(shared, "blobs")).items() if not k.startswith(".staging")}
    files = [m for k, m in blobs.items() if "/" in k]
    assert files and all(m == 0o444 for m in files), blobs  # read-only, group and others may read
    assert all(m & 0o070 == 0o070 for k, m in blobs.items() if "/" not in k), "folders: group rwx (umask 002)"
    hit = _run(shared, uid=READER, gid=GROUP, groups=[GROUP])
    assert hit["computed"] == [] and hit["sum"] == made["sum"], "a plain hit for the other group member"


def test_umask_077_keeps_blobs_private_and_mode_keys_override(shared, tmp_path):
    _run(shared, uid=WRITER, gid=GROUP, groups=[GROUP], umask=0o077)
    files = [m for k, m in _modes(os.path.join(shared, "blobs")).items() if "/" in k and not k.startswith(".")]
    assert files and all(m == 0o400 for m in files)
    from provkit.storage.blobstores.disk import DiskStore

    store = DiskStore(tmp_path / "explicit", mode=0o440, dir_mode=0o2770)
    store.put_bytes("x1modes", b"data")
    assert stat.S_IMODE(os.stat(store.path("x1modes")).st_mode) == 0o440
    assert stat.S_IMODE(os.stat(os.path.dirname(store.path("x1modes"))).st_mode) == 0o2770
    with pytest.raises(Exception, match="mode"):
        DiskStore(tmp_path / "bad", mode="0644")


def test_write_false_reads_a_sqlite_file_it_may_only_read(shared):
    made = _run(shared, uid=WRITER, gid=GROUP, groups=[GROUP])
    db = os.path.join(shared, "db.sqlite")
    assert not os.access(db, os.W_OK) or os.stat(db).st_uid == WRITER
    before = sorted(os.listdir(shared))
    got = _run(shared, uid=STRANGER, gid=OTHER_GROUP, groups=[], write=False, id=made["id"])
    assert got["sum"] == made["sum"] and got["computed"] == []
    assert got["inputs"] == made["sum"] and got["found"] == ["total"] and len(got["ancestors"]) == 1
    after = sorted(n for n in os.listdir(shared) if not n.startswith("home-"))
    assert after == [n for n in before if not n.startswith("home-")], "no lock, journal or WAL file was created"


def test_write_false_in_process_creates_nothing_and_refuses_writes(tmp_path, sqlite_config):
    import provkit as p

    writer = f"""
import provkit as p
p.load_config({sqlite_config!r})
@p.provenance(name="f")
def f(n):
    return list(range(n))
print(f(3).artifact.id)
"""
    made = subprocess.run([sys.executable, "-c", writer], capture_output=True, text=True, check=True).stdout.split()[-1]
    (tmp_path / "db.sqlite.lock").unlink()
    before = sorted(os.listdir(tmp_path))
    spec = sqlite_config["artifact_repos"]["local"]
    spec["write"] = False
    p.load_config(sqlite_config)
    repo = p.get_default_repo()
    assert repo.get_artifact(made).value == [0, 1, 2]
    assert [a.id for a in p.find_artifacts({"name": "f"})] == [made]

    @p.provenance(name="f")
    def f(n):
        return list(range(n))

    assert f(3) == [0, 1, 2]
    with pytest.raises(p.PermissionDeniedError):
        repo.save(repo.get_artifact(made), [1])
    created = set(os.listdir(tmp_path)) - set(before)
    assert created <= {"db.sqlite-wal", "db.sqlite-shm"}, "no lock file (SQLite's own WAL index may appear)"
    spec["db"] = f"sqlite:///{tmp_path / 'nowhere.sqlite'}"
    with pytest.raises(p.ConfigError, match="no SQLite database"):
        p.load_config(sqlite_config)
