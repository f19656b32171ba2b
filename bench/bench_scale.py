"""Queries at scale: 1,000,000 file-artifact records in SQLite (and PostgreSQL).

Targets (issue 4), SQLite with 1M artifacts: lookup by id <= 50 µs median; a query on an
indexed label (labels.datatype, ~100 matches) <= 10 ms; {"based_on": id} <= 10 ms.
Issue 12: {"id": {"$in": [100,000 ids]}} (one bound array, past every parameter limit),
timed with the 100,000 artifacts it returns.
The same queries are printed for PostgreSQL. Rows are bulk-loaded through the library's
own batched API (Repository.save_batch) and the load rate is printed.
Run: python bench/bench_scale.py [--n 1000000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.dirname(__file__))
from _common import fmt_time


def _load(repo, n: int, batch: int = 10_000) -> tuple[list[str], float]:
    from provkit import Artifact
    from provkit import hash as hash_value
    from provkit.core.runs import current_run_info

    rng = random.Random(1)
    run = current_run_info()
    ids: list[str] = []
    t0 = time.perf_counter()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for first in range(0, n, batch):
        items = []
        for i in range(first, min(first + batch, n)):
            manifest = {f"part{i % 7}.txt": {"key": f"x1{i:032x}", "size": i % 5000}}
            labels = {"ticket": f"T-{i % 997}", "project": f"p{i % 13}", "datatype": f"dt{i % 10_000}",
                      "dataset": "", "description": "", "infos": {}}  # fmt: skip
            parents = [ids[rng.randrange(len(ids))]] if ids and i % 2 else []
            artifact_id = hash_value(("bench.scale", i))
            art = Artifact(
                artifact_id, hash_value(manifest), labels["datatype"], fn_module="provkit.filesets", fn_name="upload",
                inputs_json={"based_on": parents}, input_artifact_ids=parents,
                custom_fields={"labels": labels, "file_relpaths": list(manifest)}, serializer="json",
                computed_at=start + timedelta(seconds=i), kind="files", user=f"user{i % 20}",
            )  # fmt: skip
            items.append((art, manifest))
            ids.append(artifact_id)
        repo.save_batch(items, run_info=run)
    return ids, time.perf_counter() - t0


def _measure(label: str, repo, ids: list[str]) -> None:
    rng = random.Random(2)
    sample = [ids[rng.randrange(len(ids))] for _ in range(2000)]
    for artifact_id in sample[:50]:
        repo.lookup(artifact_id)  # warm connections and caches
    lookups = []
    for artifact_id in sample:
        t0 = time.perf_counter()
        repo.lookup(artifact_id)
        lookups.append(time.perf_counter() - t0)
    label_t, lineage_t, counts = [], [], []
    for k in range(41):
        t0 = time.perf_counter()
        found = list(repo.find({"labels.datatype": f"dt{(k * 37) % 10_000}"}))
        label_t.append(time.perf_counter() - t0)
        counts.append(len(found))
        parent = sample[k]
        t0 = time.perf_counter()
        list(repo.find({"based_on": parent}))
        lineage_t.append(time.perf_counter() - t0)
    print(
        f"{label:<10} lookup by id              median {fmt_time(statistics.median(lookups))}  (SQLite target <= 50 µs)"
    )
    print(f"{label:<10} labels.datatype == value  median {fmt_time(statistics.median(label_t))}  "
          f"(~{statistics.median(counts):.0f} rows each; SQLite target <= 10 ms)")  # fmt: skip
    print(
        f"{label:<10} based_on == id            median {fmt_time(statistics.median(lineage_t))}  (SQLite target <= 10 ms)"
    )
    _measure_big_in(label, repo, ids)


def _measure_big_in(label: str, repo, ids: list[str], size: int = 100_000) -> None:
    """``$in`` with ``size`` ids, three runs each: ``repo.find`` (the query and the Artifacts
    it builds) and the compiled SQL alone (matching ids only)."""
    import sqlalchemy as sa

    from provkit.services.query_sql import compile_query
    from provkit.services.search import sql_artifact_fields
    from provkit.storage.repos.sql import schema

    wanted = random.Random(3).sample(ids, min(size, len(ids)))
    query = {"id": {"$in": wanted}}
    find_t, sql_t, found, matched = [], [], 0, 0
    for _ in range(3):
        t0 = time.perf_counter()
        found = sum(1 for _ in repo.find(query))
        find_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        stmt = sa.select(schema.artifacts.c.id).where(
            compile_query(query, sql_artifact_fields(), repo.engine.dialect.name)
        )
        with repo.engine.connect() as conn:
            matched = len(conn.execute(stmt).all())
        sql_t.append(time.perf_counter() - t0)
    assert found == matched == len(wanted), (found, matched, len(wanted))
    print(f"{label:<10} id $in {len(wanted):,} ids   find median {fmt_time(statistics.median(find_t))}, "
          f"SQL alone {fmt_time(statistics.median(sql_t))}  ({found:,} of {len(ids):,} artifacts)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="provkit-bench-scale-", dir=os.environ.get("BENCH_DIR"))
    from provkit.storage.blobstores.memory import MemoryStore
    from provkit.storage.repos.sql import SqlRepo

    repo = SqlRepo(f"sqlite:///{root}/scale.db", MemoryStore())
    ids, seconds = _load(repo, args.n)
    print(
        f"SQLite     loaded {len(ids):,} artifacts through save_batch in {seconds:.1f} s = {len(ids) / seconds:,.0f}/s"
    )
    _measure("SQLite", repo, ids)
    if not args.no_postgres:
        from provkit.storage.repos.sql.postgres import PostgresRepo
        from servers import start_postgres

        server = start_postgres(durable=True)
        try:
            pg = PostgresRepo(server.info["url"].rsplit("/", 1)[0] + "/scale", MemoryStore(), create_db=True)
            ids, seconds = _load(pg, args.n)
            print(
                f"Postgres   loaded {len(ids):,} artifacts through save_batch in {seconds:.1f} s = {len(ids) / seconds:,.0f}/s"
            )
            with pg.engine.begin() as conn:  # committed, or the statistics are rolled back
                conn.exec_driver_sql("ANALYZE")
            _measure("Postgres", pg, ids)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
