"""`provkit register ...`, `provkit dataset ...` and the registry through ls/show/get/lineage,
run as real subprocesses: outputs, errors as one line, and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from registry_suite import _read, make_file, make_tree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_register_list_show_get_lineage(cli, tmp_path):
    src = make_tree(tmp_path / "src", {"a.txt": b"alpha", "sub/b.txt": b"beta"})
    config = make_file(tmp_path / "stage.yaml", b"threshold: 3\n")
    ex = cli("register", "execution", "stage-1", "--description", "first", "--configuration", config).stdout.strip()
    assert ex.startswith("ex_")
    d1 = json.loads(cli("register", "dataset", "raw", "0.0.1", "--old-location", src, "--relpath", "pipe/raw",
                        "--execution", ex, "-k", "sim", "--json").stdout)  # fmt: skip
    assert (d1["version"], d1["nfiles"], d1["total_size"], d1["keywords"]) == ("0.0.1", 2, 9, ["sim"])
    d2 = cli("register", "dataset", "raw", "minor", "--old-location", src, "--relpath", "pipe/raw2").stdout.strip()
    ex2 = cli("register", "execution", "stage-2", "--input", d1["id"], "--input", d2).stdout.strip()
    listed = json.loads(cli("ls", "--datasets", "--name", "raw", "--json").stdout)
    assert [d["version"] for d in listed] == ["0.1.0", "0.0.1"]
    assert [d["id"] for d in json.loads(cli("ls", "-d", "--keyword", "sim", "--json").stdout)] == [d1["id"]]
    assert "pipe/raw" in cli("ls", "--datasets").stdout, "a table for people"
    found = json.loads(cli("find", "--datasets", '{"keywords": "sim", "nfiles": {"$gte": 2}}', "--json").stdout)
    assert [d["id"] for d in found] == [d1["id"]]
    assert cli("find", "-d", '{"colour": 1}', ok=False).returncode == 1
    runs = json.loads(cli("ls", "--executions", "--json").stdout)
    # d2 came without an execution: one was recorded for it
    assert [r["name"] for r in runs] == ["stage-2", "for raw", "stage-1"] and runs[0]["inputs"] == [d1["id"], d2]

    shown = json.loads(cli("show", d1["id"], "--json").stdout)
    assert shown["dependents"] == [ex2] and shown["url"].endswith("user/" + d1["owner"] + "/pipe/raw")
    assert json.loads(cli("show", ex, "--json").stdout)["configuration"] == "threshold: 3\n"
    got = cli("get", d1["id"], "--to", str(tmp_path / "out")).stdout.strip()
    assert _read(os.path.join(got, "sub", "b.txt")) == b"beta"

    up = json.loads(cli("lineage", ex2, "--format", "json").stdout)["related"]
    d2_execution = json.loads(cli("show", d2, "--json").stdout)["execution_id"]
    assert up == {d1["id"]: 1, d2: 1, ex: 2, d2_execution: 2}
    down = json.loads(cli("lineage", ex, "--down", "--format", "json").stdout)["related"]
    assert down == {d1["id"]: 1, ex2: 2}
    tree = cli("lineage", ex2).stdout
    assert "dataset raw 0.0.1 [valid]" in tree and "execution stage-1" in tree
    prov = json.loads(cli("lineage", ex2, "--format", "prov").stdout)
    assert len(prov["entity"]) == 2 and len(prov["activity"]) == 3
    assert "digraph" in cli("lineage", d1["id"], "--format", "dot").stdout


def test_exit_codes_and_one_line_errors(cli, tmp_path):
    src = make_file(tmp_path / "f.db", b"x" * 10)
    used = cli("register", "dataset", "d", "1.0.0", "--old-location", src, "--relpath", "p/d").stdout.strip()
    cli("register", "execution", "user-of-d", "--input", used)

    def fails(code: int, *args: str, says: str) -> None:
        proc = cli(*args, ok=False)
        assert proc.returncode == code, (args, proc.returncode, proc.stderr)
        assert says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        if code != 2:
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr

    fails(4, "register", "dataset", "d2", "1.0.0", "--old-location", src, "--relpath", "p/d", says="conflict: relpath")
    fails(4, "register", "dataset", "d", "1.0.0", "--old-location", src, "--relpath", "p/e", says="exists already")
    fails(4, "dataset", "delete", used, says="--force")
    fails(3, "show", "ds_missing", says="not found")
    fails(3, "register", "execution", "x", "--input", "ds_missing", says="not found")
    fails(3, "lineage", "ex_missing", says="not found")
    fails(1, "register", "dataset", "d", "1.2", "--old-location", src, says="semver")
    fails(1, "register", "dataset", "d", "patch", "--old-location", src, "--owner-type", "team", says="owner_type")
    fails(1, "register", "dataset", "d", "patch", "--old-location", src, "--relpath", "../up", says="relpath")
    fails(1, "register", "dataset", "d", "patch", "--old-location", str(tmp_path / "nope"), says="neither a file")
    fails(1, "dataset", "replace", used, "--old-location", src, says="not overwritable")
    fails(2, "register", "dataset", "only-a-name", says="Missing argument")
    fails(2, "register", "dataset", "d", "patch", "--bogus", says="No such option")
    deleted = json.loads(cli("dataset", "delete", used, "--force", "--json").stdout)
    assert deleted["status"] == "deleted"
    again = cli("register", "dataset", "d", "patch", "--old-location", src, "--relpath", "p/d", "--overwritable")
    new_id = again.stdout.strip()
    replaced = json.loads(cli("dataset", "replace", new_id, "--old-location", src, "--json").stdout)
    assert replaced["replace_iteration"] == 1 and replaced["version"] == "1.0.1"
    history = json.loads(cli("ls", "-d", "--name", "d", "--all", "--json").stdout)
    assert sorted(d["status"] for d in history) == ["deleted", "replaced", "valid"]
    assert cli("dataset", "cleanup").returncode == 0


def test_the_pipeline_shell_script_runs(tmp_path):
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home"), "COLUMNS": "200",
           "PROVKIT": f"{sys.executable} -m provkit"}  # fmt: skip
    script = os.path.join(ROOT, "examples", "pipeline.sh")
    proc = subprocess.run(["bash", script], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    ids = proc.stdout.split("datasets: ", 1)[1].splitlines()[0].split()
    assert len(ids) == 5 and all(i.startswith("ds_") for i in ids)
    tree = proc.stdout.split("\n", 1)[1]
    for name in ("pipeline-stage-1", "pipeline-stage-2", "pipeline-stage-3", "Dataset 1.1", "Dataset 1.2",
                 "Dataset 1.3", "Dataset 2.1"):  # fmt: skip
        assert name in tree, name
    down = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert down["id"] == ids[0] and set(down["related"]) >= {ids[3], ids[4]}
    again = subprocess.run(["bash", script], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "0.2.0" in again.stdout, "a second run registers the next minor version"
