"""Behaviours of the old ``provenance`` library (0.14.1) that a migrating user relies on.

Each test names the numbered item of the compatibility list in the README and runs on
every repository type: memory, SQLite, Postgres (real server) and a chained repo.
"""

from __future__ import annotations

import copy
import os
import pickle

import numpy as np
import pytest

import provkit as p


@pytest.fixture(params=["memory", "sqlite", "postgres", "chained"])
def repo(request, tmp_path):
    """The default repository of each kind, installed through load_config."""
    disk = {"type": "disk", "cachedir": str(tmp_path / "blobs"), "delete": True}
    kind = request.param
    if kind == "memory":
        config = {
            "blobstores": {"mem": {"type": "memory", "delete": True}},
            "artifact_repos": {"r": {"type": "memory", "store": "mem", "delete": True}},
        }
    elif kind == "sqlite":
        config = {
            "blobstores": {"disk": disk},
            "artifact_repos": {"r": {"type": "sqlite", "db": f"sqlite:///{tmp_path}/db.sqlite", "store": "disk"}},
        }
    elif kind == "postgres":
        url = request.getfixturevalue("postgres_url")
        config = {
            "blobstores": {"disk": disk},
            "artifact_repos": {"r": {"type": "postgres", "db": url, "store": "disk", "delete": True}},
        }
    else:
        config = {
            "blobstores": {"disk": disk, "mem": {"type": "memory", "delete": True}},
            "artifact_repos": {
                "near": {"type": "memory", "store": "mem", "delete": True},
                "far": {"type": "sqlite", "db": f"sqlite:///{tmp_path}/far.sqlite", "store": "disk"},
                "r": {"type": "chained", "repos": ["near", "far"]},
            },
        }
    config["default_repo"] = "r"
    p.load_config(config)
    return p.get_default_repo()


def _write(path, data: bytes) -> str:
    with open(path, "wb") as fh:
        fh.write(data)
    return str(path)


# ---- paths, files, archive_file ------------------------------------------------------


def test_01_str_of_archived_file_is_the_stored_path(repo, tmp_path):
    src = _write(tmp_path / "table.csv", b"a,b\n1,2\n")
    proxy = p.archive_file(src, delete_original=True)
    assert not os.path.exists(src)
    path = str(proxy)
    assert os.path.isabs(path) and os.path.exists(path) and path != src
    with open(str(proxy), "rb") as fh:
        assert fh.read() == b"a,b\n1,2\n"
    assert str(proxy.__wrapped__) == path
    pd = pytest.importorskip("pandas")
    assert pd.read_csv(str(p.load_proxy(proxy.artifact.id)))["b"].tolist() == [2]


@pytest.mark.parametrize(("name", "ext"), [("clip.MPEG", ".mpg"), ("photo.JPEG", ".jpg"), ("Data.CSV", ".csv")])
def test_02_preserved_extension_is_canonical(repo, tmp_path, name, ext):
    src = _write(tmp_path / name, b"some bytes")
    proxy = p.archive_file(src, preserve_ext=True)
    assert proxy.artifact.value_id.endswith(ext)
    assert str(proxy).endswith(ext) or os.path.exists(str(proxy))

    @p.provenance(archive_file=True, preserve_file_ext=True)
    def make(n):
        return _write(tmp_path / f"out{n}{name}", b"made %d" % n)

    assert make(1).artifact.value_id.endswith(ext)


def test_03_archive_file_id_is_independent_of_path(repo, tmp_path):
    a = _write(tmp_path / "a.txt", b"same bytes")
    os.mkdir(tmp_path / "sub")
    b = _write(tmp_path / "sub" / "other-name.txt", b"same bytes")
    first, second = p.archive_file(a), p.archive_file(b)
    assert first.artifact.id == second.artifact.id
    assert first.artifact.name == "archive_file"
    assert p.archive_file(a, name="raw").artifact.id != first.artifact.id
    assert p.archive_file(a, custom_fields={"k": 1}).artifact.id != first.artifact.id
    assert p.archive_file(a, preserve_ext=True).artifact.id != first.artifact.id
    c = _write(tmp_path / "c.txt", b"other bytes")
    assert p.archive_file(c).artifact.id != first.artifact.id


# ---- composites ----------------------------------------------------------------------


def test_04_composite_serializer_per_key(repo):
    @p.provenance(returns_composite=True, serializer={"cfg": "json"}, name="split")
    def split(n):
        return {"cfg": {"n": n}, "data": list(range(n))}

    result = split(3)
    cfg, data = result["cfg"], result["data"]
    assert cfg.artifact.serializer == "json" and data.artifact.serializer == "joblib"
    assert cfg.artifact.name == "split_cfg" and data.artifact.name == "split_data"
    assert dict(cfg) == {"n": 3} and list(data) == [0, 1, 2]

    @p.provenance(returns_composite=True, serializer={"arr": "npy"}, load_kwargs={"arr": {"mmap_mode": "r"}})
    def arrays(n):
        return {"arr": np.arange(n, dtype="f8"), "meta": {"n": n}}

    parts = p.load_proxy(arrays(50_000).artifact.id)
    assert parts["arr"].artifact.serializer == "npy" and parts["arr"].artifact.load_kwargs == {"mmap_mode": "r"}
    assert parts["meta"].artifact.load_kwargs is None and parts["meta"] == {"n": 50_000}
    assert float(parts["arr"][-1]) == 49_999.0


def test_04_composite_serializer_dict_with_unknown_name_fails_at_decoration():
    with pytest.raises(ValueError, match="nope"):

        @p.provenance(returns_composite=True, serializer={"a": "nope"})
        def f(n):
            return {"a": n}


def test_05_proxy_of_a_composite_is_a_lazy_dict_of_member_proxies(repo):
    @p.provenance(returns_composite=True)
    def split(n):
        return {"a": n, "b": [n, n]}

    result = split(2)
    for loaded in (p.load_proxy(result.artifact.id), p.load_artifact(result.artifact.id).proxy()):
        assert p.is_proxy(loaded["a"]) and loaded["a"] == 2
        assert p.is_proxy(loaded["b"]) and loaded["b"].artifact.id == result["b"].artifact.id


# ---- errors, serializers, config -------------------------------------------------------


def test_06_unknown_serializer_is_a_value_error_at_decoration():
    with pytest.raises(ValueError, match="no_such_serializer"):

        @p.provenance(serializer="no_such_serializer")
        def f(n):
            return n


def test_06_ensure_proxies_raises_a_value_error_naming_the_parameter(repo):
    @p.ensure_proxies("a")
    def f(a, b):
        return a

    with pytest.raises(ValueError, match="a"):
        f(1, 2)
    with pytest.raises(KeyError):
        p.load_artifact("x1nope")


def test_07_user_serializers_get_real_paths(repo, tmp_path, monkeypatch):
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    seen = []

    class Temp:
        def __init__(self, c):
            self.c = c

    def dump(obj, filename):
        seen.append(filename)
        with open(filename, "w") as fh:
            fh.write(str(obj.c))

    def load(filename):
        seen.append(filename)
        with open(filename) as fh:
            return Temp(float(fh.read()))

    p.register_serializer("temp_text", dump, load, None, None, None, [Temp])

    @p.provenance()
    def t(c):
        return Temp(c)

    assert t(21.5).c == 21.5
    assert p.load_proxy(t(21.5).artifact.id).c == 21.5
    assert p.load_artifact(t(21.5).artifact.id).value.c == 21.5
    assert seen and all(isinstance(f, str) and not f.startswith("<") for f in seen)
    assert os.listdir(workdir) == [], "no files named after in-memory buffers"


def test_08_current_config_is_what_load_config_returned(tmp_path):
    config = p.load_config(
        {
            "blobstores": {"mem": {"type": "memory"}},
            "artifact_repos": {"m": {"type": "memory", "store": "mem"}},
            "default_repo": "m",
        }
    )
    assert p.current_config() is config


@pytest.mark.parametrize("member", ["memory", "sqlite", "postgres"])
def test_09_read_through_write_on_every_repo_type(tmp_path, request, member):
    far_spec = {
        "memory": {"type": "memory", "store": "mem"},
        "sqlite": {"type": "sqlite", "db": f"sqlite:///{tmp_path}/far.sqlite", "store": "disk"},
        "postgres": {"type": "postgres", "store": "disk"},
    }[member]
    near = {k: v for k, v in far_spec.items()}
    if member == "postgres":
        far_spec["db"] = request.getfixturevalue("postgres_url")
        near = {"type": "postgres", "store": "disk2", "db": _another_database(far_spec["db"])}
    elif member == "sqlite":
        near["db"] = f"sqlite:///{tmp_path}/near.sqlite"
        near["store"] = "disk2"
    else:
        near["store"] = "mem2"
    stores = {
        "mem": {"type": "memory"},
        "mem2": {"type": "memory"},
        "disk": {"type": "disk", "cachedir": str(tmp_path / "far")},
        "disk2": {"type": "disk", "cachedir": str(tmp_path / "near")},
    }
    copying = dict(near, read_through_write=True)
    keeping = dict(near, read_through_write=False)
    if member == "sqlite":
        keeping["db"] = f"sqlite:///{tmp_path}/keep.sqlite"
    elif member == "postgres":
        keeping["db"] = _another_database(far_spec["db"])
    elif member == "memory":
        keeping["store"] = "mem"
    config = p.load_config(
        {
            "blobstores": stores,
            "artifact_repos": {
                "far": far_spec,
                "copying": copying,
                "keeping": keeping,
                "chain": {"type": "chained", "repos": ["keeping", "copying", "far"]},
            },
            "default_repo": "far",
        }
    )
    assert config.repo("copying").read_through_write is True
    assert config.repo("keeping").read_through_write is False

    @p.provenance()
    def f(x):
        return x * 2

    made = f(21)
    chain = p.get_repo_by_name("chain")
    assert chain.get_artifact(made.artifact.id).value == 42
    assert p.get_repo_by_name("copying").lookup(made.artifact.id) is not None
    assert p.get_repo_by_name("keeping").lookup(made.artifact.id) is None


def _another_database(url: str) -> str:
    """A fresh database on the same PostgreSQL server as ``url``."""
    import uuid

    import sqlalchemy as sa

    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


# ---- use_cache=False -------------------------------------------------------------------


def test_10_use_cache_false_never_overwrites_the_cached_artifact(repo):
    calls = []

    @p.provenance()
    def cached(x):
        calls.append(x)
        return [x, len(calls)]

    @p.provenance(use_cache=False, name=cached.__wrapped__.__module__ + "." + cached.__wrapped__.__qualname__)
    def fresh(x):
        calls.append(x)
        return [x, len(calls)]

    first = cached(1)
    again = fresh(1)
    assert len(calls) == 2 and again.artifact.id != first.artifact.id
    assert list(p.load_proxy(again.artifact.id)) == [1, 2]
    assert list(p.load_proxy(first.artifact.id)) == [1, 1], "the cached artifact is untouched"
    assert list(cached(1)) == [1, 1] and len(calls) == 2


def test_10_use_cache_false_composite_members_get_distinct_ids(repo):
    @p.provenance(returns_composite=True, name="parts")
    def cached(x):
        return {"a": x}

    @p.provenance(returns_composite=True, name="parts", use_cache=False)
    def fresh(x):
        return {"a": x}

    first, again = cached(1), fresh(1)
    assert again.artifact.id != first.artifact.id
    assert again["a"].artifact.id != first["a"].artifact.id
    assert p.load_proxy(first["a"].artifact.id) == 1


# ---- proxies, lazy dicts, sets -----------------------------------------------------------


def test_11_grouping_only_lists_shared_names(repo):
    @p.provenance(name="model")
    def model(n):
        return n

    @p.provenance(name="report")
    def report(n):
        return str(n)

    with p.capture_set("run") as capture:
        model(1), model(2), report(3)
    grouped = capture[0].proxy_dict(group_artifacts_of_same_name=True)
    assert sorted(grouped["model"]) == [1, 2]
    assert p.is_proxy(grouped["report"]) and grouped["report"] == "3"
    lazy = p.lazy_proxy_dict(list(capture[0].artifact_ids), group_artifacts_of_same_name=True)
    assert p.is_proxy(lazy["report"]) and isinstance(lazy["model"], list)


def test_12_lazy_proxy_dict_of_a_dict(repo):
    @p.provenance()
    def f(n):
        return n * 10

    a, b = f(1), f(2)
    lazy = p.lazy_proxy_dict({"first": a.artifact, "second": b.artifact.id})
    assert sorted(lazy) == ["first", "second"]
    assert lazy["first"] == 10 and lazy["second"].artifact.id == b.artifact.id


def test_13_proxy_of_an_iterator_supports_next(repo):
    @p.provenance(serializer="cloudpickle")
    def counter(n):
        return iter(range(n))

    it = counter(3)
    assert next(it) == 0 and next(it) == 1 and list(it) == [2]


def test_14_copies_of_a_proxy_are_proxies(repo):
    @p.provenance()
    def f(n):
        return {"values": [n]}

    proxy = f(1)
    for copied in (copy.copy(proxy), copy.deepcopy(proxy)):
        assert p.is_proxy(copied) and copied.artifact.id == proxy.artifact.id
        assert copied == {"values": [1]} and copied.__wrapped__ is not proxy.__wrapped__
    deep = copy.deepcopy(proxy)
    deep["values"].append(2)
    assert proxy["values"] == [1]


def test_15_lazy_dict_hash_is_stable_and_mutable(repo):
    @p.provenance(returns_composite=True)
    def split(n):
        return {"a": n, "b": n + 1}

    @p.provenance()
    def use_a(parts):
        return parts["a"] * 2

    parts = split(1)
    before = p.hash(parts)
    assert use_a(parts) == 2, "reading a member is not a mutation"
    assert p.hash(parts) == before
    loaded = p.load_proxy(parts.artifact.id)
    assert p.hash(loaded) == before
    lazy = p.lazy_dict({"x": lambda: 1, "y": lambda: 2})
    h = p.hash(lazy)
    assert lazy["x"] == 1 and p.hash(lazy) == h
    lazy["z"] = 3
    del lazy["y"]
    assert dict(lazy) == {"x": 1, "z": 3}
    assert p.hash(lazy) == p.hash({"x": 1, "z": 3})


def test_16_capture_set_records_loaded_artifacts(repo):
    @p.provenance()
    def f(n):
        return n

    a, b = f(1), f(2)
    with p.capture_set("loaded") as capture:
        p.load_artifact(a.artifact.id)
        p.load_proxy(b.artifact.id)
    assert capture[0].artifact_ids == {a.artifact.id, b.artifact.id}


def test_17_set_labels_fn_gets_bound_keyword_arguments(repo):
    received = []

    def labels(**kwargs):
        received.append(kwargs)
        return {"name": f"run-{kwargs['a']}-{kwargs['y']}"}

    @p.provenance()
    def g(a):
        return a

    @p.provenance_set(set_labels_fn=labels)
    def run(a, b, y=10):
        g(a)

    result = run(2, 5)
    assert received == [{"a": 2, "b": 5, "y": 10}]
    assert result.name == "run-2-10"


def test_18_artifact_sets_pickle_and_can_be_returned(repo):
    @p.provenance()
    def g(a):
        return a

    s = p.create_set([g(1)], labels={"name": "s"})
    again = pickle.loads(pickle.dumps(s))
    assert again.id == s.id and again.artifact_ids == s.artifact_ids and again.labels == s.labels

    @p.provenance()
    def make_set(n):
        return p.create_set([g(n)], labels=f"set-{n}")

    made = make_set(3)
    assert isinstance(made.__wrapped__, p.ArtifactSet)
    assert p.load_proxy(made.artifact.id).id == made.id


def test_19_derived_sets_carry_only_the_labels_passed(repo):
    @p.provenance()
    def g(a):
        return a

    labels = {"name": "eval", "stage": "qa"}
    s = p.create_set([g(1)], labels=labels)
    extra = g(2)
    derived = [s.add(extra), s.remove(g(1)), s.union([extra]), s.difference([extra]), s.intersection([g(1)])]
    derived += [s | p.create_set([extra]), s - p.create_set([extra]), s & p.create_set([g(1)])]
    assert all(d.labels == {} for d in derived)
    assert p.load_set_by_labels(labels).id == s.id
    assert s.add(extra, labels={"name": "more"}).labels == {"name": "more"}
    assert p.load_set_by_name("more").artifact_ids == {g(1).artifact.id, extra.artifact.id}


def test_20_submodules_are_attributes_after_import():
    import subprocess
    import sys

    code = "import provkit as p; p.lineage.ancestors; p.vis.visualize_lineage; p.registry.Registry; p.query"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
