"""Living with a repository: gc over many records, taint propagation, verify throughput.

Each figure is printed beside a floor measured in the same run, as a ratio:
- gc dry run / real run over N records (chains of 10; every 20th chain pinned, the rest
  unreachable) on SQLite and PostgreSQL, beside one bare recursive SQL statement that
  counts (dry) or deletes (real, on a copy of the database) the same rows. Checked:
  nothing reachable is deleted. Targets (issue 14): <= 60 s each at N = 1,000,000.
- taint propagation from one retracted root with D descendants (p.tainted()), beside the
  bare recursive descendants query. Target: <= 5 s at D = 100,000.
- verify (stream re-hash of every blob) beside `cat` of the same files. Target: >= 0.7x.
Sizes: BENCH_LIFECYCLE_N (default 50,000), BENCH_TAINT_N (default 20,000),
BENCH_VERIFY_MB (default 256); the defaults run in about a minute.
Run: python bench/bench_lifecycle.py [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.dirname(__file__))
import provkit as p
from _common import report
from provkit import Artifact
from provkit import hash as hash_value

_REACH = """WITH RECURSIVE k(id) AS (SELECT record_id FROM lifecycle_marks WHERE kind = 'pin'
UNION SELECT e.input_artifact_id FROM artifact_inputs e JOIN k ON e.artifact_id = k.id)"""


def _load_chains(repo, n: int, batch: int = 10_000) -> tuple[list[str], set[str]]:
    """n records in chains of 10; returns (pinned ids, every id a pin reaches)."""
    items, pinned, reachable = [], [], set()
    prev = None
    for i in range(n):
        parents = [prev] if i % 10 and prev else []
        aid = hash_value(("bench.lifecycle", i))
        items.append((Artifact(aid, hash_value(i % 1000), "node", input_artifact_ids=parents, serializer="json"), i))
        prev = aid
        if i % 10 == 9 and (i // 10) % 20 == 0:
            pinned.append(aid)
            reachable.update(hash_value(("bench.lifecycle", j)) for j in range(i - 9, i + 1))
        if len(items) == batch:
            repo.save_batch(items)
            items = []
    if items:
        repo.save_batch(items)
    return pinned, reachable


def _pin_all(repo, pinned: list[str]) -> None:
    from provkit.services.lifecycle.marks import marks_for

    marks = marks_for(repo)
    for aid in pinned:
        marks.add(aid, "pin", "bench", None)


def _floor_count(engine) -> float:
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.exec_driver_sql(f"{_REACH} SELECT count(*) FROM artifacts WHERE id NOT IN (SELECT id FROM k)").scalar()
    return time.perf_counter() - t0


def _floor_delete(engine) -> float:
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"{_REACH} DELETE FROM artifact_inputs WHERE artifact_id NOT IN (SELECT id FROM k)")  # fmt: skip
        conn.exec_driver_sql(f"{_REACH} DELETE FROM artifacts WHERE id NOT IN (SELECT id FROM k)")
    return time.perf_counter() - t0


def _gc_round(label: str, repo, copy_engine, n: int) -> None:
    pinned, reachable = _load_chains(repo, n)
    _pin_all(repo, pinned)
    floor_dry = _floor_count(repo.engine)
    t0 = time.perf_counter()
    dry = p.gc(repo, dry_run=True, grace=0, orphans=False)
    ours_dry = time.perf_counter() - t0
    assert dry.rows == n - len(reachable), (dry.rows, n, len(reachable))
    report(f"{label} gc --dry-run, {n:,} records", ours_dry, floor_dry, "bare SQL count", "<= 60 s at 1M")
    floor_real = _floor_delete(copy_engine) if copy_engine is not None else float("nan")
    t0 = time.perf_counter()
    real = p.gc(repo, grace=0, orphans=False)
    ours_real = time.perf_counter() - t0
    left = set(repo.artifact_ids())
    assert reachable <= left and len(left) == len(reachable), "gc deleted something reachable"
    assert real.rows == n - len(reachable)
    report(f"{label} gc, {n:,} records ({real.rows:,} deleted)", ours_real, floor_real, "bare SQL delete",
           "<= 60 s at 1M; nothing reachable deleted: ok")  # fmt: skip


def _taint_round(label: str, repo, d: int) -> None:
    import sqlalchemy as sa

    root = hash_value(("bench.taint.root",))
    items = [(Artifact(root, hash_value("root"), "root", serializer="json"), 0)]
    frontier = [root]
    made = 0
    while made < d:  # a tree: every node has 4 children
        nxt = []
        for parent in frontier:
            for _ in range(4):
                if made >= d:
                    break
                aid = hash_value(("bench.taint", made))
                items.append((Artifact(aid, hash_value(made % 97), "t", input_artifact_ids=[parent],
                                       serializer="json"), made))  # fmt: skip
                nxt.append(aid)
                made += 1
        frontier = nxt
    for start in range(0, len(items), 10_000):
        repo.save_batch(items[start : start + 10_000])
    p.retract(root, "bench", repo=repo)
    t0 = time.perf_counter()
    tainted = p.tainted(repo)
    ours = time.perf_counter() - t0
    assert len(tainted) >= d + 1
    sql = sa.text("""WITH RECURSIVE k(id) AS (SELECT CAST(:r AS VARCHAR(128)) UNION SELECT e.artifact_id FROM artifact_inputs e
                     JOIN k ON e.input_artifact_id = k.id) SELECT count(*) FROM k""")
    t0 = time.perf_counter()
    with repo.engine.connect() as conn:
        conn.execute(sql, {"r": root}).scalar()
    floor = time.perf_counter() - t0
    report(f"{label} taint from one root, {d:,} descendants", ours, floor, "bare SQL CTE", "<= 5 s at 100k")


def _verify_round(mb: int) -> None:
    from provkit.storage.blobstores.disk import DiskStore
    from provkit.storage.repos.sql import SqlRepo

    root = tempfile.mkdtemp(prefix="provkit-bench-verify-", dir=os.environ.get("BENCH_DIR"))
    try:
        repo = SqlRepo(f"sqlite:///{root}/v.db", DiskStore(os.path.join(root, "blobs"), fsync=False), delete=True)
        p.set_default_repo(repo)

        @p.provenance(name="bench.blob")
        def blob(i, size):
            return np.full(size // 8, float(i))

        count = max(1, mb // 32)
        paths = []
        for i in range(count):
            art = blob(i, 32 << 20).artifact
            paths.append(repo.store.path(art.value_id))
        subprocess.run(["cat", *paths], stdout=subprocess.DEVNULL, check=True)  # both read from the page cache
        rounds = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(["cat", *paths], stdout=subprocess.DEVNULL, check=True)
            cat = time.perf_counter() - t0
            t0 = time.perf_counter()
            result = p.verify(repo)
            ours = time.perf_counter() - t0
            assert result.ok and result.blobs == count
            rounds.append((ours, cat))
        ours, cat = sorted(rounds)[1]
        total = sum(os.path.getsize(x) for x in paths)
        print(f"verify {total / 1e6:.0f} MB: provkit {total / ours / 1e9:.2f} GB/s | cat {total / cat / 1e9:.2f} GB/s"
              f" | throughput ratio {cat / ours:.3f}  (target >= 0.7)")  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    n = int(os.environ.get("BENCH_LIFECYCLE_N", "50000"))
    d = int(os.environ.get("BENCH_TAINT_N", "20000"))
    mb = int(os.environ.get("BENCH_VERIFY_MB", "256"))
    import sqlalchemy as sa

    from provkit.storage.blobstores.memory import MemoryStore
    from provkit.storage.repos.sql import SqlRepo

    root = tempfile.mkdtemp(prefix="provkit-bench-lifecycle-", dir=os.environ.get("BENCH_DIR"))
    try:
        repo = SqlRepo(f"sqlite:///{root}/gc.db", MemoryStore(delete=True), delete=True)
        pinned, _ = _load_chains(repo, n)
        _pin_all(repo, pinned)
        repo.engine.dispose()
        shutil.copy(f"{root}/gc.db", f"{root}/floor.db")  # the floor deletes from a copy
        repo = SqlRepo(f"sqlite:///{root}/gc2.db", MemoryStore(delete=True), delete=True)
        _gc_round("SQLite", repo, sa.create_engine(f"sqlite:///{root}/floor.db"), n)
        _taint_round("SQLite", SqlRepo(f"sqlite:///{root}/taint.db", MemoryStore(), delete=True), d)
        if not args.no_postgres:
            from provkit.storage.repos.sql.postgres import PostgresRepo
            from servers import start_postgres

            server = start_postgres(durable=True)
            try:
                base = server.info["url"].rsplit("/", 1)[0]
                floor_repo = PostgresRepo(base + "/floor", MemoryStore(delete=True), create_db=True, delete=True)
                pinned, _ = _load_chains(floor_repo, n)
                _pin_all(floor_repo, pinned)
                pg = PostgresRepo(base + "/gc", MemoryStore(delete=True), create_db=True, delete=True)
                _gc_round("Postgres", pg, floor_repo.engine, n)
                _taint_round("Postgres", PostgresRepo(base + "/taint", MemoryStore(), create_db=True), d)
            finally:
                server.stop()
        _verify_round(mb)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
