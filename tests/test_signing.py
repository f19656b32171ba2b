"""Signed repositories: no code from the store (issue 11).

A planted pickle (its payload creates a marker folder when unpickled) placed where a
value, an inline value, the stored inputs or a large input blob lives is refused
before it is deserialized: the marker never appears. Whoever can write the blob
store or the database but lacks the key cannot make provkit run code.
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import sqlalchemy as sa

import provkit as p
from provkit.storage.repos.sql import schema
from test_integrity import _blob_put, _config, _row_put

KEY_ENV = "PROVKIT_TEST_SIGN_KEY"


class _Planted:
    """Unpickling this runs os.mkdir(marker): the code an attacker would plant."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _signed(config: dict) -> dict:
    for repo in config["artifact_repos"].values():
        repo["sign_key_env"] = KEY_ENV
    return config


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "correct horse battery staple 0123456789")
    return os.environ[KEY_ENV]


def _set_columns(repo, artifact_id: str, **values) -> None:
    from provkit.storage.repos.memory import MemoryRepo

    if isinstance(repo, MemoryRepo):
        seal = repo._records[artifact_id][1]["_seal"]
        for name, value in values.items():
            setattr(seal, name, value)
        return
    with repo.engine.begin() as conn:
        conn.execute(sa.update(schema.artifacts).where(schema.artifacts.c.id == artifact_id).values(**values))


SIGNED_KINDS = ["memory", "sqlite+disk", "postgres+disk", "sqlite+s3", "sqlite+sftp", "sqlite+gcs"]


@pytest.mark.parametrize("kind", SIGNED_KINDS)
def test_planted_pickles_are_refused_and_never_run(kind, key, tmp_path, request):
    p.load_config(_signed(_config(kind, tmp_path, request)))
    repo = p.get_default_repo()
    assert repo.signer is not None and key not in repr(repo.signer)
    marker = tmp_path / "pwned"
    planted = pickle.dumps(_Planted(str(marker)), protocol=5)
    calls = []

    @p.provenance(serializer="joblib")  # a pickle reader (npy refuses pickles by itself)
    def big(n):
        calls.append(n)
        return np.arange(n, dtype="float64")

    @p.provenance()
    def small(n):
        calls.append(n)
        return {"n": n}

    @p.provenance()
    def uses(data, arr):
        return 1

    b, s = big(20_000), small(3)
    u = uses(list(range(5000)), np.arange(300_000, dtype="float64"))
    a = repo.get_artifact(b.artifact.id)
    assert a._seal.value_mac.startswith("hmac-sha256:") and a._value_bytes is None

    # the value blob: planted, and the digest column forged to match it (a database writer could)
    from provkit.core.integrity import digest

    _blob_put(repo.store, b.artifact.value_id, planted)
    _set_columns(repo, b.artifact.id, value_digest=digest(planted))
    with pytest.raises(p.UntrustedValueError, match="signature"):
        _ = repo.get_artifact(b.artifact.id).value
    # the inline value in the row
    _row_put(repo, s.artifact.id, "value_bytes", planted)
    with pytest.raises(p.UntrustedValueError):
        _ = repo.get_artifact(s.artifact.id).value
    # a valid MAC copied from another row does not vouch for other bytes
    _set_columns(repo, s.artifact.id, value_mac=repo.get_artifact(u.artifact.id)._seal.value_mac)
    with pytest.raises(p.UntrustedValueError):
        _ = repo.get_artifact(s.artifact.id).value
    # the stored inputs (a blob: their pickle is large) and a large input blob
    _blob_put(repo.store, u.artifact.id, planted)
    with pytest.raises(p.UntrustedValueError):
        _ = repo.get_artifact(u.artifact.id).inputs
    assert not marker.exists()

    # decorated calls refuse the planted bytes, recompute and re-sign
    assert np.array_equal(big(20_000), np.arange(20_000, dtype="float64")) and small(3) == {"n": 3}
    assert calls == [20_000, 3, 20_000, 3]
    assert np.array_equal(repo.get_artifact(b.artifact.id).value, np.arange(20_000, dtype="float64"))
    assert not marker.exists(), "the planted code never ran"


def test_large_input_blob_planted_is_refused(key, sqlite_config, tmp_path):
    p.load_config(_signed(sqlite_config))
    repo = p.get_default_repo()
    marker = tmp_path / "pwned"

    @p.provenance()
    def total(x):
        return float(x.sum())

    arr = np.arange(300_000, dtype="float64")
    t = total(arr)
    _blob_put(repo.store, p.hash(arr), pickle.dumps(_Planted(str(marker))))
    with pytest.raises(p.UntrustedValueError):
        _ = repo.get_artifact(t.artifact.id).inputs
    assert not marker.exists()


def test_unsigned_rows_and_other_keys_are_refused(key, sqlite_config, monkeypatch, tmp_path):
    p.load_config(sqlite_config)  # unsigned first

    @p.provenance()
    def f(n):
        return list(range(n))

    old = f(4)
    p.load_config(_signed(sqlite_config))
    with pytest.raises(p.UntrustedValueError, match="no signature"):
        _ = p.get_default_repo().get_artifact(old.artifact.id).value
    assert f(4) == [0, 1, 2, 3]  # recomputed and signed
    assert p.get_default_repo().get_artifact(old.artifact.id)._seal.value_mac
    monkeypatch.setenv(KEY_ENV, "another key entirely")
    p.load_config(_signed(sqlite_config))
    with pytest.raises(p.UntrustedValueError, match="another key"):
        _ = p.get_default_repo().get_artifact(old.artifact.id).value


def test_missing_key_variable_is_a_clear_error_without_the_key(sqlite_config, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(p.ConfigError, match=KEY_ENV):
        p.load_config(_signed(sqlite_config))


def test_unsigned_repositories_still_read_signed_rows_by_digest(key, sqlite_config):
    p.load_config(_signed(sqlite_config))

    @p.provenance()
    def f(n):
        return list(range(n))

    made = f(5)
    p.load_config(sqlite_config)
    assert p.get_default_repo().get_artifact(made.artifact.id).value == [0, 1, 2, 3, 4]


def test_the_planted_payload_does_run_without_signing(sqlite_config, tmp_path):
    """The control: the same plant in an unsigned repository whose digest column was
    forged too runs the payload (which is why shared stores should be signed)."""
    p.load_config(sqlite_config)
    repo = p.get_default_repo()
    marker = tmp_path / "pwned"

    @p.provenance(serializer="joblib")  # a pickle reader (npy refuses pickles by itself)
    def big(n):
        return np.arange(n, dtype="float64")

    b = big(20_000)
    planted = pickle.dumps(_Planted(str(marker)), protocol=5)
    from provkit.core.integrity import digest

    _blob_put(repo.store, b.artifact.value_id, planted)
    _set_columns(repo, b.artifact.id, value_digest=digest(planted))
    _ = repo.get_artifact(b.artifact.id).value
    assert marker.exists()
