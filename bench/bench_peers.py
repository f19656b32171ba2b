"""provkit beside its peers, on the paths users hit most; rerun it yourself.

Contenders: provkit on the embedded default (SQLite + disk) and on PostgreSQL, joblib.Memory,
redun (a ``@task`` run through ``Scheduler().run`` on SQLite), mandala (PyPI ``pymandala``),
and floors measured in the same run (a bare stdlib sqlite3 primary-key SELECT, a bare
1-row INSERT + commit in WAL/NORMAL mode, a psycopg PK SELECT in autocommit, a psycopg
1-row INSERT in autocommit with fsync and with ``synchronous_commit = off``, as provkit
writes cached results).

Work: a cache hit of ``f(1, 2)``; distinct small misses in a loop (10,000 for the fast
tools, fewer for slow ones, reported per 10,000 and marked ``~``), and provkit's inside
``p.batch()``; a 5-call chain, all hits.

Each contender runs in its own process in each round; rounds rotate who goes first.
Medians, spread (min..max over rounds) and the ratio to provkit are printed. Peers are
installed into a separate venv (``~/.cache/provkit/peer-venv``, from the package index
pip is configured with); a peer that cannot be installed is skipped with a note. The old
``provenance`` library needs Python 3.8 and pinned dependencies no registry here serves,
so it is not run. PostgreSQL is started on 127.0.0.1 by the script (fsync on).
Run: python bench/bench_peers.py [--rounds 5] [--misses 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
PEER_VENV = os.path.expanduser("~/.cache/provkit/peer-venv")
PEER_PACKAGES = {  # pymandala does not declare all it imports
    "redun": ["redun"],
    "mandala": ["pymandala", "pyarrow", "pandas", "numpy", "tqdm", "graphviz", "rich", "prettytable", "ipython"],
}

# A child prints one JSON line: {"hit": s, "miss": s per call, "chain": s} (keys it measures).
HARNESS = textwrap.dedent(
    """
    import json, os, statistics, sys, time
    tmp, misses, pg_url = sys.argv[1], int(sys.argv[2]), sys.argv[3]

    def per_call(fn, n):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t0) / n

    def hit_time(fn, n):
        fn()
        return statistics.median(per_call(fn, n) for _ in range(5))

    out = {}
    """
)

DRIVERS = {
    "provkit": """
        os.environ["PROVKIT_HOME"] = tmp
        import provkit as p
        if pg_url != "-":
            p.load_config({"blobstores": {"disk": {"type": "disk", "cachedir": tmp + "/blobs"}},
                           "artifact_repos": {"pg": {"type": "postgres", "db": pg_url, "store": "disk",
                                                     "create_db": True}}})
        f = p.provenance()(lambda a, b: a + b)
        @p.provenance()
        def s1(x): return x + 1
        @p.provenance()
        def s2(x): return x + 1
        @p.provenance()
        def s3(x): return x + 1
        @p.provenance()
        def s4(x): return x + 1
        @p.provenance()
        def s5(x): return x + 1
        out["hit"] = hit_time(lambda: f(1, 2), 2000)
        counter = iter(range(10**9))
        out["miss"] = per_call(lambda: f(next(counter), 7), misses)
        with p.batch(every=1000, seconds=0.5):
            out["miss_batched"] = per_call(lambda: f(next(counter), 7), misses)
        out["chain"] = hit_time(lambda: s5(s4(s3(s2(s1(1))))), 500)
    """,
    "joblib": """
        import joblib
        memory = joblib.Memory(tmp, verbose=0)
        def add(a, b): return a + b
        def inc1(x): return x + 1
        def inc2(x): return x + 1
        def inc3(x): return x + 1
        def inc4(x): return x + 1
        def inc5(x): return x + 1
        f = memory.cache(add)
        s1, s2, s3, s4, s5 = (memory.cache(g) for g in (inc1, inc2, inc3, inc4, inc5))
        out["hit"] = hit_time(lambda: f(1, 2), 2000)
        counter = iter(range(10**9))
        out["miss"] = per_call(lambda: f(next(counter), 7), misses)
        out["chain"] = hit_time(lambda: s5(s4(s3(s2(s1(1))))), 500)
    """,
    "redun": """
        import logging
        logging.getLogger("redun").setLevel(logging.ERROR)
        from redun import Scheduler, task
        from redun.config import Config
        @task(namespace="bench")
        def add(a, b): return a + b
        @task(namespace="bench")
        def inc(x, step): return x + 1
        scheduler = Scheduler(config=Config({"backend": {"db_uri": f"sqlite:///{tmp}/redun.db"}}))
        scheduler.load()
        logging.getLogger("redun").setLevel(logging.ERROR)
        out["hit"] = hit_time(lambda: scheduler.run(add(1, 2)), 10)
        counter = iter(range(10**9))
        out["miss"] = per_call(lambda: scheduler.run(add(next(counter), 7)), max(misses // 100, 10))
        out["chain"] = hit_time(lambda: scheduler.run(inc(inc(inc(inc(inc(1, 1), 2), 3), 4), 5)), 5)
    """,
    "mandala": """
        from mandala.imports import Storage, op
        storage = Storage(db_path=tmp + "/mandala.db")
        @op
        def add(a, b): return a + b
        @op
        def inc(x, step): return x + 1
        def run(fn):
            with storage:
                return fn()
        out["hit"] = hit_time(lambda: run(lambda: add(1, 2)), 20)
        counter = iter(range(10**9))
        out["miss"] = per_call(lambda: run(lambda: add(next(counter), 7)), max(misses // 100, 10))
        out["chain"] = hit_time(lambda: run(lambda: inc(inc(inc(inc(inc(1, 1), 2), 3), 4), 5)), 10)
    """,
    "floor": """
        import sqlite3
        db = sqlite3.connect(tmp + "/floor.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, v BLOB)")
        db.execute("INSERT INTO t VALUES ('x1abc', x'00')")
        out["hit"] = hit_time(lambda: db.execute("SELECT id, v FROM t WHERE id = ?", ("x1abc",)).fetchone(), 5000)
        counter = iter(range(10**9))
        def insert():
            db.execute("BEGIN"); db.execute("INSERT INTO t VALUES (?, x'00')", (str(next(counter)),))
            db.execute("COMMIT")
        out["miss"] = per_call(insert, misses)
        if pg_url != "-":
            import psycopg
            conn = psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
            conn.execute("CREATE TABLE IF NOT EXISTS t (id text PRIMARY KEY)")
            conn.execute("INSERT INTO t VALUES ('x1abc') ON CONFLICT DO NOTHING")
            out["pg_hit"] = hit_time(lambda: conn.execute("SELECT id FROM t WHERE id = %s", ("x1abc",)).fetchone(), 2000)
            rows = iter(range(10**9))
            out["pg_insert"] = per_call(lambda: conn.execute("INSERT INTO t VALUES (%s)", (f"r{next(rows)}",)), 1000)
            conn.execute("SET synchronous_commit = off")  # as provkit writes cached results
            out["pg_insert_async"] = per_call(
                lambda: conn.execute("INSERT INTO t VALUES (%s)", (f"r{next(rows)}",)), 1000)
    """,
}


def peer_python(tool: str, notes: list[str]) -> str | None:
    """The interpreter of the peer venv with ``tool`` importable, or None (with a note)."""
    python = os.path.join(PEER_VENV, "bin", "python")
    module = "mandala.imports" if tool == "mandala" else tool
    if (
        os.path.exists(python)
        and subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0
    ):
        return python
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", PEER_VENV], check=False, capture_output=True)
    pip = subprocess.run([python, "-m", "pip", "install", "-q", *PEER_PACKAGES[tool]], capture_output=True, text=True)
    if pip.returncode != 0 or subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode:
        notes.append(f"{tool}: skipped, could not install {PEER_PACKAGES[tool]}: {pip.stderr.strip()[-200:]}")
        return None
    return python


def run_child(python: str, tool: str, tmp: str, misses: int, pg_url: str) -> dict:
    script = os.path.join(tmp, f"bench_{tool}.py")  # a real file: peers read their tasks' source
    with open(script, "w") as fh:
        fh.write(HARNESS + textwrap.dedent(DRIVERS[tool]) + "\nprint(json.dumps(out))\n")
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")}
    proc = subprocess.run([python, script, tmp, str(misses), pg_url], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--misses", type=int, default=10_000)
    args = parser.parse_args()
    from servers import start_postgres

    notes: list[str] = []
    contenders = {"provkit": sys.executable, "provkit (Postgres)": sys.executable, "joblib": sys.executable}
    for tool in ("redun", "mandala"):
        python = peer_python(tool, notes)
        if python:
            contenders[tool] = python
    contenders["floor"] = sys.executable
    server = start_postgres(durable=True)
    base_url = server.info["url"].rsplit("/", 1)[0]
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in contenders}
    names = list(contenders)
    try:
        import psycopg

        with psycopg.connect(server.info["url"], autocommit=True) as admin:  # whoever runs first finds it
            for round_ in range(args.rounds):
                admin.execute(f"CREATE DATABASE peers_{round_}")
        for round_ in range(args.rounds):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                tmp = tempfile.mkdtemp(prefix="provkit-peers-")
                pg_url = f"{base_url}/peers_{round_}" if name in ("provkit (Postgres)", "floor") else "-"
                tool = "provkit" if name.startswith("provkit") else name
                try:
                    result = run_child(contenders[name], tool, tmp, args.misses, pg_url)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
                for key, value in result.items():
                    samples[name].setdefault(key, []).append(value)
    finally:
        server.stop()
    print_table(samples, args)
    for note in notes:
        print("note:", note)


def print_table(samples: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    rows = [("hit f(1, 2)", "hit", 1e6, "µs"), ("10,000 small misses", "miss", 10_000, "s"),
            ("10,000 small misses inside p.batch(every=1000, seconds=0.5)", "miss_batched", 10_000, "s"),
            ("5-call chain, all hits", "chain", 1e6, "µs")]  # fmt: skip
    print(f"{args.rounds} rounds, medians (min..max); ratio = contender / provkit embedded")
    for label, key, scale, unit in rows:
        base = statistics.median(samples["provkit"][key]) if samples["provkit"].get(key) else None
        print(f"\n{label}")
        for name, measured in samples.items():
            values = measured.get(key)
            if not values:
                continue
            med = statistics.median(values) * scale
            approx = "~" if key == "miss" and name in ("redun", "mandala") else " "
            ratio = f"{statistics.median(values) / base:8.2f}x" if base else ""
            spread = f"({min(values) * scale:,.2f}..{max(values) * scale:,.2f})"
            print(f"  {name:<20} {approx}{med:12,.2f} {unit:<3} {spread:<28} {ratio}")
    pg_hit = samples["floor"].get("pg_hit")
    if pg_hit:
        print(f"\npsycopg PK SELECT, autocommit (floor): {statistics.median(pg_hit) * 1e6:,.2f} µs")
    pg_insert = samples["floor"].get("pg_insert")
    if pg_insert:
        print(f"psycopg 1-row INSERT, autocommit, fsync on (floor): {statistics.median(pg_insert) * 1e6:,.2f} µs")
    pg_async = samples["floor"].get("pg_insert_async")
    if pg_async:
        print(
            "psycopg 1-row INSERT, autocommit, synchronous_commit off (floor of a Postgres miss's write): "
            f"{statistics.median(pg_async) * 1e6:,.2f} µs"
        )


if __name__ == "__main__":
    main()
