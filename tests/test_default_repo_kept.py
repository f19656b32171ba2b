"""``p.set_default_repo(repo)`` before any config is loaded stays the default: the config
loaded lazily later (on first use of a setting) must not replace it."""

from __future__ import annotations

import numpy as np

import provkit as p
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.sql import SqlRepo


def test_an_explicit_default_repo_survives_the_lazily_loaded_config(tmp_path):
    repo = SqlRepo(f"sqlite:///{tmp_path}/own.db", DiskStore(str(tmp_path / "blobs"), fsync=False))
    p.set_default_repo(repo)

    @p.provenance(name="dr.big")
    def big(i):
        return np.full(50_000, float(i))  # a blob, not an inline value

    made = [big(i) for i in range(3)]
    assert p.get_default_repo() is repo
    assert all(m.artifact.repo is repo for m in made)
    assert all(repo.store.exists(m.artifact.value_id) for m in made)
    assert p.current_config() is not None and p.get_default_repo() is repo, "reading the config changes nothing"
