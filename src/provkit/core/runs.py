"""Run info: the context an artifact was made in, captured once per process.

Host, process, user, argv, Python version, installed packages and git state are read
the first time a run is needed (after a fork, again), then passed to the hook set with
``set_run_info_fn`` which may add fields. The run id is a hash of the whole record.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import platform
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from provkit.core import hashing

__all__ = [
    "current_run_info", "set_run_info_fn", "get_run_info_fn", "git_info", "python_packages", "as_user",
    "current_user", "set_run_context_fn", "set_task_key_fn", "current_task_key",
]  # fmt: skip

_lock = threading.Lock()
_cached: tuple[int, dict[str, Any]] | None = None
_run_info_fn: Callable[[dict], dict | None] | None = None


def set_run_info_fn(fn: Callable[[dict], dict | None] | None) -> None:
    """Hook called once per process with the default run info; it may update the dict
    in place or return a new one (e.g. to add a build id)."""
    global _run_info_fn, _cached
    if fn is not None and not callable(fn):
        raise TypeError(f"set_run_info_fn needs a callable, got {type(fn).__name__}")
    with _lock:
        _run_info_fn = fn
        _cached = None


def get_run_info_fn() -> Callable[[dict], dict | None] | None:
    return _run_info_fn


def _git(args: list[str], cwd: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_info(path: str | None = None) -> dict[str, Any] | None:
    """Commit, branch and dirty flag of the git work tree around ``path`` (cwd), or None."""
    cwd = path or os.getcwd()
    commit = _git(["rev-parse", "HEAD"], cwd)
    if commit is None:
        return None
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    return {
        "commit": commit,
        "branch": _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd),
        "dirty": bool(status),
        "root": _git(["rev-parse", "--show-toplevel"], cwd),
    }


def python_packages() -> dict[str, str]:
    """Installed distributions: name -> version."""
    from importlib import metadata

    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            packages.setdefault(name, dist.version)
    return dict(sorted(packages.items(), key=lambda kv: kv[0].lower()))


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _default_run_info() -> dict[str, Any]:
    uname = platform.uname()
    return {
        "created_at": datetime.now(timezone.utc).isoformat(),
        "user": _user(),
        "argv": list(sys.argv),
        "host": {
            "nodename": uname.node,
            "system": uname.system,
            "release": uname.release,
            "version": uname.version,
            "machine": uname.machine,
            "processor": uname.processor,
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
        },
        "process": {
            "pid": os.getpid(),
            "cmdline": [sys.executable, *sys.argv],
            "cwd": os.getcwd(),
            "exe": sys.executable,
            "name": os.path.basename(sys.executable),
        },
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
        },
        "packages": python_packages(),
        "git": git_info(),
    }


class _UserOverride(threading.local):
    name: str | None = None  # a default: a lookup of a never-set attribute raises inside getattr


_user_override = _UserOverride()


@contextlib.contextmanager
def as_user(name: str) -> Iterator[str]:
    """Record artifacts made in this block (this thread) as made by ``name``.

    For tests and shared service accounts; the run info keeps the real OS user.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("as_user needs a non-empty user name")
    previous = getattr(_user_override, "name", None)
    _user_override.name = name
    try:
        yield name
    finally:
        _user_override.name = previous


def current_user() -> str | None:
    """The user artifacts are recorded as: an ``as_user`` override, else the OS user."""
    name = getattr(_user_override, "name", None)
    return name if name is not None else current_run_info().get("user")


#: Called on each use of the run info; a dict it returns (e.g. the Dask task being run)
#: is added to this process's run info, making a run of its own (see set_run_context_fn).
_run_context_fn: Callable[[], dict | None] | None = None


def set_run_context_fn(fn: Callable[[], dict | None] | None) -> None:
    """Hook asked each time a run is recorded for fields of the current context (a Dask
    task key, say); when it returns a dict, the run info is this process's plus those
    fields, with its own id (hash of the process's run id and the fields)."""
    global _run_context_fn
    if fn is not None and not callable(fn):
        raise TypeError(f"set_run_context_fn needs a callable, got {type(fn).__name__}")
    _run_context_fn = fn


#: Returns the key of the task being run (a Dask task key), kept with each artifact it computes.
_task_key_fn: Callable[[], str | None] | None = None


def set_task_key_fn(fn: Callable[[], str | None] | None) -> None:
    """Hook asked on each computation for the current task's key (None outside a task);
    the key is stored with the artifact (``Artifact.task_key``), not in the run record, so
    a process's tasks share one run."""
    global _task_key_fn
    if fn is not None and not callable(fn):
        raise TypeError(f"set_task_key_fn needs a callable, got {type(fn).__name__}")
    _task_key_fn = fn


def current_task_key() -> str | None:
    """The current task's key, from the hook set with ``set_task_key_fn`` (or None)."""
    return _task_key_fn() if _task_key_fn is not None else None


def current_run_info() -> dict[str, Any]:
    """This process's run info (with ``id``), computed once per process; plus the current
    context's fields when a context hook is set and has some."""
    base = _process_run_info()
    context = _run_context_fn() if _run_context_fn is not None else None
    if not context:
        return base
    return {**base, **context, "id": hashing.hash(("provkit.run-context", base["id"], context))}


def _process_run_info() -> dict[str, Any]:
    global _cached
    pid = os.getpid()
    cached = _cached
    if cached is not None and cached[0] == pid:
        return cached[1]
    with _lock:
        if _cached is not None and _cached[0] == pid:
            return _cached[1]
        info = _default_run_info()
        if _run_info_fn is not None:
            returned = _run_info_fn(info)
            if returned is not None:
                info = returned
        info["id"] = hashing.hash(info)
        _cached = (pid, info)
        return info
