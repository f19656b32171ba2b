"""PostgreSQL repository: cache-hit latency and concurrent write throughput.

Targets (issue 3): a Postgres cache hit of a trivial function has a median <= 1 ms
(printed beside the SQLite hit); 10,000 small artifacts written by 4 processes at once
with no errors, throughput printed. Issue 17: the hit <= 60 µs and <= 3x one psycopg
primary-key SELECT in autocommit (timed in the same rounds); 10,000 distinct small misses
in a loop <= 2 s, printed with a commit per call (cached rows commit with
``synchronous_commit = off``, README "Durability of a cache miss"; floor: a psycopg PK
SELECT plus a 1-row INSERT in autocommit with the same setting, per miss; again with
``synchronous_commit: true`` beside the same floor with fsync) and inside
``p.batch()`` (floor: the lookups' PK SELECTs). Run: python bench/bench_postgres.py (starts a PostgreSQL server on
127.0.0.1, fsync on)
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.dirname(__file__))
from _common import fmt_time, per_call
from servers import start_postgres


def _config(url: str, root: str) -> dict:
    return {
        "blobstores": {"disk": {"type": "disk", "cachedir": os.path.join(root, "blobs")}},
        "artifact_repos": {"team": {"type": "postgres", "db": url, "store": "disk", "create_db": True}},
    }


def _writer(url: str, root: str, worker: int, count: int, start_at: float, queue) -> None:
    import provkit as p

    try:
        p.load_config(_config(url, root))

        @p.provenance(name="bench.small")
        def small(i):
            return {"i": i, "square": i * i}

        while time.time() < start_at:
            time.sleep(0.001)
        for i in range(worker * count, (worker + 1) * count):
            small(i)
        queue.put(("ok", worker))
    except Exception as exc:
        queue.put(("error", repr(exc)))


def loop_misses(p, fn, durable_fn, bare, count: int = 10_000) -> None:
    """``count`` distinct small misses in a loop: a commit per call, then inside p.batch()."""
    counter = iter(range(10**6, 10**9))
    bare.execute("CREATE TABLE IF NOT EXISTS floor_rows (id bigint PRIMARY KEY)")
    t0 = time.perf_counter()
    for _ in range(1000):
        bare.execute("INSERT INTO floor_rows VALUES (%s)", (next(counter),))
    insert_floor = (time.perf_counter() - t0) / 1000
    bare.execute("SET synchronous_commit = off")  # as provkit writes cached results
    t0 = time.perf_counter()
    for _ in range(1000):
        bare.execute("INSERT INTO floor_rows VALUES (%s)", (next(counter),))
    async_floor = (time.perf_counter() - t0) / 1000
    bare.execute("RESET synchronous_commit")
    t0 = time.perf_counter()
    for _ in range(1000):
        bare.execute("SELECT id FROM floor_rows WHERE id = %s", (10**6,)).fetchone()
    select_floor = (time.perf_counter() - t0) / 1000
    miss_floor = (select_floor + async_floor) * count  # a miss: its lookup, then its row
    t0 = time.perf_counter()
    for _ in range(count):
        fn(next(counter), 7)
    per_call_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(count):
        durable_fn(next(counter), 7)
    durable_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with p.batch(every=1000, seconds=0.5):
        for _ in range(count):
            fn(next(counter), 7)
    batched_s = time.perf_counter() - t0
    print(
        f"{'10,000 small misses, Postgres, commit per call':<44} provkit {per_call_s:9.3f} s  | "
        f"psycopg SELECT + INSERT (synchronous_commit off) {miss_floor:6.3f} s | ratio {per_call_s / miss_floor:6.3f}"
    )
    print(
        f"{'  floors, per call':<44} psycopg PK SELECT {select_floor * 1e6:,.0f} µs, 1-row INSERT with fsync "
        f"{insert_floor * 1e6:,.0f} µs, with synchronous_commit off {async_floor * 1e6:,.0f} µs"
    )
    print(
        f"{'  the same, synchronous_commit: true':<44} provkit {durable_s:9.3f} s  | "
        f"psycopg SELECT + INSERT with fsync {(select_floor + insert_floor) * count:6.3f} s | "
        f"ratio {durable_s / ((select_floor + insert_floor) * count):6.3f}"
    )
    print(
        f"{'  the same inside p.batch()':<44} provkit {batched_s:9.3f} s  | psycopg PK SELECTs "
        f"{select_floor * count:6.3f} s | ratio {batched_s / (select_floor * count):6.3f}  (target <= 2 s)"
    )


def main() -> None:
    import sqlalchemy as sa

    import provkit as p

    server = start_postgres(durable=True)  # fsync on: commits really reach the disk
    root = tempfile.mkdtemp(prefix="provkit-bench-pg-")
    url = server.info["url"].rsplit("/", 1)[0] + "/bench"
    try:
        p.load_config(_config(url, root))
        pg_repo = p.get_default_repo()
        sqlite_cfg = {
            "blobstores": {"d": {"type": "disk", "cachedir": os.path.join(root, "sqlite-blobs")}},
            "artifact_repos": {"s": {"type": "sqlite", "db": f"sqlite:///{root}/s.db", "store": "d"}},
        }
        sqlite_repo = p.from_config(sqlite_cfg).repos["s"]

        def add(a, b):
            return a + b

        on_pg, on_sqlite = p.provenance(repo=pg_repo)(add), p.provenance(repo=sqlite_repo)(add)
        on_pg(1, 2), on_sqlite(1, 2)
        import psycopg

        bare = psycopg.connect(url, autocommit=True)
        bare.execute("CREATE TABLE IF NOT EXISTS floor (id text PRIMARY KEY, v bytea)")
        bare.execute("INSERT INTO floor VALUES ('x1abc', '\\x00') ON CONFLICT DO NOTHING")

        def floor():
            return bare.execute("SELECT id, v FROM floor WHERE id = %s", ("x1abc",)).fetchone()

        pg_t, sq_t, fl_t = [], [], []
        for _ in range(15):
            pg_t.append(per_call(lambda: on_pg(1, 2), 300))
            sq_t.append(per_call(lambda: on_sqlite(1, 2), 300))
            fl_t.append(per_call(floor, 300))
        pg, sq, fl = statistics.median(pg_t), statistics.median(sq_t), statistics.median(fl_t)
        print(
            f"{'cache hit, trivial f(a, b), Postgres':<44} provkit {fmt_time(pg)} | SQLite {fmt_time(sq)} | target <= 1 ms"
        )
        print(
            f"{'  the same vs a psycopg PK SELECT':<44} provkit {fmt_time(pg)} | psycopg {fmt_time(fl)} | "
            f"ratio {pg / fl:6.3f}  (target <= 3, <= 60 µs)"
        )
        durable_cfg = _config(url, root)
        durable_cfg["artifact_repos"]["team"]["synchronous_commit"] = True
        durable = p.provenance(repo=p.from_config(durable_cfg).repos["team"], name="bench.durable")(add)
        loop_misses(p, on_pg, durable, bare)
        bare.close()

        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        workers, count = 4, 2500
        start_at = time.time() + 5
        procs = [ctx.Process(target=_writer, args=(url, root, w, count, start_at, queue)) for w in range(workers)]
        for proc in procs:
            proc.start()
        results = [queue.get(timeout=600) for _ in procs]
        elapsed = time.time() - start_at
        for proc in procs:
            proc.join()
        errors = [r for r in results if r[0] != "ok"]
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select count(*) from artifacts where name = 'bench.small'")).scalar()
        engine.dispose()
        print(
            f"{'10,000 small artifacts, 4 processes, Postgres':<44} {rows} rows in {elapsed:.2f} s = "
            f"{rows / elapsed:,.0f} artifacts/s, errors: {len(errors)} {errors[:1]}"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
