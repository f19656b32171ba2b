"""Production and working areas (a working registry builds on production datasets, and
lineage crosses the two), and ``alias`` in dataset queries — on memory, SQLite and
PostgreSQL (real server: the two areas are two schemas of one database, as in the DESC
data registry)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

import provkit as p
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.memory import MemoryRepo
from provkit.storage.repos.sql import SqlRepo
from registry_suite import make_file


def _pair(kind: str, tmp_path, request):
    """(working repo, production repo) of one backend."""
    if kind == "memory":
        return MemoryRepo(delete=True), MemoryRepo(delete=True)
    stores = [DiskStore(tmp_path / f"{area}-blobs", delete=True) for area in ("working", "production")]
    if kind == "sqlite":
        return tuple(SqlRepo(f"sqlite:///{tmp_path / f'{a}.sqlite'}", s, delete=True)
                     for a, s in zip(("working", "production"), stores))  # fmt: skip
    from provkit.storage.repos.sql.postgres import PostgresRepo

    url = request.getfixturevalue("postgres_url")
    return tuple(PostgresRepo(url, s, schema=a, delete=True) for a, s in zip(("working", "production"), stores))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def areas(request, tmp_path, monkeypatch):
    """A production registry holding one production dataset, and a working registry
    linked to it."""
    monkeypatch.setenv("PROVKIT_PRODUCTION_USERS", "prod_bot")
    working, production = _pair(request.param, tmp_path, request)
    with p.as_user("prod_bot"):
        prod = p.Registry(production, owner="production", owner_type="production")
        raw = make_file(tmp_path / "in" / "catalog.csv", b"ra,dec\n1,2\n")
        prod_ds = prod.register_dataset("dc2/catalog", "1.0.0", old_location=raw, execution_name="reduce")
        prod.add_alias("catalog-latest", prod_ds)
    with p.as_user("alice"):
        work = p.Registry(working, owner="alice", production=production)
        yield work, prod, prod_ds, tmp_path


def test_a_working_execution_takes_production_inputs_and_lineage_crosses(areas):
    work, prod, prod_ds, tmp_path = areas
    out = make_file(tmp_path / "out" / "shear.csv", b"g1,g2\n0.1,0.2\n")
    stage = work.register_execution("shear", input_datasets=[prod_ds.id])
    mine = work.register_dataset("shear/v1", "1.0.0", old_location=out, execution_id=stage)
    up = p.lineage.ancestors(mine, repo=work.lineage_repo)
    assert up[stage.id] == 1 and up[prod_ds.id] == 2
    assert up[prod_ds.execution_id] == 3  # the production dataset's own execution, in the other area
    down = p.lineage.descendants(prod_ds.id, repo=work.lineage_repo)
    assert down[stage.id] == 1 and down[mine.id] == 2
    assert work.dependents(prod_ds.id) == [stage.id]
    # the production area knows nothing of the working one
    assert [d.id for d in prod.find_datasets()] == [prod_ds.id]
    assert prod.tables.fetch_dataset(mine.id) is None and prod.tables.fetch_execution(stage.id) is None


def test_production_datasets_are_found_and_read_but_never_changed(areas):
    work, prod, prod_ds, tmp_path = areas
    assert work.get_dataset(prod_ds.id).relpath == "dc2/catalog"
    assert work.get_dataset("catalog-latest").id == prod_ds.id  # a production alias resolves too
    assert work.get_execution(prod_ds.execution_id).name == "reduce"
    with open(work.local_path(prod_ds.id, cache=tmp_path / "cache"), "rb") as fh:
        assert fh.read() == b"ra,dec\n1,2\n"
    assert work.fetch(prod_ds.id, tmp_path / "fetched").endswith("catalog")
    mine = work.register_dataset("notes", "1.0.0", location_type="meta_only", input_datasets=[prod_ds])
    assert [d.id for d in work.find_datasets(query_mode="working")] == [mine.id]
    assert [d.id for d in work.find_datasets(query_mode="production")] == [prod_ds.id]
    assert {d.id for d in work.find_datasets()} == {mine.id, prod_ds.id}
    assert [d.id for d in work.find_datasets({"owner_type": "production"})] == [prod_ds.id]
    with pytest.raises(p.RegistryError, match="production area"):
        work.modify_dataset(prod_ds.id, description="not here")
    with pytest.raises(p.RegistryError, match="production area"):
        work.delete_dataset(prod_ds.id)
    with pytest.raises(p.RegistryError, match="query_mode"):
        work.find_datasets(query_mode="everything")
    assert prod.get_dataset(prod_ds.id).description is None and prod.get_dataset(prod_ds.id).status == "valid"


def test_without_a_production_area_production_mode_is_an_error(tmp_path):
    reg = p.Registry(MemoryRepo())
    with pytest.raises(p.RegistryError, match="no production area"):
        reg.find_datasets(query_mode="production")
    with pytest.raises(p.RegistryError, match="another repository"):
        p.Registry(reg.repo, production=reg.repo)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def reg(request, tmp_path):
    working, _ = _pair(request.param, tmp_path, request)
    with p.as_user("alice"):
        yield p.Registry(working, owner="alice")


def test_alias_in_queries_follows_chains_and_history(reg, tmp_path):
    made = [reg.register_dataset(f"t/{i}", "1.0.0", location_type="meta_only", name=f"t{i}") for i in range(3)]
    a, b, c = (d.id for d in made)
    reg.add_alias("v1", a)
    reg.add_alias("latest", "v1")  # an alias of an alias
    reg.add_alias("best", b)
    reg.add_alias("latest", b)  # supersedes: "latest" now leads to b

    def ids(query=None, **filters):
        return sorted(d.id for d in reg.find_datasets(query, **filters))

    assert ids({"alias": "latest"}) == [b]
    assert ids({"alias": "v1"}) == [a]
    assert ids(alias="best") == [b]
    assert ids({"alias": {"$in": ["v1", "best"]}}) == sorted([a, b])
    assert ids({"alias": {"$ne": "latest"}}) == sorted([a, c])
    assert ids({"alias": {"$exists": True}}) == sorted([a, b])
    assert ids({"alias": {"$exists": False}}) == [c]
    assert ids({"alias": {"$regex": "^l"}}) == [b]
    assert ids({"$or": [{"alias": "v1"}, {"name": "t2"}]}) == sorted([a, c])
    assert ids({"alias": "latest", "name": "t0"}) == []
    assert ids({"alias": "nothing"}) == []
    with pytest.raises(p.QueryError):
        reg.find_datasets({"alias": {"$bogus": 1}})


def test_cli_crosses_areas_through_a_chained_default_repo(tmp_path, monkeypatch):
    """A config whose default repo is the chain [working, production (write: false)]."""
    blobs = {a: {"type": "disk", "cachedir": str(tmp_path / a)} for a in ("wb", "pb")}
    repos = {
        "working": {"type": "sqlite", "db": f"sqlite:///{tmp_path / 'w.sqlite'}", "store": "wb"},
        "production": {"type": "sqlite", "db": f"sqlite:///{tmp_path / 'p.sqlite'}", "store": "pb", "write": False},
        "team": {"type": "chained", "repos": ["working", "production"], "read_through_write": False},
    }
    config = tmp_path / "provkit.yaml"
    config.write_text(yaml.safe_dump({"blobstores": blobs, "artifact_repos": repos, "default_repo": "team"}))
    monkeypatch.setenv("PROVKIT_PRODUCTION_USERS", "prod_bot")
    raw = make_file(tmp_path / "in" / "cat.csv", b"x\n1\n")
    production = SqlRepo(f"sqlite:///{tmp_path / 'p.sqlite'}", DiskStore(tmp_path / "pb"))
    with p.as_user("prod_bot"):
        prod_ds = p.Registry(production, owner="production", owner_type="production").register_dataset(
            "cat", "1.0.0", old_location=raw
        )
    env = {**os.environ, "PROVKIT_CONFIG": str(config), "PROVKIT_HOME": str(tmp_path / "home")}

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "provkit", *args], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    ex_id = run("register", "execution", "stage", "--input", prod_ds.id).strip()
    ds_id = json.loads(run("register", "dataset", "mine", "1.0.0", "--old-location", raw, "--execution", ex_id,
                           "--json"))["id"]  # fmt: skip
    assert prod_ds.id[:14] in run("lineage", ds_id, "--depth", "3")
    assert json.loads(run("show", prod_ds.id, "--json"))["relpath"] == "cat"
    listed = {row["id"] for row in json.loads(run("ls", "--datasets", "--json"))}
    assert listed == {prod_ds.id, ds_id}
    # nothing of the working area was written to the production one
    assert p.Registry(production).find_datasets(query_mode="working")[0].id == prod_ds.id
    assert p.Registry(production).tables.fetch_execution(ex_id) is None


def test_cli_ls_datasets_filters_show_their_columns(tmp_path):
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home")}
    env.pop("PROVKIT_CONFIG", None)

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "provkit", *args], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    raw = make_file(tmp_path / "in" / "t.csv", b"a\n1\n")
    ids = {}
    for name, site in (("north", "nersc"), ("south", "slac")):
        out = run("register", "dataset", name, "1.0.0", "--old-location", raw, "--execution-name", f"make-{name}",
                  "--execution-site", site, "--json")  # fmt: skip
        ids[name] = json.loads(out)["id"]
    run("alias", "add", "latest", ids["south"])
    table = run("ls", "--datasets", "--site", "nersc", "--wide")
    assert "site" in table.splitlines()[0] and "nersc" in table and ids["north"][:14] in table
    assert ids["south"][:14] not in table
    rows = json.loads(run("ls", "--datasets", "--alias", "latest", "--execution-name", "make-south", "--json"))
    assert [(r["id"], r["aliases"], r["execution"]) for r in rows] == [(ids["south"], "latest", "make-south")]
    assert json.loads(run("ls", "--datasets", "--alias", "latest", "--site", "nersc", "--json")) == []
    rows = json.loads(run("ls", "--datasets", "--name", "so*", "-c", "location_type", "-c", "site", "--json"))
    assert [(r["id"], r["location_type"], r["site"]) for r in rows] == [(ids["south"], "dataregistry", "slac")]
    table = run("ls", "--datasets", "--name", "*th", "-c", "creation_date", "--wide")
    assert "creation_date" in table.splitlines()[0] and ids["north"][:14] in table and ids["south"][:14] in table
    bad = subprocess.run([sys.executable, "-m", "provkit", "ls", "--datasets", "-c", "nonsense"],
                         capture_output=True, text=True, env=env)  # fmt: skip
    assert bad.returncode != 0 and "unknown dataset column(s) nonsense" in bad.stderr


def test_retracted_and_tainted_in_dataset_queries(reg):
    base = reg.register_dataset("r/base", "1.0.0", location_type="meta_only")
    derived = reg.register_dataset("r/derived", "1.0.0", location_type="meta_only", input_datasets=[base])
    other = reg.register_dataset("r/other", "1.0.0", location_type="meta_only")
    p.retract(base.id, "calibration was wrong", repo=reg.repo)

    def ids(query):
        return {d.id for d in reg.find_datasets(query)}

    assert ids({"retracted": True}) == {base.id}
    assert ids({"tainted": True}) == {base.id, derived.id}
    assert ids({"tainted": False}) == {other.id}
    assert ids({"$or": [{"retracted": True}, {"name": "other"}]}) == {base.id, other.id}
    with pytest.raises(p.QueryError):
        reg.find_datasets({"tainted": "yes"})
