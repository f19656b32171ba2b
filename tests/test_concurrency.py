"""Concurrent writers and crashes on the embedded default (real processes, real SQLite)."""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import sqlalchemy as sa

import provkit as p

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def _config(root: str) -> dict:
    return {
        "blobstores": {"disk": {"type": "disk", "cachedir": os.path.join(root, "blobs")}},
        "artifact_repos": {"local": {"type": "sqlite", "db": f"sqlite:///{root}/db.sqlite", "store": "disk"}},
    }


def _worker(config: dict, ready, queue) -> None:
    try:
        p.load_config(config)

        @p.provenance(name="shared.compute", single_flight=False)  # every writer computes and races to store
        def compute(n):
            time.sleep(0.05)
            return np.arange(n) * 2

        ready.wait(timeout=120)  # every process imported and configured: all call at once
        result = compute(200_000)
        queue.put(("ok", result.artifact.id, p.hash(result.__wrapped__)))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(("error", repr(exc), ""))


def _run_concurrent_writers(config: dict, n: int = 6) -> list:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    ready = ctx.Barrier(n)  # a start time could pass before a slow spawn finished importing
    procs = [ctx.Process(target=_worker, args=(config, ready, queue)) for _ in range(n)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert all(r[0] == "ok" for r in results), results
    assert len({r[1] for r in results}) == 1 and len({r[2] for r in results}) == 1
    return results


def test_concurrent_writers_of_one_artifact_end_with_one_row(tmp_path):
    # single-flight off: every process computes and races to write (tests/test_single_flight.py has it on)
    results = _run_concurrent_writers({**_config(str(tmp_path)), "single_flight": False})
    engine = sa.create_engine(f"sqlite:///{tmp_path}/db.sqlite")
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from artifacts")).scalar() == 1
        assert conn.execute(sa.text("select count(*) from runs")).scalar() == 6
    p.load_config(_config(str(tmp_path)))
    art = p.load_artifact(results[0][1])
    assert (art.value == np.arange(200_000) * 2).all()


def test_concurrent_writers_on_postgres(tmp_path, postgres_url):
    config = {
        "blobstores": {"disk": {"type": "disk", "cachedir": str(tmp_path / "blobs")}},
        "artifact_repos": {"team": {"type": "postgres", "db": postgres_url, "store": "disk"}},
        "single_flight": False,  # every process computes and races to write
    }
    results = _run_concurrent_writers(config)
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from artifacts")).scalar() == 1
        assert conn.execute(sa.text("select count(*) from runs")).scalar() == 6
    engine.dispose()
    p.load_config(config)
    assert (p.load_artifact(results[0][1]).value == np.arange(200_000) * 2).all()


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    sys.path.insert(0, {src!r})
    import provkit as p
    p.load_config({config!r})

    @p.provenance(name="crash.write")
    def make(i):
        return np.full(300_000 + i, i, dtype="float64")   # ~2.4 MB blobs

    make({start} + 900)  # a first write: the repository is open and warm
    print("writing", flush=True)  # the parent starts its clock here, not at a slow start-up

    i = {start}
    while True:
        make(i)
        i += 1
    """
)


def test_processes_killed_mid_write_leave_a_consistent_repo(tmp_path):
    config = _config(str(tmp_path))
    rng = random.Random(7)
    for round_no in range(6):
        script = _KILLED_WRITER.format(src=SRC, config=config, start=round_no * 1000)
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "writing"
        time.sleep(0.5 + rng.random())
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    p.load_config(config)
    repo = p.get_default_repo()
    ids = list(repo.artifact_ids())
    assert len(ids) > 3, "the writers got some work done before being killed"
    for artifact_id in ids:
        art = repo.get_artifact(artifact_id)
        value = repo.load_value(art)
        assert p.hash(value) == art.value_id, "every row points to a complete, matching blob"
    blobs = os.path.join(str(tmp_path), "blobs")
    for folder in os.listdir(blobs):
        if folder == ".staging":
            continue
        for name in os.listdir(os.path.join(blobs, folder)):
            path = os.path.join(blobs, folder, name)
            if name.startswith("x1") and repo.lookup(name) is None and os.path.getsize(path) > 1_000_000:
                assert np.load(path).size >= 300_000  # an orphan blob (killed before its row) is complete


def _create_repo(root: str, queue) -> None:
    try:
        p.load_config(_config(root))
        queue.put("ok")
    except Exception as exc:
        queue.put(repr(exc))


def test_concurrent_first_opens_create_the_schema_once(tmp_path):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_create_repo, args=(str(tmp_path), queue)) for _ in range(4)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert results == ["ok"] * 4


def test_threads_share_a_repo(any_repo):
    from concurrent.futures import ThreadPoolExecutor

    @p.provenance()
    def square(x):
        return x * x

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: square(i % 10), range(200)))
    assert [int(r) for r in results] == [(i % 10) ** 2 for i in range(200)]
    assert len({r.artifact.id for r in results}) == 10


def _fork_and_use(repo) -> None:
    @p.provenance(repo=repo)
    def f(a):
        return a * 3

    parent_value = f(1)  # opens this process's connections
    pid = os.fork()
    if pid == 0:  # child: must get its own connections, not the parent's
        code = 0
        try:
            assert f(2) == 6 and f(1).artifact.id == parent_value.artifact.id
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert f(2) == 6 and repo.lookup(f(2).artifact.id) is not None
    assert f(3) == 9


def test_fork_gets_fresh_connections_sqlite(tmp_path):
    p.load_config(_config(str(tmp_path)))
    _fork_and_use(p.get_default_repo())


def test_fork_gets_fresh_connections_postgres(tmp_path, postgres_url):
    from provkit.storage.blobstores.disk import DiskStore
    from provkit.storage.repos.sql.postgres import PostgresRepo

    _fork_and_use(PostgresRepo(postgres_url, DiskStore(tmp_path / "b")))
