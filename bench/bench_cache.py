"""Cache hit / miss of a trivial f(a, b) on the embedded default vs joblib.Memory.

Targets (issue 2): hit median <= 0.25x joblib.Memory's hit; miss <= 1x joblib's miss;
hit with a 100 MB array argument <= 0.1x joblib's. Issue 17: hit <= 8 µs, <= 0.15x
joblib.Memory and <= 4x a bare stdlib sqlite3 primary-key SELECT (a WAL file, timed in
the same rounds); 10,000 distinct small misses >= 1.5x faster than joblib.Memory.
Each is printed again with signing on (a keyed MAC over the stored bytes, issue 11),
beside the same joblib figure, without a target.

Fairness: contenders alternate who goes first in each round (bench/_common.py), share
one temporary folder on the same disk (removed at the end) and run warm. Durability of a
miss is the same on both sides: neither fsyncs per call (provkit commits its row in SQLite
WAL mode with synchronous=NORMAL, which survives a crash of the process, not of the
machine; small values live in the row; joblib writes plain files without fsync).
Run: python bench/bench_cache.py
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from _common import interleaved, report


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="provkit-bench-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # ~110 MiB of blobs and cache files


def run(tmp: str) -> None:
    os.environ["PROVKIT_HOME"] = os.path.join(tmp, "provkit")
    import joblib
    import numpy as np

    import provkit as p

    memory = joblib.Memory(os.path.join(tmp, "joblib"), verbose=0)
    from provkit.storage.config import embedded_config

    os.environ["PROVKIT_BENCH_SIGN_KEY"] = "bench signing key, not a secret"
    signed_config = embedded_config(os.path.join(tmp, "signed"))
    signed_config["artifact_repos"]["local"]["sign_key_env"] = "PROVKIT_BENCH_SIGN_KEY"
    signed = p.from_config(signed_config).repos["local"]

    def add(a, b):
        return a + b

    ours = p.provenance()(add)
    ours_signed = p.provenance(repo=signed)(add)
    theirs = memory.cache(add)
    ours(1, 2), ours_signed(1, 2), theirs(1, 2)  # warm: run info, schema, first write

    floor_db = sqlite3.connect(os.path.join(tmp, "floor.db"), isolation_level=None)
    floor_db.execute("PRAGMA journal_mode=WAL")
    floor_db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, v BLOB)")
    floor_db.execute("INSERT INTO t VALUES ('x1abc', x'00')")

    def floor():
        return floor_db.execute("SELECT id, v FROM t WHERE id = ?", ("x1abc",)).fetchone()

    hit = interleaved(
        {
            "provkit": lambda: ours(1, 2),
            "signed": lambda: ours_signed(1, 2),
            "joblib": lambda: theirs(1, 2),
            "floor": floor,
        },
        number=2000,
        repeat=15,
    )
    report("cache hit, trivial f(a, b)", hit["provkit"], hit["joblib"], "joblib.Memory", "<= 0.15, <= 8 µs")
    report("  the same, vs a bare sqlite3 PK SELECT", hit["provkit"], hit["floor"], "sqlite3", "<= 4")
    report("  the same, signing on", hit["signed"], hit["joblib"], "joblib.Memory", "none")
    floor_db.close()

    counter = itertools.count(10_000)
    miss = interleaved(
        {
            "provkit": lambda: ours(next(counter), 2),
            "signed": lambda: ours_signed(next(counter), 2),
            "joblib": lambda: theirs(next(counter), 2),
        },
        number=100,
        repeat=9,
    )
    report("cache miss, trivial f(a, b), no fsync either", miss["provkit"], miss["joblib"], "joblib.Memory", "<= 1.0")
    report("  the same, signing on", miss["signed"], miss["joblib"], "joblib.Memory", "none")

    # 10,000 distinct small misses in a loop (issue 17): per-call commits, and inside p.batch()
    loop = {"provkit": [], "batched": [], "joblib": []}
    start = itertools.count(10**7, 10_000)

    def misses(fn):
        base = next(start)
        t0 = time.perf_counter()
        for i in range(base, base + 10_000):
            fn(i, 3)
        return time.perf_counter() - t0

    def batched_misses():
        with p.batch(every=1000, seconds=0.5):
            return misses(ours)

    for round_ in range(3):
        order = [("provkit", lambda: misses(ours)), ("batched", batched_misses), ("joblib", lambda: misses(theirs))]
        for name, fn in order[round_ % 3 :] + order[: round_ % 3]:
            loop[name].append(fn())
    med = {k: statistics.median(v) for k, v in loop.items()}
    for label, key in (
        ("10,000 small misses, a commit per call", "provkit"),
        ("  the same inside p.batch()", "batched"),
    ):
        speed = med["joblib"] / med[key]
        print(
            f"{label:<44} provkit {med[key]:9.3f} s  | joblib.Memory {med['joblib']:9.3f} s  | "
            f"{speed:5.2f}x faster  (target >= 1.5x)"
        )

    def total(x, scale):
        return float(x[:10].sum()) * scale

    big = np.random.default_rng(0).random(100 * 2**20 // 8)  # 100 MiB of float64
    ours_big, theirs_big = p.provenance()(total), memory.cache(total)
    signed_big = p.provenance(repo=signed)(total)
    ours_big(big, 2), signed_big(big, 2), theirs_big(big, 2)
    big_hit = interleaved(
        {
            "provkit": lambda: ours_big(big, 2),
            "signed": lambda: signed_big(big, 2),
            "joblib": lambda: theirs_big(big, 2),
        },
        number=3,
        repeat=7,
    )
    report("cache hit, 100 MiB array argument", big_hit["provkit"], big_hit["joblib"], "joblib.Memory", "<= 0.1")
    report("  the same, signing on", big_hit["signed"], big_hit["joblib"], "joblib.Memory", "none")


if __name__ == "__main__":
    main()
