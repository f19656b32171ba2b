"""Repositories of the three kinds (memory, SQLite, real PostgreSQL) for the lifecycle tests."""

from __future__ import annotations

import os

import pytest

import provkit as p

KINDS = ["memory", "sqlite", "postgres"]


def config_for(kind: str, root: str, postgres_url: str | None = None) -> dict:
    if kind == "memory":
        return {
            "blobstores": {"mem": {"type": "memory", "delete": True}},
            "artifact_repos": {"m": {"type": "memory", "store": "mem", "delete": True}},
            "default_repo": "m",
        }
    store = {"disk": {"type": "disk", "cachedir": os.path.join(root, "blobs"), "delete": True, "fsync": False}}
    db = f"sqlite:///{root}/db.sqlite" if kind == "sqlite" else postgres_url
    return {
        "blobstores": store,
        "artifact_repos": {"r": {"type": kind, "db": db, "store": "disk", "delete": True}},
        "default_repo": "r",
    }


@pytest.fixture(params=KINDS, name="kind_repo")
def kind_repo_fixture(request, tmp_path):
    """The default repository of each kind (memory, SQLite, PostgreSQL on a real server)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    p.load_config(config_for(request.param, str(tmp_path), url))
    repo = p.get_default_repo()
    repo.kind_name = request.param
    return repo
