"""Configuration: the documented format, the zero-config default, and clear errors."""

from __future__ import annotations

import logging
import os

import pytest

import provkit as p


def test_zero_config_default_is_durable_sqlite_under_provkit_home(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="provkit")

    @p.provenance()
    def f(a):
        return a + 1

    r = f(1)
    home = os.environ["PROVKIT_HOME"]
    repo = p.get_default_repo()
    assert repo.url == "sqlite:///" + os.path.join(home, "provkit.db")
    assert os.path.exists(os.path.join(home, "provkit.db"))
    assert [rec for rec in caplog.records if home in rec.getMessage()], "the location is logged"
    p.get_default_repo()
    assert sum(home in rec.getMessage() for rec in caplog.records) == 1, "logged once"
    assert p.current_config()["default_repo"] == "local"
    from provkit import settings

    settings._reset_for_tests()  # a new process, as far as provkit can tell
    assert p.load_artifact(r.artifact.id).value == 2


def test_yaml_config(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"""
blobstores:
    disk:
        type: disk
        cachedir: {tmp_path / "artifacts"}
        read: True
        write: True
        delete: True
artifact_repos:
    local:
        type: sqlite
        db: sqlite:///{tmp_path / "meta.db"}
        store: 'disk'
        read: True
        write: True
        delete: True
default_repo: local
check_mutations: true
"""
    )
    config = p.load_yaml_config(str(cfg))
    assert isinstance(config, p.Config)
    assert p.get_check_mutations() is True
    assert p.get_default_repo() is p.get_repo_by_name("local")
    assert p.get_default_repo().store.cachedir == str(tmp_path / "artifacts")


def test_from_config_does_not_install(tmp_path, sqlite_config):
    config = p.from_config(sqlite_config)
    assert set(config.repos) == {"local"}
    assert p.current_config()["artifact_repos"]["local"]["type"] == "sqlite"  # the embedded default
    assert p.get_default_repo() is not config.repos["local"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c["blobstores"]["disk"].update(type="floppy"), "unknown blobstore type 'floppy'"),
        (lambda c: c["blobstores"]["disk"].pop("cachedir"), r"blobstores.disk: missing required key\(s\) 'cachedir'"),
        (lambda c: c["blobstores"]["disk"].update(cachdir="/x"), r"blobstores.disk: unknown key\(s\) 'cachdir'"),
        (lambda c: c["artifact_repos"]["local"].update(store="nope"), "store 'nope' is not a configured blobstore"),
        (lambda c: c["artifact_repos"]["local"].pop("db"), r"artifact_repos.local: missing required key\(s\) 'db'"),
        (lambda c: c["artifact_repos"]["local"].update(type="oracle"), "unknown artifact repo type 'oracle'"),
        (lambda c: c.update(default_repo="other"), "default_repo 'other' is not a configured artifact repo"),
        (lambda c: c.update(blobstore={}), r"unknown top-level key\(s\) 'blobstore'"),
        (lambda c: c["artifact_repos"]["local"].update(db="not a url"), "db must be a database URL"),
        (lambda c: c["blobstores"]["disk"].update(on_duplicate_key="ignore"), "on_duplicate_key must be"),
        (lambda c: c.update(use_cache="yes"), "use_cache must be true or false"),
    ],
)
def test_bad_configs_fail_at_load_time_with_a_clear_error(sqlite_config, mutate, message):
    mutate(sqlite_config)
    with pytest.raises(p.ConfigError, match=message):
        p.load_config(sqlite_config)


@pytest.mark.parametrize(
    ("kind", "module", "extra", "spec"),
    [
        ("s3", "s3fs", "s3", {"basepath": "bucket/x"}),
        ("sftp", "sshfs", "sftp", {"basepath": "/x", "ssh_config": {"hostname": "h"}}),
        ("gs", "gcsfs", "gs", {"bucket": "b"}),
    ],
)
def test_missing_optional_dependency_names_the_extra(sqlite_config, monkeypatch, kind, module, extra, spec):
    import sys

    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    sqlite_config["blobstores"]["disk"] = {"type": kind, **spec}
    with pytest.raises(p.ConfigError, match=rf"pip install 'provkit\[{extra}\]'"):
        p.load_config(sqlite_config)


def test_chained_store_config_checks_names_and_cycles(sqlite_config):
    sqlite_config["blobstores"]["both"] = {"type": "chained", "stores": ["disk", "nope"]}
    with pytest.raises(p.ConfigError, match=r"blobstores.both: stores \['nope'\] are not configured"):
        p.load_config(sqlite_config)
    sqlite_config["blobstores"]["both"] = {"type": "chained", "stores": ["loop"]}
    sqlite_config["blobstores"]["loop"] = {"type": "chained", "stores": ["both"]}
    with pytest.raises(p.ConfigError, match="cycle"):
        p.load_config(sqlite_config)


def test_a_failed_load_keeps_the_previous_config(sqlite_config):
    p.load_config(sqlite_config)
    before = p.get_default_repo()
    with pytest.raises(p.ConfigError):
        p.load_config({"artifact_repos": {"x": {"type": "nope"}}})
    assert p.get_default_repo() is before


def test_set_default_repo_and_using_repo(sqlite_config):
    sqlite_config["blobstores"]["mem"] = {"type": "memory"}
    sqlite_config["artifact_repos"]["scratch"] = {"type": "memory", "store": "mem"}
    p.load_config(sqlite_config)
    local, scratch = p.get_repo_by_name("local"), p.get_repo_by_name("scratch")

    @p.provenance()
    def f(a):
        return a

    with p.using_repo("scratch") as repo:
        assert repo is scratch and p.get_default_repo() is scratch
        r = f(1)
    assert p.get_default_repo() is local
    assert scratch.lookup(r.artifact.id) is not None and local.lookup(r.artifact.id) is None
    p.set_default_repo("scratch")
    assert p.get_default_repo() is scratch
    with pytest.raises(p.ConfigError, match="no artifact repo named 'nope'"):
        p.set_default_repo("nope")


def test_switch_setters_reject_non_bools():
    with pytest.raises(TypeError):
        p.set_use_cache("no")
    with pytest.raises(TypeError):
        p.set_check_mutations(1)
