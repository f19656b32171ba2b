"""Strict configs (issue 12): every key has a type, PROVKIT_CONFIG applies to Python code,
a Postgres ``schema:`` is where upgrades and revision checks happen, ``@p.provenance``."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import sqlalchemy as sa

import provkit as p
from provkit.storage.config import _params
from provkit.storage.repos.sql.schema import HEAD_REVISION

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _store(c):
    return c["blobstores"]["disk"]


def _repo(c):
    return c["artifact_repos"]["local"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: _store(c).update(write="false"), r"blobstores\.disk\.write must be true or false .*'false' \(str\)"),
        (lambda c: _repo(c).update(write="false"), r"artifact_repos\.local\.write must be true or false"),
        (lambda c: _repo(c).update(read=1), r"artifact_repos\.local\.read must be true or false"),
        (lambda c: _repo(c).update(verify="no"), r"artifact_repos\.local\.verify must be true or false"),
        (lambda c: _store(c).update(delete="TRUE"), r"blobstores\.disk\.delete must be true or false"),
        (lambda c: _store(c).update(read_through_write=None), r"blobstores\.disk\.read_through_write must be"),
        (lambda c: _store(c).update(cachedir=123), r"blobstores\.disk\.cachedir must be a folder path .*123 \(int\)"),
        (lambda c: _repo(c).update(inline_max_bytes="abc"), r"artifact_repos\.local\.inline_max_bytes must be a whole"),
        (lambda c: _repo(c).update(inline_max_bytes=-1), r"inline_max_bytes must be a whole number of bytes >= 0"),
        (lambda c: _repo(c).update(inline_max_bytes=True), r"inline_max_bytes must be a whole number"),
        (lambda c: _repo(c).update(engine_options="pool_size=3"), r"artifact_repos\.local\.engine_options must be"),
        (lambda c: _repo(c).update(db=5), r"artifact_repos\.local\.db must be a database URL"),
        (lambda c: _repo(c).update(store=["disk"]), r"artifact_repos\.local\.store must be a blobstore name"),
        (lambda c: _store(c).update(on_duplicate_key=1), r"on_duplicate_key must be one of"),
        (lambda c: c.update(read_only="false"), r"read_only must be true or false"),
        (lambda c: c.update(default_repo=1), r"default_repo must be a repo name"),
    ],
)
def test_every_key_has_a_type(sqlite_config, mutate, message):
    mutate(sqlite_config)
    with pytest.raises(p.ConfigError, match=message):
        p.from_config(sqlite_config)


def test_write_false_as_a_string_never_writes(sqlite_config, tmp_path):
    """The reported bug: ``write: "false"`` was read as true and data got written."""
    _repo(sqlite_config)["write"] = "false"
    with pytest.raises(p.ConfigError, match="write must be true or false"):
        p.load_config(sqlite_config)
    assert not (tmp_path / "db.sqlite").exists(), "nothing was created"
    _repo(sqlite_config)["write"] = True
    p.load_config(sqlite_config).repo("local").artifact_ids()  # an empty repository to open read-only
    _repo(sqlite_config)["write"] = False
    p.load_config(sqlite_config)
    with pytest.raises(p.PermissionDeniedError, match="writing is disabled"):
        p.provenance()(lambda a: a)(1)
    assert list(p.get_default_repo().find({})) == [], "write: false writes nothing"


def test_postgres_keys_are_typed_before_connecting():
    bad = {"type": "postgres", "db": "postgresql://nobody@127.0.0.1:1/x", "store": None, "schema": 5}
    with pytest.raises(p.ConfigError, match=r"artifact_repos\.pg\.schema must be a schema name"):
        p.from_config({"artifact_repos": {"pg": bad}})
    bad = {**bad, "schema": "s", "persistent_connections": "no"}
    with pytest.raises(p.ConfigError, match=r"persistent_connections must be true or false"):
        p.from_config({"artifact_repos": {"pg": bad}})


def test_every_key_a_config_can_reach_has_a_type_and_a_readme_row():
    from provkit.core.config_keys import BOOL_KEYS, KEY_TYPES
    from provkit.storage.blobstores import STORE_TYPES, store_class
    from provkit.storage.config import _REPO_FLAGS, _STORE_FLAGS, _TOP_LEVEL
    from provkit.storage.repos import REPO_TYPES, repo_class

    reachable = set(_TOP_LEVEL) | _STORE_FLAGS | _REPO_FLAGS
    for types, load in ((STORE_TYPES, store_class), (REPO_TYPES, repo_class)):
        for name, target in types.items():
            if target is not None:
                reachable |= _params(load(name))[0]
    reachable -= {"blobstores", "artifact_repos", "name"}
    assert reachable <= set(KEY_TYPES), f"keys without a type in config_keys.py: {sorted(reachable - set(KEY_TYPES))}"
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    table = readme.split("### Every config key", 1)[1].split("\n\n", 2)[1]
    documented = set(re.findall(r"^\| `([a-z0-9_]+)`", table, re.M))
    assert documented == set(KEY_TYPES), (sorted(set(KEY_TYPES) - documented), sorted(documented - set(KEY_TYPES)))
    for key in BOOL_KEYS:
        assert re.search(rf"^\| `{key}` \| [^|]*\| bool", table, re.M), key


def _yaml_config(tmp_path, name="env"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"blobstores:\n  d: {{type: disk, cachedir: {tmp_path / name / 'blobs'}}}\n"
        f"artifact_repos:\n  {name}: {{type: sqlite, db: 'sqlite:///{tmp_path / name / 'meta.db'}', store: d}}\n"
    )
    return path


def test_provkit_config_applies_to_python_code(tmp_path, monkeypatch):
    cfg = _yaml_config(tmp_path)
    script = (
        "import provkit as p\n"
        "f = p.provenance()(lambda a: a + 1)\n"
        "r = f(1)\n"
        "print(p.get_default_repo().name, p.get_default_repo().url)\n"
    )
    env = {**os.environ, "PROVKIT_CONFIG": str(cfg), "PROVKIT_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["env", f"sqlite:///{tmp_path / 'env' / 'meta.db'}"]
    assert not (tmp_path / "home" / "provkit.db").exists(), "the built-in default was not used"

    monkeypatch.setenv("PROVKIT_CONFIG", str(cfg))
    assert p.get_default_repo().name == "env"
    p.load_config(p.config.load_yaml(_yaml_config(tmp_path, "explicit")))
    assert p.get_default_repo().name == "explicit", "an explicit load_config wins over PROVKIT_CONFIG"


def test_provkit_config_naming_a_missing_file_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PROVKIT_CONFIG", str(tmp_path / "nope.yaml"))
    with pytest.raises(p.ConfigError, match=r"config file .*nope\.yaml \(from PROVKIT_CONFIG\) does not exist"):
        p.get_default_repo()
    (tmp_path / "broken.yaml").write_text("a: [1\n")
    monkeypatch.setenv("PROVKIT_CONFIG", str(tmp_path / "broken.yaml"))
    with pytest.raises(p.ConfigError, match="is not valid YAML"):
        p.get_default_repo()


def test_provenance_without_parentheses():
    @p.provenance
    def add(a, b):
        return a + b

    @p.provenance()
    def add2(a, b):
        return a + b

    result = add(1, 2)
    assert result == 3 and result.artifact.name.endswith("add")
    assert add(1, 2).artifact.id == result.artifact.id, "a cache hit"


# ---- a Postgres repository in its own schema: upgrade and revision act on that schema ----


def _old_schema(url: str, schema: str) -> None:
    """A database whose provkit tables live in ``schema`` at revision 0001."""
    from provkit.storage.repos.sql.migrate import upgrade
    from provkit.storage.repos.sql.postgres import create_schema, engine_for

    engine = engine_for(url, schema)
    with engine.begin() as conn:
        create_schema(conn, schema)
        upgrade(conn, "0001")
    engine.dispose()


def _public_tables(url: str) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = conn.execute(sa.text("select tablename from pg_tables where schemaname = 'public'")).scalars().all()
    engine.dispose()
    return sorted(names)


def test_upgrade_db_and_db_revision_act_on_the_repos_schema(postgres_url):
    from provkit.storage.migrations import db_revision
    from provkit.storage.repos.sql.postgres import PostgresRepo

    _old_schema(postgres_url, "team_s")
    with pytest.raises(p.SchemaVersionError, match="revision 0001"):
        PostgresRepo(postgres_url, None, schema="team_s")
    assert db_revision(postgres_url, schema="team_s") == "0001"
    assert db_revision(postgres_url) is None
    assert p.upgrade_db(postgres_url, schema="team_s") == HEAD_REVISION
    assert _public_tables(postgres_url) == [], "nothing was created in public"
    repo = PostgresRepo(postgres_url, None, schema="team_s")
    assert db_revision(repo) == HEAD_REVISION and p.upgrade_db(repo) == HEAD_REVISION
    with pytest.raises(p.ConfigError, match="PostgreSQL only"):
        p.upgrade_db("sqlite:///x.db", schema="team_s")


def test_cli_db_commands_use_the_configured_schema(postgres_url, cli, tmp_path):
    import json

    _old_schema(postgres_url, "team_c")
    cfg = tmp_path / "team.yaml"
    cfg.write_text(
        f"blobstores: {{d: {{type: disk, cachedir: {tmp_path / 'b'}}}}}\n"
        f"artifact_repos: {{team: {{type: postgres, db: '{postgres_url}', store: d, schema: team_c}}}}\n"
    )
    current = json.loads(cli("--config", str(cfg), "db", "current").stdout)
    assert current == {"current": "0001", "expected": HEAD_REVISION, "up_to_date": False, "schema": "team_c"}
    refused = cli("--config", str(cfg), "ls", ok=False)
    assert refused.returncode == 1 and "provkit db upgrade" in refused.stderr and "Traceback" not in refused.stderr
    assert f"upgraded to {HEAD_REVISION}" in cli("--config", str(cfg), "db", "upgrade").stdout
    assert json.loads(cli("--config", str(cfg), "db", "current").stdout)["up_to_date"] is True
    assert _public_tables(postgres_url) == []
    assert cli("--config", str(cfg), "ls").returncode == 0
    by_url = json.loads(cli("db", "current", "--url", postgres_url, "--schema", "team_c").stdout)
    assert by_url["current"] == HEAD_REVISION
