"""provkit ui at scale: server render time of its pages over many file-artifact records.

Targets (issue 16), at 1,000,000 records on SQLite and PostgreSQL: the first page of a label
query and an artifact page each <= 200 ms median (server time), a 3-level lineage page
<= 500 ms. Server time is the app's own ``Server-Timing`` figure (routing, queries,
templates, the graphviz picture), read through Starlette's in-process TestClient.
The peer is the database floor of the same page: the same rows fetched by one hand-written
SQL statement on the same engine, no page built (the ratio is what the page adds).

Records: $PROVKIT_BENCH_UI_RECORDS (default 20,000: about a minute with Postgres); the
issue's figure is PROVKIT_BENCH_UI_RECORDS=1000000. Rows are loaded like bench_scale.py
(Repository.save_batch; every odd record has one earlier parent, so lineage is deep).
Run: python bench/bench_ui.py [--no-postgres]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.dirname(__file__))
from _common import fmt_time
from bench_scale import _load

ROUNDS = 25


def _server_ms(client, url: str) -> float:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.text[-500:])
    timing = response.headers["server-timing"]
    return float(timing.split("dur=", 1)[1]) / 1000


def _floor(repo, kind: str, value: str):
    """The same rows by one SQL statement (no page): the peer of each page."""
    import sqlalchemy as sa

    from provkit.storage.repos.sql import schema

    a, e = schema.artifacts, schema.artifact_inputs
    # SQLite sorts NULL lowest, so DESC alone puts undated rows last (and an index serves it);
    # on Postgres the page's first statement asks for the dated rows (all of them here)
    dated = sa.true() if repo.engine.dialect.name == "sqlite" else a.c.computed_at.is_not(None)
    if kind == "all":
        stmt = sa.select(a).where(dated).order_by(a.c.computed_at.desc(), a.c.id).limit(51)
    elif kind == "label":  # the WHERE the query compiler makes (so the label index serves it), rows as tuples
        from provkit.services.query_sql import compile_query
        from provkit.services.search import sql_artifact_fields

        key, _, wanted = value.partition("=")
        where = compile_query({f"labels.{key}": wanted}, sql_artifact_fields(), repo.engine.dialect.name)
        stmt = sa.select(a).where(where, dated).order_by(a.c.computed_at.desc(), a.c.id).limit(51)
    elif kind == "artifact":
        stmt = sa.select(a).where(a.c.id == value)
    else:  # three levels up and down: the edge table, one statement per level and direction
        stmt = None

    def run() -> None:
        with repo.engine.connect() as conn:
            if stmt is not None:
                conn.execute(stmt).all()
                return
            for near, far in ((e.c.artifact_id, e.c.input_artifact_id), (e.c.input_artifact_id, e.c.artifact_id)):
                frontier = [value]
                for _ in range(3):
                    frontier = (
                        [r[0] for r in conn.execute(sa.select(far).where(near.in_(frontier)))] if frontier else []
                    )
                    if frontier:
                        conn.execute(sa.select(a).where(a.c.id.in_(frontier))).all()

    return run


def _measure(label: str, repo, ids: list[str]) -> None:
    from starlette.testclient import TestClient

    from provkit.interfaces.ui import create_app

    client = TestClient(create_app(repo))
    rng = random.Random(5)
    with_parents = (i for i in ids[len(ids) // 2 :] if repo.lookup(i).input_artifact_ids)
    deep = list(itertools.islice(with_parents, ROUNDS)) or ids[:ROUNDS]
    pages = {
        "first page, no filter (newest of all)": ("all", lambda k: ""),
        "first page, labels.datatype (~n/10,000 rows)": ("label", lambda k: f"datatype=dt{(k * 37) % 10_000}"),
        "first page, labels.project (~n/13 rows)": ("label", lambda k: f"project=p{k % 13}"),
        "artifact page": ("artifact", lambda k: ids[rng.randrange(len(ids))]),
        "lineage page, 3 levels, up + down": ("lineage", lambda k: deep[k % len(deep)]),
    }
    targets = {"all": "<= 200 ms", "label": "<= 200 ms", "artifact": "<= 200 ms", "lineage": "<= 500 ms"}
    for name, (kind, pick) in pages.items():
        ours, floor = [], []
        for k in range(ROUNDS + 2):
            value = pick(k)
            url = {"all": "/search", "label": f"/search?label={value}", "artifact": f"/artifacts/{value}",
                   "lineage": f"/lineage/{value}?depth=3&direction=both"}[kind]  # fmt: skip
            server = _server_ms(client, url)
            run = _floor(repo, kind, value)
            t0 = time.perf_counter()
            run()
            sql = time.perf_counter() - t0
            if k >= 2:  # two warm-up rounds
                ours.append(server)
                floor.append(sql)
        mine, peer = statistics.median(ours), statistics.median(floor)
        print(f"{label:<9} {name:<46} provkit {fmt_time(mine)} | SQL floor {fmt_time(peer)} | "
              f"ratio {mine / peer:7.1f}  (target {targets[kind]})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    n = int(os.environ.get("PROVKIT_BENCH_UI_RECORDS", "20000"))
    from provkit.storage.blobstores.memory import MemoryStore
    from provkit.storage.repos.sql import SqlRepo

    root = tempfile.mkdtemp(prefix="provkit-bench-ui-", dir=os.environ.get("BENCH_DIR"))
    repo = SqlRepo(f"sqlite:///{root}/ui.db", MemoryStore())
    ids, seconds = _load(repo, n)
    print(f"SQLite    {len(ids):,} records loaded in {seconds:.1f} s; median of {ROUNDS} requests each")
    _measure("SQLite", repo, ids)
    if not args.no_postgres:
        from provkit.storage.repos.sql.postgres import PostgresRepo
        from servers import start_postgres

        server = start_postgres(durable=True)
        try:
            pg = PostgresRepo(server.info["url"].rsplit("/", 1)[0] + "/ui", MemoryStore(), create_db=True)
            ids, seconds = _load(pg, n)
            with pg.engine.begin() as conn:  # committed, or the statistics are rolled back
                conn.exec_driver_sql("ANALYZE")
            print(f"Postgres  {len(ids):,} records loaded in {seconds:.1f} s")
            _measure("Postgres", pg, ids)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
