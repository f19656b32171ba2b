"""Shared fixtures: every test gets a fresh embedded home and default settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import provkit as p
from provkit import settings


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say which Pythons the golden-hash test checked (tests/interpreters.py)."""
    from interpreters import GOLDEN_REPORT

    for line in config.stash.get(GOLDEN_REPORT, []):
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """A private PROVKIT_HOME and no installed config, before and after each test."""
    monkeypatch.setenv("PROVKIT_HOME", str(tmp_path / "provkit-home"))
    monkeypatch.delenv("PROVKIT_CONFIG", raising=False)
    monkeypatch.setattr("provkit.filesets._run_handler", None)
    settings._reset_for_tests()
    p.set_run_info_fn(None)
    yield
    settings._reset_for_tests()
    p.set_run_info_fn(None)


@pytest.fixture
def cli(tmp_path):
    """Run the provkit command line in a subprocess with a private home."""
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    env.pop("PROVKIT_CONFIG", None)

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-c", "from provkit.interfaces.cli import main; main()", *args],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    return run


@pytest.fixture
def memory_repo():
    repo = p.from_config(
        {
            "blobstores": {"mem": {"type": "memory", "delete": True}},
            "artifact_repos": {"m": {"type": "memory", "store": "mem", "delete": True}},
        }
    ).repos["m"]
    p.set_default_repo(repo)
    return repo


@pytest.fixture
def sqlite_config(tmp_path):
    return {
        "blobstores": {"disk": {"type": "disk", "cachedir": str(tmp_path / "blobs"), "delete": True}},
        "artifact_repos": {
            "local": {"type": "sqlite", "db": f"sqlite:///{tmp_path / 'db.sqlite'}", "store": "disk", "delete": True}
        },
        "default_repo": "local",
    }


@pytest.fixture(params=["memory", "sqlite"])
def any_repo(request, tmp_path, sqlite_config):
    """The default repo of each embedded kind, installed through load_config."""
    if request.param == "memory":
        config = {
            "blobstores": {"mem": {"type": "memory", "delete": True}},
            "artifact_repos": {"m": {"type": "memory", "store": "mem", "delete": True}},
        }
    else:
        config = sqlite_config
    p.load_config(config)
    return p.get_default_repo()


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the session (127.0.0.1, a free port)."""
    from servers import start_postgres

    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server, request):
    """A fresh, empty database on the session's server."""
    import uuid

    import sqlalchemy as sa

    name = "t_" + uuid.uuid4().hex[:12]
    base = postgres_server.info["url"].replace("postgresql://", "postgresql+psycopg://")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (SeaweedFS) for the session."""
    from servers import start_seaweedfs

    server = start_seaweedfs()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server):
    """A fresh bucket; returns the S3 options for it."""
    import time
    import uuid

    import s3fs

    name = "b" + uuid.uuid4().hex[:12]
    fs = s3fs.S3FileSystem(
        key=s3_server.info["key"], secret=s3_server.info["secret"], endpoint_url=s3_server.info["endpoint_url"],
        skip_instance_cache=True,
    )  # fmt: skip
    for attempt in range(60):  # the gateway answers before its filer is ready
        try:
            fs.mkdir(name)
            break
        except Exception:
            if attempt == 59:
                raise
            time.sleep(0.5)
    return {
        "bucket": name,
        "s3_config": {"key": s3_server.info["key"], "secret": s3_server.info["secret"]},
        "endpoint_url": s3_server.info["endpoint_url"],
    }


@pytest.fixture(scope="session")
def sshd_server():
    """A real sshd for the session (SFTP)."""
    from servers import start_sshd

    server = start_sshd()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gcs_server():
    """fake-gcs-server for the session."""
    from servers import start_fake_gcs

    server = start_fake_gcs()
    yield server
    server.stop()
