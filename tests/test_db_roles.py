"""PostgreSQL roles for a shared repository, tested with real database users: a reader
queries and fetches but may not register; a writer registers."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

import provkit as p
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.sql.postgres import PostgresRepo


def _as(url: str, user: str) -> str:
    parsed = sa.engine.make_url(url)
    return parsed.set(username=user).render_as_string(hide_password=False)


@pytest.fixture
def users(postgres_url, tmp_path):
    """A repository made by its admin (the superuser), roles from ``provkit db roles``, and
    two login users: one reader, one writer."""
    store = DiskStore(tmp_path / "blobs", delete=True)
    owner = PostgresRepo(postgres_url, store)
    with p.as_user("alice"):
        p.Registry(owner, owner="alice").register_dataset(
            "shared/t", "1.0.0", old_location=_file(tmp_path), keywords=["simulation"])  # fmt: skip
    env = {**os.environ}
    env.pop("PROVKIT_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "provkit", "db", "roles", "--url", postgres_url],
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["provkit_reader", "provkit_writer", "provkit_admin"]
    tag = uuid.uuid4().hex[:8]
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        for who, role in (("r", "provkit_reader"), ("w", "provkit_writer")):
            conn.execute(sa.text(f'CREATE ROLE "{who}_{tag}" LOGIN IN ROLE {role}'))
    admin.dispose()
    return {"reader": _as(postgres_url, f"r_{tag}"), "writer": _as(postgres_url, f"w_{tag}"), "store": store}


def _file(tmp_path) -> str:
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n")
    return str(path)


def test_a_reader_queries_and_fetches_but_may_not_register(users, tmp_path):
    repo = PostgresRepo(users["reader"], users["store"])
    reg = p.Registry(repo, owner="bob")
    found = reg.find_datasets(keyword="simulation")
    assert [d.relpath for d in found] == ["shared/t"]
    with open(reg.fetch(found[0], tmp_path / "got")) as fh:
        assert fh.read() == "a\n1\n"
    with pytest.raises(p.PermissionDeniedError, match="provkit_writer"):
        reg.register_dataset("mine/t", "1.0.0", old_location=_file(tmp_path))


def test_a_writer_registers(users, tmp_path):
    repo = PostgresRepo(users["writer"], users["store"])
    with p.as_user("bob"):
        ds = p.Registry(repo, owner="bob").register_dataset("bob/t", "1.0.0", old_location=_file(tmp_path))
    assert ds.status == "valid"
