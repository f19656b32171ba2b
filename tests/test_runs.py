"""Run info: captured once per process, with host, user, packages and git state."""

from __future__ import annotations

import os
import subprocess
import sys

import provkit as p
from provkit.core.runs import current_run_info, git_info


def test_run_info_contents():
    info = current_run_info()
    for key in ("id", "created_at", "user", "argv", "host", "process", "python", "packages", "git"):
        assert key in info, key
    assert info["process"]["pid"] == os.getpid()
    assert info["python"]["version"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}")
    assert "xxhash" in {k.lower() for k in info["packages"]}
    assert info is current_run_info(), "captured once per process"


def test_git_state(tmp_path):
    repo = tmp_path / "work"
    repo.mkdir()
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    run("init", "-q", "-b", "main")
    run("config", "user.email", "t@example.invalid")
    run("config", "user.name", "t")
    (repo / "f.txt").write_text("1")
    run("add", "f.txt")
    run("commit", "-qm", "one")
    info = git_info(str(repo))
    assert info["branch"] == "main" and len(info["commit"]) == 40 and info["dirty"] is False
    (repo / "f.txt").write_text("2")
    assert git_info(str(repo))["dirty"] is True
    assert git_info(str(tmp_path)) is None


def test_set_run_info_fn_adds_fields(any_repo):
    def hook(info):
        info["build_id"] = "ci-42"

    p.set_run_info_fn(hook)

    @p.provenance()
    def f(a):
        return a

    r = f(1)
    assert r.artifact.run_info["build_id"] == "ci-42"
    assert p.load_artifact(r.artifact.id).run_info["build_id"] == "ci-42"


def test_run_info_is_recaptured_after_fork():
    first = current_run_info()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        os.write(write, str(current_run_info()["process"]["pid"]).encode())
        os._exit(0)
    os.close(write)
    child_pid = int(os.read(read, 100).decode())
    os.waitpid(pid, 0)
    assert child_pid == pid != first["process"]["pid"]
