"""provkit on a real Dask distributed LocalCluster with process workers (issue 15)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import distributed
import pytest

import provkit as p
from dist_helpers import add, count, hit_then_states, loaded_states, nbytes_of, ones, slow_on_first_worker, total
from provkit.core.lazy_proxies import proxy_is_loaded
from provkit.interfaces import dask as pdask


def _sqlite_config(root: Path, **top: object) -> dict:
    return {
        "blobstores": {"disk": {"type": "disk", "cachedir": str(root / "blobs"), "delete": True}},
        "artifact_repos": {
            "shared": {"type": "sqlite", "db": f"sqlite:///{root / 'db.sqlite'}", "store": "disk", "delete": True}
        },
        "default_repo": "shared",
        **top,
    }


@pytest.fixture
def counts(tmp_path, monkeypatch):
    path = tmp_path / "counts"
    monkeypatch.setenv("PROVKIT_TEST_COUNTS", str(path))  # before the workers start: they inherit it
    return str(path)


@pytest.fixture
def client(counts):
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _pipeline(submit_map: tuple | None) -> object:
    """add -> inc map -> total, on the cluster (``(client,)``) or locally (None)."""
    if submit_map is None:
        firsts = [add(i, 1) for i in range(4)]
        return total(firsts)
    (client,) = submit_map
    firsts = client.map(add, range(4), [1] * 4)
    return client.submit(total, firsts).result()


def _no_lease_left(repo) -> None:
    """The worker that finished gives its lease back in the background: soon none is left."""
    from provkit.services.leases import leases_for

    deadline = time.monotonic() + 10
    table = leases_for(repo)
    while table.count():
        if time.monotonic() > deadline:
            import sqlalchemy as sa

            from provkit.services.leases_sql import leases

            with table.engine.connect() as conn:
                rows = conn.execute(sa.select(leases)).all()
            raise AssertionError(f"leases left: {rows} (now {time.time()})")
        time.sleep(0.1)


def _lineage(result) -> dict:
    repo = result.artifact.repo
    out = {}
    for artifact_id in [result.artifact.id, *result.artifact.input_artifact_ids]:
        artifact = repo.get_artifact(artifact_id)
        out[artifact_id] = (artifact.name, list(artifact.input_artifact_ids), artifact.value_id)
    return out


def test_submit_and_map_on_process_workers_match_a_local_run(client, counts, tmp_path):
    p.load_config(_sqlite_config(tmp_path / "cluster"))
    pdask.setup(client)
    remote = _pipeline((client,))
    assert int(remote) == 10
    assert count(counts, "add") == 4 and count(counts, "total") == 1
    workers = {e.split()[1] for e in Path(counts).read_text().splitlines()}
    assert os.getpid() not in {int(w) for w in workers}  # computed on the workers, not here
    run = remote.artifact.run_info
    assert run["dask"]["key"].startswith("total-") and run["dask"]["worker"].startswith("tcp://")
    assert run["dask"]["host"] == run["host"]["nodename"]
    # one run record per worker process, shared by its tasks; each artifact keeps its task key
    repo = p.get_default_repo()
    made = [repo.get_artifact(i) for i in [remote.artifact.id, *remote.artifact.input_artifact_ids]]
    assert len({a.task_key for a in made}) == 5 and all(a.task_key.startswith(("add-", "total-")) for a in made)
    assert len({a.run_id for a in made}) <= 2 and all(a.run_info["dask"]["key"] == a.task_key for a in made)
    # futures of decorated results as arguments, and a function defined here (cloudpickled)

    @p.provenance()
    def double(x):
        return x * 2

    doubled = client.submit(double, client.submit(add, 20, 1)).result()
    assert int(doubled) == 42 and doubled.artifact.input_artifact_ids == [add(20, 1).artifact.id]
    import dask

    delayed_total = dask.delayed(total)([dask.delayed(add)(i, 1) for i in range(4)]).compute()  # on the cluster
    assert delayed_total.artifact.id == remote.artifact.id
    # the same pipeline run locally against another repository: identical lineage
    cluster_lineage = _lineage(remote)
    p.load_config(_sqlite_config(tmp_path / "local"))
    local = _pipeline(None)
    assert _lineage(local) == cluster_lineage


def test_config_reaches_workers_from_provkit_config_file(client, counts, tmp_path):
    import importlib

    import yaml

    assert importlib.import_module("provkit.dask") is pdask  # the documented name

    config = _sqlite_config(tmp_path / "from-yaml")
    path = tmp_path / "provkit.yaml"
    path.write_text(yaml.safe_dump(config))
    sent = pdask.setup(client, str(path))
    assert sent == config
    p.load_config(config)
    result = client.submit(add, 2, 3).result()
    assert p.get_default_repo().lookup(result.artifact.id) is not None  # stored where the YAML says
    with pytest.raises(p.ConfigError, match=r"unknown artifact repo type 'nope'"):
        pdask.setup(client, {"artifact_repos": {"x": {"type": "nope"}}})


def test_results_move_between_workers_as_references(client, counts, tmp_path):
    p.load_config(_sqlite_config(tmp_path))
    pdask.setup(client)
    first, second = list(client.scheduler_info()["workers"])
    size = 32 * 2**20
    produced = client.submit(ones, size, workers=[first])
    measured = client.submit(nbytes_of, produced, workers=[second]).result()
    assert int(measured) == size
    # what Dask sent between the workers: the reference, not the 32 MiB value
    proxy = produced.result()
    from distributed.protocol import serialize_bytelist

    assert sum(len(frame) for frame in serialize_bytelist(proxy)) < 4096
    assert count(counts, "ones") == 1  # the second worker loaded it from the repository


def test_upstream_results_reach_workers_unloaded(client, counts, tmp_path):
    """A proxy unpickled on a worker is a lazy reference: Dask storing it, sizing it and
    handing it to a task, or a downstream hit, never loads the value."""
    p.load_config(_sqlite_config(tmp_path))
    pdask.setup(client)
    first, second = list(client.scheduler_info()["workers"])
    produced = client.submit(ones, 8 * 2**20, workers=[first])
    assert int(client.submit(nbytes_of, produced, workers=[first]).result()) == 8 * 2**20  # stored for the hit below
    assert client.submit(loaded_states, produced, workers=[second], pure=False).result() == [False]
    assert client.submit(hit_then_states, nbytes_of, produced, workers=[second], pure=False).result() == (False, True)
    result = produced.result()  # on the client too
    assert not proxy_is_loaded(result) and int(result.nbytes) == 8 * 2**20 and proxy_is_loaded(result)
    assert count(counts, "ones") == 1 and count(counts, "nbytes_of") == 1


def test_killed_worker_mid_task_retried_elsewhere_one_row_no_orphan_blobs(client, counts, tmp_path):
    p.load_config(_sqlite_config(tmp_path, single_flight_ttl=1.5, single_flight_poll=0.2))
    pdask.setup(client)
    future = client.submit(slow_on_first_worker, 4)
    pid_file = Path(counts + ".pid")
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the worker process, mid-task
    result = future.result(timeout=120)
    assert int(result) == 40
    assert count(counts, "slow_on_first_worker") == 2  # killed once, retried once
    repo = p.get_default_repo()
    ids = list(repo.artifact_ids())
    assert ids == [result.artifact.id]  # exactly one row
    referenced = set()
    for artifact_id in ids:
        artifact = repo.get_artifact(artifact_id)
        referenced |= {artifact.value_id, artifact.id}
    blobs = {path.name for path in (tmp_path / "blobs").rglob("*") if path.is_file() and not path.name.startswith(".")}
    assert blobs <= referenced  # no orphan blob
    _no_lease_left(repo)


def test_postgres_and_s3_killed_worker_one_row_no_orphan_blobs(client, counts, tmp_path, postgres_url, s3_bucket):
    import s3fs

    basepath = f"{s3_bucket['bucket']}/artifacts"
    config = {
        "blobstores": {
            "s3": {
                "type": "s3",
                "basepath": basepath,
                "endpoint_url": s3_bucket["endpoint_url"],
                "s3_config": s3_bucket["s3_config"],
                "delete": True,
            },
        },
        "artifact_repos": {
            "team": {"type": "postgres", "db": postgres_url, "store": "s3", "delete": True, "inline_max_bytes": 0}
        },
        "default_repo": "team",
        "single_flight_ttl": 1.5,
        "single_flight_poll": 0.2,
    }
    p.load_config(config)
    pdask.setup(client)
    upstream = client.map(add, [1, 2], [10, 10])
    future = client.submit(slow_on_first_worker, client.submit(total, upstream))
    pid_file = Path(counts + ".pid")
    deadline = time.monotonic() + 90
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    result = future.result(timeout=120)
    assert int(result) == 230
    assert count(counts, "slow_on_first_worker") == 2
    repo = p.get_default_repo()
    ids = sorted(repo.artifact_ids())
    assert len(ids) == 4  # add x2, total, slow: one row each
    referenced = set()
    for artifact_id in ids:
        artifact = repo.get_artifact(artifact_id)
        referenced |= {artifact.value_id, artifact.id}
    fs = s3fs.S3FileSystem(endpoint_url=s3_bucket["endpoint_url"], skip_instance_cache=True, **s3_bucket["s3_config"])
    blobs = {path.rsplit("/", 1)[1] for path in fs.find(basepath)}
    assert blobs and blobs <= referenced  # no orphan blob
    assert result.artifact.input_artifact_ids == [total([add(1, 10), add(2, 10)]).artifact.id]
    _no_lease_left(repo)
