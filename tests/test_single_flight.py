"""Single-flight across processes (issue 15): one computation per artifact, no hangs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import provkit as p
from dist_helpers import count
from provkit.core import stats
from provkit.core.errors import ConfigError, SingleFlightTimeoutError
from provkit.services import single_flight
from provkit.services.leases import leases_for

TESTS = Path(__file__).parent
SRC = TESTS.parent / "src"


def _config(kind: str, tmp_path: Path, request: pytest.FixtureRequest, **top: object) -> dict:
    store = {"disk": {"type": "disk", "cachedir": str(tmp_path / "blobs"), "delete": True}}
    if kind == "sqlite":
        repo = {"type": "sqlite", "db": f"sqlite:///{tmp_path / 'db.sqlite'}", "store": "disk", "delete": True}
    else:
        repo = {"type": "postgres", "db": request.getfixturevalue("postgres_url"), "store": "disk", "delete": True}
    return {"blobstores": store, "artifact_repos": {"shared": repo}, "default_repo": "shared", **top}


def _start(config: dict, tmp_path: Path, call: str) -> subprocess.Popen:
    """A fresh interpreter that loads ``config`` and prints json [artifact id, value] of ``call``."""
    path = tmp_path / "provkit.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "PROVKIT_CONFIG": str(path), "PROVKIT_TEST_COUNTS": str(tmp_path / "counts"),
           "PYTHONPATH": os.pathsep.join([str(SRC), str(TESTS)])}  # fmt: skip
    script = f"import json, dist_helpers as h\nr = h.{call}\nprint(json.dumps([r.artifact.id, int(r)]))"
    return subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def _finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, list | None, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, (json.loads(out.strip().splitlines()[-1]) if proc.returncode == 0 else None), err


def _lease_rows(config: dict) -> int:
    p.load_config(config)
    return leases_for(p.get_default_repo()).count()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_n_processes_same_call_compute_once(kind, tmp_path, request):
    config = _config(kind, tmp_path, request)
    procs = [_start(config, tmp_path, "slow_square(7, seconds=1.5)") for _ in range(4)]
    results = [_finish(proc) for proc in procs]
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    assert count(str(tmp_path / "counts"), "slow_square") == 1  # 4 callers, 1 computation
    assert len({tuple(r) for _, r, _ in results}) == 1 and results[0][1][1] == 49
    assert _lease_rows(config) == 0
    assert len(list(p.get_default_repo().artifact_ids())) == 1


def test_single_flight_off_switch_lets_everyone_compute(tmp_path, request):
    config = _config("sqlite", tmp_path, request, single_flight=False)
    procs = [_start(config, tmp_path, "slow_square(8, seconds=1.0)") for _ in range(3)]
    assert all(_finish(proc)[0] == 0 for proc in procs)
    assert count(str(tmp_path / "counts"), "slow_square") == 3  # the old behaviour: everyone computed
    assert len(list(p.from_config(config).repos["shared"].artifact_ids())) == 1


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_killed_holder_lease_expires_and_a_waiter_finishes(kind, tmp_path, request):
    config = _config(kind, tmp_path, request, single_flight_ttl=1.5, single_flight_poll=0.2)
    holder = _start(config, tmp_path, "slow_first(5)")
    deadline = time.monotonic() + 60
    while count(str(tmp_path / "counts"), "slow_first") == 0:  # the holder is computing
        assert time.monotonic() < deadline and holder.poll() is None, holder.stderr.read() if holder.poll() else ""
        time.sleep(0.05)
    waiter = _start(config, tmp_path, "slow_first(5)")
    time.sleep(2.5)  # the waiter is waiting on the live lease (kept alive by heartbeats past its 1.5 s ttl)
    assert waiter.poll() is None and count(str(tmp_path / "counts"), "slow_first") == 1
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    started = time.monotonic()
    code, result, err = _finish(waiter, timeout=60)
    assert code == 0, err
    assert result[1] == 15 and time.monotonic() - started < 20
    assert count(str(tmp_path / "counts"), "slow_first") == 2
    assert _lease_rows(config) == 0  # nothing left locked
    assert len(list(p.get_default_repo().artifact_ids())) == 1


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_raising_holder_releases_and_waiters_recompute(kind, tmp_path, request):
    config = _config(kind, tmp_path, request)
    procs = [_start(config, tmp_path, "fails_once_slowly(1, seconds=1.0)") for _ in range(3)]
    started = time.monotonic()
    results = [_finish(proc, timeout=60) for proc in procs]
    assert time.monotonic() - started < 30  # nobody hung until the 30 s ttl
    failed = [err for code, _, err in results if code != 0]
    assert len(failed) == 1 and "the first computation fails" in failed[0]
    good = [r for code, r, _ in results if code == 0]
    assert len(good) == 2 and good[0] == good[1] and good[0][1] == 101
    assert count(str(tmp_path / "counts"), "fails") == 2  # the failure, then one recomputation
    assert _lease_rows(config) == 0


def test_threads_in_one_process_share_the_memory_repo_lease(memory_repo):
    from concurrent.futures import ThreadPoolExecutor

    runs = []

    @p.provenance()
    def slow(x):
        runs.append(x)
        time.sleep(0.5)
        return x + 1

    stats.reset()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(slow, [1, 1, 1, 1]))
    assert runs == [1] and {r.artifact.id for r in results} == {results[0].artifact.id}
    snap = stats.snapshot("single_flight.")
    assert snap["single_flight.waits"] == 3 and snap["single_flight.wait_seconds"] > 0.5
    assert snap["single_flight.loaded_after_wait"] == 3
    single_flight.flush_releases()  # stored artifacts' leases are given back in the background
    assert leases_for(memory_repo).count() == 0


def test_wait_timeout_raises_naming_the_holder(memory_repo):
    table = leases_for(memory_repo)
    single_flight.set_single_flight(timeout=0.3)
    try:

        @p.provenance(single_flight=True)  # always a lease, however cheap its last computation was
        def never(x):
            return x

        artifact_id = _artifact_id_of(never, 3)
        assert table.try_acquire(artifact_id, "otherhost:1:abc", time.time(), 60)
        with pytest.raises(SingleFlightTimeoutError, match="otherhost:1:abc"):
            never(3)
        table.release(artifact_id, "otherhost:1:abc")
        assert never(3) == 3
    finally:
        single_flight._override.clear()


def _artifact_id_of(fn, *args) -> str:
    p.set_read_only(True)  # computes without storing: only the id is wanted
    try:
        return fn(*args).artifact.id
    finally:
        p.set_read_only(False)


def test_per_function_off_switch_takes_no_lease(memory_repo):
    @p.provenance(single_flight=False)
    def free(x):
        return x

    stats.reset()
    free(1)
    assert stats.get("single_flight.acquired") == 0
    with pytest.raises(ConfigError, match="single_flight"):
        p.provenance(single_flight="yes")(lambda x: x)


def test_bad_single_flight_config_is_refused(sqlite_config):
    with pytest.raises(ConfigError, match="single_flight_ttl"):
        p.load_config({**sqlite_config, "single_flight_ttl": -1})
    with pytest.raises(ConfigError, match="single_flight"):
        p.load_config({**sqlite_config, "single_flight": "no"})


def test_misses_inside_a_batch_take_no_lease_and_do_not_block(sqlite_config):
    p.load_config({**sqlite_config, "single_flight_min_seconds": 0})  # every miss outside a batch leases

    @p.provenance()
    def inc(x):
        return x + 1

    stats.reset()
    started = time.monotonic()
    with p.batch():
        values = [int(inc(i)) for i in range(20)]
    assert values == list(range(1, 21)) and time.monotonic() - started < 10
    assert stats.get("single_flight.acquired") == 0
    inc(100)  # outside the batch: a lease again
    assert stats.get("single_flight.acquired") == 1


@pytest.mark.parametrize("min_seconds, leases", [(None, 1), (0, 5)])
def test_cheap_functions_skip_the_lease_after_their_first_computation(tmp_path, request, min_seconds, leases):
    """A lease costs two small writes: once a function's computation is known to be cheaper
    than single_flight_min_seconds (default 0.05 s), its misses compute without one."""
    top = {} if min_seconds is None else {"single_flight_min_seconds": min_seconds}
    p.load_config(_config("sqlite", tmp_path, request, **top))
    stats.reset()

    @p.provenance(name="sf.cheap")
    def cheap(x):
        return x + 1

    assert [int(cheap(i)) for i in range(5)] == [1, 2, 3, 4, 5]
    assert stats.get("single_flight.acquired") == leases


def test_min_seconds_must_be_a_duration(tmp_path, request):
    with pytest.raises(ConfigError, match="single_flight_min_seconds"):
        p.load_config(_config("sqlite", tmp_path, request, single_flight_min_seconds=-1))


def test_a_result_stored_between_lookup_and_acquire_is_loaded_not_recomputed(memory_repo):
    """A holder may store its result and release its lease right after the caller's lookup
    missed: the caller then gets the lease, and must look again rather than compute."""

    @p.provenance(single_flight=False)  # no lease of our own in the way
    def made(x):
        return x * 2

    stored = made(21)  # as the other process would have stored it
    computed = []
    stats.reset()
    out = single_flight.run(memory_repo, stored.artifact.id, "made", lambda: computed.append(1),
                            lambda artifact: memory_repo.load_value(artifact))  # fmt: skip
    assert out == 42 and computed == []
    assert stats.get("single_flight.found_after_acquire") == 1
    assert leases_for(memory_repo).holder(stored.artifact.id) is None  # released


def test_an_explicit_repository_never_opens_the_embedded_default(tmp_path):
    """Single-flight reads its settings on a miss; without a config that must not build
    (create, or fail on an old schema of) the embedded repository nobody asked for."""
    script = f"""
import provkit as p
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.sql import SqlRepo
repo = SqlRepo("sqlite:///{tmp_path / "own.sqlite"}", DiskStore("{tmp_path / "blobs"}"))

@p.provenance(repo=repo)
def f(x):
    return x + 1

assert f(1) == 2 and f(1) == 2
with p.using_repo(repo):
    assert p.provenance(name="g")(lambda x: x * 3)(2) == 6
"""
    home = tmp_path / "home"
    env = {**os.environ, "PROVKIT_HOME": str(home), "PYTHONPATH": str(SRC)}
    env.pop("PROVKIT_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert not home.exists() or not any(home.iterdir()), sorted(os.listdir(home))
