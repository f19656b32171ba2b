"""DESC dataregistry parity: kinds of dataset, modify with history, keywords, aliases,
executions for every dataset, relpath rules and who may change what — on memory, SQLite
and PostgreSQL (real server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

import provkit as p
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.memory import MemoryRepo
from provkit.storage.repos.sql import SqlRepo
from registry_suite import make_file


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def repo(request, tmp_path):
    if request.param == "memory":
        return MemoryRepo(delete=True)
    store = DiskStore(tmp_path / "blobs", delete=True)
    if request.param == "sqlite":
        return SqlRepo(f"sqlite:///{tmp_path / 'db.sqlite'}", store, delete=True)
    from provkit.storage.repos.sql.postgres import PostgresRepo

    return PostgresRepo(request.getfixturevalue("postgres_url"), store, delete=True)


@pytest.fixture
def reg(repo):
    with p.as_user("alice"):
        yield p.Registry(repo, owner="alice")


@pytest.fixture
def src_file(tmp_path):
    return make_file(tmp_path / "one" / "table.csv", b"a,b\n1,2\n")


def test_modify_changes_mutable_fields_and_keeps_the_history(reg, src_file):
    ds = reg.register_dataset("m/t", "1.0.0", old_location=src_file, description="first")
    assert {"description", "url", "keywords", "is_overwritable"} <= set(reg.modifiable_fields())
    assert not {"name", "version", "owner", "relpath"} & set(reg.modifiable_fields())
    done = reg.modify_dataset(ds.id, description="second", contact_email="a@lab.org", is_overwritable="true")
    assert (done.description, done.contact_email, done.is_overwritable) == ("second", "a@lab.org", True)
    again = reg.get_dataset(ds.id)
    assert again.description == "second"
    changes = {(h["field"], h["old"], h["new"], h["by"]) for h in again.history}
    assert ("description", "first", "second", "alice") in changes
    assert ("is_overwritable", False, True, "alice") in changes
    assert all(h["at"] for h in again.history)
    for field, value in (("name", "x"), ("version", "2.0.0"), ("owner", "bob"), ("relpath", "n/p"),
                         ("content_hash", "x")):  # fmt: skip
        with pytest.raises(p.RegistryError, match=f"cannot modify {field}"):
            reg.modify_dataset(ds.id, **{field: value})
    assert reg.get_dataset(ds.id).history == again.history, "a refused modify changes nothing"
    with pytest.raises(p.RegistryError, match="e-mail"):
        reg.modify_dataset(ds.id, contact_email="nobody")


def test_keywords_are_a_managed_vocabulary(reg, src_file):
    assert {"simulation", "calibration"} <= set(reg.keywords())
    with pytest.raises(p.RegistryError, match=r"unknown keyword.*'dc2'"):
        reg.register_dataset("k/a", "1.0.0", old_location=src_file, keywords=["dc2"])
    assert reg.find_datasets(all_statuses=True) == [], "nothing registered on a refused keyword"
    reg.add_keyword("dc2")
    assert "dc2" in reg.keywords()
    ds = reg.register_dataset("k/a", "1.0.0", old_location=src_file, keywords=["dc2"])
    ds = reg.add_keywords(ds, ["simulation"])
    assert ds.keywords == ["dc2", "simulation"]
    assert [d.id for d in reg.find_datasets({"keywords": "simulation"})] == [ds.id]
    ds = reg.remove_keywords(ds, "dc2")
    assert ds.keywords == ["simulation"]
    with pytest.raises(p.RegistryError, match="unknown keyword"):
        reg.add_keywords(ds, ["nope"])
    with pytest.raises(p.RegistryError, match="a keyword is a word"):
        reg.add_keyword("two words")
    with pytest.raises(p.PermissionDeniedError, match="admins"):
        reg.add_keyword("official", system=True)


def test_external_dummy_and_meta_only_datasets(reg, src_file):
    with pytest.raises(p.RegistryError, match="url or a contact_email"):
        reg.register_dataset("e/x", "1.0.0", location_type="external")
    with pytest.raises(p.RegistryError, match="no files to copy"):
        reg.register_dataset("e/x", "1.0.0", location_type="external", url="s3://b/x", old_location=src_file)
    ext = reg.register_dataset("e/x", "1.0.0", location_type="external", url="https://data.lab.org/x.fits",
                               contact_email="pi@lab.org", access_api="astropy",
                               creation_date="2023-04-01T00:00")  # fmt: skip
    assert (ext.location_type, ext.nfiles, ext.location) == ("external", 0, None)
    assert reg.url(ext) == "https://data.lab.org/x.fits"
    assert reg.get_dataset(ext.id).creation_date == datetime(2023, 4, 1, tzinfo=timezone.utc)
    dummy = reg.register_dataset("e/d", "1.0.0", location_type="dummy")
    meta = reg.register_dataset("e/m", "1.0.0", location_type="meta_only", description="just a record")
    found = {d.id for d in reg.find_datasets()}
    assert ext.id in found and meta.id in found and dummy.id not in found, "dummy entries stay out of queries"
    assert dummy.id in {d.id for d in reg.find_datasets(include_dummy=True)}
    assert [d.id for d in reg.find_datasets({"location_type": "dummy"})] == [dummy.id]
    with pytest.raises(p.RegistryError, match="location_type must be one of"):
        reg.register_dataset("e/z", "1.0.0", location_type="cloud")


def test_every_dataset_gets_an_execution_with_the_given_fields(reg, src_file, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("threshold: 0.5\n")
    ds = reg.register_dataset("x/e", "1.0.0", old_location=src_file, execution_name="calibrate",
                              execution_description="nightly", execution_site="nersc",
                              execution_configuration=config)  # fmt: skip
    ex = reg.get_execution(ds.execution_id)
    assert (ex.name, ex.description, ex.site, ex.configuration) == ("calibrate", "nightly", "nersc", "threshold: 0.5\n")
    plain = reg.register_dataset("x/f", "1.0.0", old_location=src_file, name="plain")
    assert reg.get_execution(plain.execution_id).name == "for plain"
    big = tmp_path / "big.txt"
    big.write_text("x" * 20_000)
    with pytest.raises(p.RegistryError, match="configuration is over"):
        reg.register_dataset("x/g", "1.0.0", old_location=src_file, execution_configuration=big)
    # queries reach the execution's fields
    assert [d.id for d in reg.find_datasets({"execution.name": "calibrate"})] == [ds.id]
    assert [d.id for d in reg.find_datasets({"execution.site": {"$regex": "^ner"}})] == [ds.id]


def test_aliases_of_datasets_and_of_aliases_with_history(reg, src_file):
    v1 = reg.register_dataset("a/t", "1.0.0", old_location=src_file, name="table")
    v2 = reg.register_dataset("a/t2", "2.0.0", old_location=src_file, name="table")
    first = reg.add_alias("table-latest", v1)
    assert reg.resolve_alias("table-latest") == v1.id
    reg.add_alias("latest", "table-latest")  # an alias of an alias
    assert reg.resolve_alias("latest", fully=False) == first.id
    assert reg.resolve_alias("latest") == v1.id
    assert reg.get_dataset("latest").id == v1.id, "an alias works wherever a dataset id does"
    reg.add_alias("table-latest", v2.id)  # supersedes; "latest" follows
    assert reg.resolve_alias("latest") == v2.id
    history = reg.find_aliases(name="table-latest", include_superseded=True)
    assert [a.dataset_id for a in history] == [v1.id, v2.id] and history[0].superseded_by == history[1].id
    assert {a.alias for a in reg.find_aliases(v2)} == {"table-latest", "latest"}
    assert reg.find_aliases(v1) == []
    with pytest.raises(p.RegistryError, match="refer to itself"):
        reg.add_alias("table-latest", "latest")
    with pytest.raises(p.RecordNotFoundError):
        reg.resolve_alias("nope")
    with pytest.raises(p.RegistryError, match="not an id"):
        reg.add_alias("ds_0123", v1)
    modified = reg.modify_dataset("latest", description="via alias")
    assert modified.id == v2.id and modified.description == "via alias"


def test_relpaths_forbidden_characters_and_generated_ones(reg, src_file):
    for bad in ("with space/x", "a$b", "q?", "star*", "amp&x"):
        with pytest.raises(p.InvalidKeyError, match="may not"):
            reg.register_dataset(bad, "1.0.0", old_location=src_file)
    ds = reg.register_dataset(None, "1.0.0", old_location=src_file, name="auto")
    assert ds.relpath.startswith("gen_paths/auto/")
    other = reg.register_dataset(None, "patch", old_location=src_file, name="auto")
    assert other.relpath != ds.relpath


def test_only_owners_registrants_or_admins_change_a_dataset(reg, src_file, monkeypatch):
    ds = reg.register_dataset("o/t", "1.0.0", old_location=src_file, is_overwritable=True)
    with p.as_user("mallory"):
        for action in (lambda: reg.modify_dataset(ds.id, description="x"),
                       lambda: reg.replace_dataset(ds.id, src_file),
                       lambda: reg.delete_dataset(ds.id)):  # fmt: skip
            with pytest.raises(p.PermissionDeniedError, match="'mallory' may not"):
                action()
    assert reg.get_dataset(ds.id).status == "valid"
    monkeypatch.setenv("PROVKIT_REGISTRY_ADMINS", "root-admin")
    with p.as_user("root-admin"):
        assert reg.modify_dataset(ds.id, description="by admin").description == "by admin"
    monkeypatch.setenv("PROVKIT_REGISTRY_GROUPS", "survey:bob,carol")
    grp = reg.register_dataset("g/t", "1.0.0", old_location=src_file, owner_type="group", owner="survey")
    with p.as_user("carol"):
        assert reg.modify_dataset(grp.id, description="by member").description == "by member"
    with p.as_user("mallory"), pytest.raises(p.PermissionDeniedError, match="members of 'survey'"):
        reg.delete_dataset(grp.id)


def test_cli_modify_keywords_and_aliases(tmp_path, src_file):
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home")}
    env.pop("PROVKIT_CONFIG", None)

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "provkit", *args], capture_output=True, text=True, env=env)
        assert (done.returncode == 0) == ok, done.stdout + done.stderr
        return done

    run("keyword", "add", "dc2")
    assert "dc2" in run("show", "keywords").stdout
    out = run("register", "dataset", "c/t", "1.0.0", "--old-location", src_file, "--keyword", "dc2", "--json").stdout
    ds_id = json.loads(out)["id"]
    run("dataset", "modify", ds_id, "--set", "description=changed", "--set", "url=https://x.org/t")
    run("alias", "add", "current", ds_id)
    assert run("dataset", "path", "current").stdout.strip().endswith("c/t")
    shown = json.loads(run("show", "current", "--json").stdout)
    assert (shown["id"], shown["description"], shown["url"]) == (ds_id, "changed", "https://x.org/t")
    assert shown["history"][0]["field"] in ("description", "url")
    bad = run("dataset", "modify", ds_id, "--set", "version=9.9.9", ok=False)
    assert "cannot modify version" in bad.stderr
    bad = run("register", "dataset", "c/u", "1.0.0", "--old-location", src_file, "--keyword", "zzz", ok=False)
    assert "unknown keyword" in bad.stderr


def test_empty_folders_survive_and_no_marker_inside_the_dataset(reg, tmp_path):
    src = tmp_path / "tree"
    (src / "data").mkdir(parents=True)
    (src / "data" / "a.txt").write_text("a")
    (src / "empty" / "deeper").mkdir(parents=True)
    ds = reg.register_dataset("f/tree", "1.0.0", old_location=src)
    assert ds.nfiles == 1, "folders are not files"
    got = reg.fetch(ds, tmp_path / "out")
    assert os.path.isdir(os.path.join(got, "empty", "deeper"))
    local = reg.local_path(ds, cache=tmp_path / "cache")
    assert sorted(os.listdir(local)) == ["data", "empty"], "a stage reading the folder sees only the data"
    assert reg.local_path(ds, cache=tmp_path / "cache") == local
