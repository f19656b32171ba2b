"""Ancestors of a record 10 levels deep in a graph of 1,000,000 records.

Target (issue 5): <= 50 ms on SQLite; printed for PostgreSQL too. The graph: 100,000
chains of 10 artifacts (each based on the previous one, plus a random earlier record
for every third), loaded through Repository.save_batch. Then 20 registry chains on top
(execution -> dataset -> execution ... five of each, the first execution using an
artifact): ancestors of each chain's last dataset cross from the registry into artifacts.
Run: python bench/bench_lineage.py [--n 1000000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.dirname(__file__))
from _common import fmt_time


def _load(repo, n: int, batch: int = 10_000) -> list[str]:
    from provkit import Artifact
    from provkit import hash as hash_value

    rng = random.Random(3)
    ids: list[str] = []
    items = []
    for i in range(n):
        parents = [ids[-1]] if i % 10 else []
        if i % 3 == 0 and len(ids) > 10:
            parents.append(ids[rng.randrange(len(ids) - 10)])
        artifact_id = hash_value(("bench.lineage", i))
        items.append((Artifact(artifact_id, hash_value(i), "node", input_artifact_ids=parents, serializer="json"), i))
        ids.append(artifact_id)
        if len(items) == batch:
            repo.save_batch(items)
            items = []
    if items:
        repo.save_batch(items)
    return ids


def _time_ancestors(repo, starts: list[str]) -> tuple[float, float]:
    """Median seconds and median count of ``repo.ancestors(start, 10)`` (after a warm-up)."""
    repo.ancestors(starts[0], 10)
    times, sizes = [], []
    for start in starts:
        t0 = time.perf_counter()
        found = repo.ancestors(start, 10)
        times.append(time.perf_counter() - t0)
        sizes.append(len(found))
    return statistics.median(times), statistics.median(sizes)


def _measure(label: str, repo, ids: list[str]) -> None:
    rng = random.Random(4)
    leaves = [ids[c * 10 + 9] for c in (rng.randrange(len(ids) // 10) for _ in range(60))]
    median, size = _time_ancestors(repo, leaves)
    print(f"{label:<10} ancestors, depth 10, of a chain's last record: median {fmt_time(median)} "
          f"({size:.0f} ancestors; target on SQLite <= 50 ms)")  # fmt: skip


def _measure_registry(label: str, repo, ids: list[str]) -> None:
    import provkit as p

    rng = random.Random(5)
    reg = p.Registry(repo, owner="bench")
    work = tempfile.mkdtemp(prefix="provkit-bench-registry-")
    source = os.path.join(work, "part.bin")
    with open(source, "wb") as fh:
        fh.write(b"x" * 1000)
    ends = []
    for chain in range(20):
        parent = ids[rng.randrange(len(ids))]
        for step in range(5):
            ex = reg.register_execution(f"stage-{step}", input_datasets=[parent])
            parent = reg.register_dataset(
                f"chains/c{chain}/s{step}", "1.0.0", name=f"c{chain}s{step}", old_location=source, execution_id=ex
            ).id
        ends.append(parent)
    median, size = _time_ancestors(repo, ends)
    print(f"{label:<10} ancestors, depth 10, of a registry chain's last dataset: median "
          f"{fmt_time(median)} ({size:.0f} ancestors)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    from provkit.storage.blobstores.memory import MemoryStore
    from provkit.storage.repos.sql import SqlRepo

    root = tempfile.mkdtemp(prefix="provkit-bench-lineage-", dir=os.environ.get("BENCH_DIR"))
    t0 = time.perf_counter()
    repo = SqlRepo(f"sqlite:///{root}/lineage.db", MemoryStore())
    ids = _load(repo, args.n)
    print(f"SQLite     loaded {len(ids):,} records in {time.perf_counter() - t0:.1f} s")
    _measure("SQLite", repo, ids)
    _measure_registry("SQLite", repo, ids)
    if not args.no_postgres:
        from provkit.storage.repos.sql.postgres import PostgresRepo
        from servers import start_postgres

        server = start_postgres(durable=True)
        try:
            t0 = time.perf_counter()
            pg = PostgresRepo(server.info["url"].rsplit("/", 1)[0] + "/lineage", MemoryStore(), create_db=True)
            ids = _load(pg, args.n)
            with pg.engine.begin() as conn:  # committed, or the statistics are rolled back
                conn.exec_driver_sql("ANALYZE")
            print(f"Postgres   loaded {len(ids):,} records in {time.perf_counter() - t0:.1f} s")
            _measure("Postgres", pg, ids)
            _measure_registry("Postgres", pg, ids)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
