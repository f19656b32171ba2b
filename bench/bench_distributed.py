"""provkit on Dask distributed and across processes (issue 15), as ratios from one run.

1. 200 independent decorated ~50 ms tasks on a 2-worker LocalCluster vs the same calls
   serially (target >= 1.6x faster); then the same 200 again (all hits): per-task wall
   time vs a bare ``client.submit`` of an undecorated function returning the same value
   (target <= 2x).
2. A 256 MiB result passed to a downstream task on the other worker: bytes through the
   comm (target <= 1 MiB), measured as the frames Dask's protocol makes of the result
   and as loopback traffic during the transfer (Dask's own transfer log counts ``sizeof``
   of the objects, which for a proxy is its value's, not the bytes on the wire).
3. 8 processes x the same 2 s call: total wall time vs one call (target <= 1.5x), SQLite
   and PostgreSQL; and the miss/hit cost of single-flight (on vs off, interleaved).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, HERE)
SRC = os.path.join(HERE, "..", "src")

import numpy as np  # noqa: E402

import provkit as p  # noqa: E402
from _common import fmt_time, interleaved  # noqa: E402


@p.provenance()
def work(i: int) -> int:
    time.sleep(0.05)
    return i * 2


def bare(i: int) -> int:
    return i * 2


@p.provenance()
def big(n: int):
    return np.ones(n, dtype=np.uint8)


@p.provenance()
def size_of(array) -> int:
    return int(array.nbytes)


def line(label: str, value: str, target: str) -> None:
    print(f"{label:<58} {value:>26}  (target {target})")


def _config(root: str, db: str | None = None) -> dict:
    return {
        "blobstores": {
            "disk": {"type": "disk", "cachedir": os.path.join(root, "blobs"), "delete": True, "fsync": False}
        },
        "artifact_repos": {
            "shared": {
                "type": "postgres" if db else "sqlite",
                "db": db or f"sqlite:///{root}/db.sqlite",
                "store": "disk",
                "delete": True,
            }
        },
        "default_repo": "shared",
    }


def bench_cluster(root: str) -> None:
    import provkit.dask as pdask
    import psutil
    from distributed import Client, LocalCluster
    from distributed.protocol import serialize_bytelist

    p.load_config(_config(os.path.join(root, "cluster")))
    t0 = time.perf_counter()
    for i in range(200):
        bare(i)
        time.sleep(0.05)  # the same work, serially, undecorated
    serial = time.perf_counter() - t0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:  # fmt: skip
        pdask.setup(client)
        # warm the workers: imports, run info, the repository's connections (a pipeline pays this once)
        client.gather(client.map(work, [-1, -2], workers=None))
        client.gather(client.map(bare, range(-10, 0)))
        t0 = time.perf_counter()
        client.gather(client.map(work, range(200)))
        first = time.perf_counter() - t0
        line("200 x 50 ms tasks, 2 workers vs serial", f"{serial / first:.2f}x faster", ">= 1.6x")
        hits, plain = [], []
        for round_ in range(3):
            t0 = time.perf_counter()
            client.gather(client.map(work, range(200), key=[f"work-hit-{round_}-{i}" for i in range(200)]))
            hits.append((time.perf_counter() - t0) / 200)
            t0 = time.perf_counter()
            client.gather(client.map(bare, range(200), key=[f"bare-{round_}-{i}" for i in range(200)]))
            plain.append((time.perf_counter() - t0) / 200)
        hit, bare_t = sorted(hits)[1], sorted(plain)[1]
        line("  again, all hits: per task vs bare client.submit", f"{fmt_time(hit)} / {fmt_time(bare_t)} = "
             f"{hit / bare_t:.2f}", "<= 2")  # fmt: skip

        first_worker, second_worker = list(client.scheduler_info()["workers"])
        produced = client.submit(big, 256 * 2**20, workers=[first_worker])
        produced.result()  # computed and stored; the proxy (256 MiB value) stays on the first worker
        frames = sum(len(f) for f in serialize_bytelist(client.submit(big, 1, workers=[first_worker]).result()))
        before = psutil.net_io_counters(pernic=True)["lo"].bytes_sent
        size = client.submit(size_of, produced, workers=[second_worker]).result()
        on_wire = psutil.net_io_counters(pernic=True)["lo"].bytes_sent - before
        assert int(size) == 256 * 2**20
        logged = sum(sum(e["keys"].values()) for log in client.run(lambda dask_worker: list(
            dask_worker.transfer_incoming_log)).values() for e in log)  # fmt: skip
        line("256 MiB result to a task on the other worker: loopback", f"{on_wire / 2**20:.3f} MiB", "<= 1 MiB")
        line("  Dask protocol frames of a result proxy", f"{frames} bytes", "<= 1 MiB")
        line("  (Dask's transfer log, sizeof of what moved)", f"{logged / 2**20:.1f} MiB", "none")


def _many(config: dict, root: str, n: int, seconds: float, kind: str) -> float:
    import yaml

    path = os.path.join(root, f"provkit-{kind}-{n}.yaml")
    with open(path, "w") as fh:
        yaml.safe_dump(config, fh)
    env = {**os.environ, "PROVKIT_CONFIG": path, "PROVKIT_TEST_COUNTS": os.path.join(root, f"counts-{kind}-{n}"),
           "PYTHONPATH": os.pathsep.join([SRC, os.path.join(HERE, "..", "tests")])}  # fmt: skip
    script = "import sys, provkit, dist_helpers as h; provkit.get_default_repo(); print('ready', flush=True); "
    script += f"sys.stdin.readline(); h.slow_square({n}, seconds={seconds}); print('done', flush=True)"
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True) for _ in range(n)]  # fmt: skip
    for proc in procs:  # every process has started and opened the repository
        assert proc.stdout.readline().strip() == "ready"
    t0 = time.perf_counter()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:  # the calls' wall time: until every process has its result (not its exit)
        if proc.stdout.readline().strip() != "done":
            raise RuntimeError("a benchmark process failed")
    elapsed = time.perf_counter() - t0
    for proc in procs:
        proc.wait()
    with open(env["PROVKIT_TEST_COUNTS"]) as fh:
        computed = len(fh.readlines())
    if computed != 1:
        raise RuntimeError(f"{computed} computations for {n} processes: single-flight failed")
    return elapsed


def bench_single_flight(root: str, kind: str, db: str | None) -> None:
    one = _many(_config(os.path.join(root, kind + "1"), db), root, 1, 2.0, kind)
    eight = _many(_config(os.path.join(root, kind + "8"), db), root, 8, 2.0, kind)
    line(f"8 processes x the same 2 s call vs one call ({kind})", f"{eight:.2f} s / {one:.2f} s = {eight / one:.2f}",
         "<= 1.5")  # fmt: skip


def bench_lease_cost(root: str) -> None:
    p.load_config(_config(os.path.join(root, "cost")))
    counter = iter(range(10**9))

    @p.provenance(single_flight=True)
    def on(x):
        return x

    @p.provenance(single_flight=False)
    def off(x):
        return x

    times = interleaved({"on": lambda: on(next(counter)), "off": lambda: off(next(counter))}, number=200, repeat=5)
    line("SQLite miss, single-flight on vs off", f"{fmt_time(times['on'])} / {fmt_time(times['off'])}", "+1 cheap stmt")
    on(1), off(1)
    hits = interleaved({"on": lambda: on(1), "off": lambda: off(1)}, number=3000, repeat=5)
    line("SQLite hit, single-flight on vs off", f"{fmt_time(hits['on'])} / {fmt_time(hits['off'])}", "same")


def main() -> None:
    from servers import start_postgres

    with tempfile.TemporaryDirectory() as root:
        bench_lease_cost(root)
        bench_cluster(root)
        bench_single_flight(root, "SQLite", None)
        server = start_postgres()
        try:
            url = server.info["url"].replace("postgresql://", "postgresql+psycopg://")
            bench_single_flight(root, "PostgreSQL", url)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
