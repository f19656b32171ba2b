"""Decorated functions, artifacts and proxies pickle as lightweight references (issue 15)."""

from __future__ import annotations

import multiprocessing
import pickle
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor

import cloudpickle
import numpy as np
import pytest

import provkit as p
from dist_helpers import add, total


def test_cloudpickle_of_function_bound_to_repo_object(sqlite_config, tmp_path):
    p.load_config(sqlite_config)
    repo = p.get_default_repo()

    @p.provenance(repo=repo)
    def inc(x):
        return x + 1

    data = cloudpickle.dumps(inc)  # failed before: "cannot pickle '_thread._local' object"
    assert len(data) < 20_000
    local_id = inc(41).artifact.id
    # a fresh interpreter with the same config gets the same artifact (hit) from the same repo
    (tmp_path / "fn.pkl").write_bytes(data)
    script = textwrap.dedent(
        f"""
        import json, pickle, provkit as p
        p.load_config(json.loads({__import__("json").dumps(__import__("json").dumps(sqlite_config))}))
        fn = pickle.load(open({str(tmp_path / "fn.pkl")!r}, "rb"))
        print(fn(41).artifact.id, int(fn(41)))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == [local_id, "42"]


def test_proxy_pickles_as_reference_not_value(any_repo):
    @p.provenance()
    def big(n):
        return np.ones(n)

    proxy = big(1_000_000)  # 8 MB of float64
    data = pickle.dumps(proxy)
    assert len(data) < 400
    back = pickle.loads(data)
    assert back.artifact.id == proxy.artifact.id
    assert float(back.sum()) == 1_000_000.0
    assert len(cloudpickle.dumps(proxy)) < 400
    assert len(pickle.dumps(proxy.artifact)) < 400


def test_unpickled_proxy_is_lazy_until_its_value_is_touched(any_repo, monkeypatch):
    from provkit.core.lazy_proxies import proxy_is_loaded
    from provkit.storage.repos.base import Repository

    @p.provenance()
    def big(n):
        return np.ones(n)

    @p.provenance()
    def head(a):
        return float(a[0])

    proxy = big(1000)
    assert float(head(proxy)) == 1.0  # computed now: a hit below
    loads = []
    real = Repository.load_value
    monkeypatch.setattr(
        Repository, "load_value", lambda self, a: loads.append(a.id) or real(self, a)
    )  # a hit loads its own
    back = pickle.loads(pickle.dumps(proxy))
    # what Dask and the decorator do with an argument: none of it loads the value
    assert not proxy_is_loaded(back) and "not loaded" in repr(back)
    assert isinstance(back, np.ndarray) and not isinstance(back, type)  # the class, from its name
    assert p.hash(back) == p.hash(proxy) and back.artifact.id == proxy.artifact.id
    assert float(head(back)) == 1.0  # a hit with it as input
    assert len(pickle.dumps(back)) < 400 and not proxy_is_loaded(pickle.loads(pickle.dumps(back)))
    assert proxy.artifact.id not in loads and not proxy_is_loaded(back)
    assert float(back.sum()) == 1000.0  # touched: loaded once, then kept
    assert back[3] == 1.0 and (back * 2)[0] == 2.0
    assert loads.count(proxy.artifact.id) == 1 and proxy_is_loaded(back)


def test_reference_loads_from_named_repo_when_not_in_default(sqlite_config, tmp_path):
    config = {
        **sqlite_config,
        "blobstores": {**sqlite_config["blobstores"], "mem": {"type": "memory"}},
        "artifact_repos": {**sqlite_config["artifact_repos"], "other": {"type": "memory", "store": "mem"}},
    }
    p.load_config(config)

    @p.provenance(repo="other")
    def word():
        return "hello"

    proxy = word()
    assert p.get_default_repo().lookup(proxy.artifact.id) is None
    back = pickle.loads(pickle.dumps(proxy))
    assert back == "hello" and back.artifact.repo is p.get_repo_by_name("other")


def test_unnamed_repository_refuses_to_pickle_with_clear_error():
    from provkit.storage.repos.memory import MemoryRepo

    repo = MemoryRepo()
    with pytest.raises(TypeError, match="only configured \\(named\\) repositories pickle"):
        pickle.dumps(repo)


def test_spawned_process_pool_runs_decorated_functions(sqlite_config):
    p.load_config(sqlite_config)
    first = add(1, 2)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=ctx, initializer=p.load_config, initargs=(sqlite_config,)) as pool:
        results = list(pool.map(add, [1, 3], [2, 4]))
        summed = pool.submit(total, results).result()  # proxies travel back and forth as references
    assert results[0].artifact.id == first.artifact.id
    assert int(results[1]) == 7
    assert int(summed) == 10
    assert summed.artifact.input_artifact_ids == [r.artifact.id for r in results]
