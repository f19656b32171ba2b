"""Where a cache hit's time goes: each step of ``f(1, 2)`` on the embedded default, timed alone.

Steps: the artifact id (remembered for a repeated positional call of ints/strs, and the full
path: bind the arguments, hash each, hash the id), the lookup (of which ``PRAGMA
data_version``, the check that nobody committed since the row was read), the load of the
inline value, the proxy, the statistics; then the whole hit and a bare stdlib sqlite3
primary-key SELECT (the floor) timed in the same rounds. Medians of 9 rounds, in ns.
``--cprofile`` adds cProfile's view of 50,000 hits.
Run: python bench/profile_hit.py [--cprofile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable


def per_call_ns(fn: Callable[[], object], number: int = 20_000) -> float:
    start = time.perf_counter_ns()
    for _ in range(number):
        fn()
    return (time.perf_counter_ns() - start) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="provkit-profile-hit-")
    try:
        run(tmp, args.cprofile)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp: str, with_cprofile: bool) -> None:
    os.environ["PROVKIT_HOME"] = os.path.join(tmp, "provkit")
    import provkit as p
    from provkit.core.artifacts import ArtifactProxy
    from provkit.services.lifecycle.stats import note_hit

    @p.provenance()
    def add(a, b):
        return a + b

    add(1, 2), add(1, 2)
    tracked = add._provkit
    repo = tracked.resolve_repo()
    artifact_id = tracked._by_args[(1, 2)]
    artifact = repo.lookup(artifact_id)
    value = repo.load_value(artifact)
    cursor = repo._raw().driver_connection.cursor()

    def full_id() -> str:
        _, _, kargs, varargs = tracked.bind_inputs((1, 2), {})
        karg_hashes, vararg_hashes, _ = tracked._hash_inputs(kargs, varargs)
        return tracked.artifact_id(karg_hashes, vararg_hashes)

    floor_db = sqlite3.connect(os.path.join(tmp, "floor.db"), isolation_level=None)
    floor_db.execute("PRAGMA journal_mode=WAL")
    floor_db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, v BLOB)")
    floor_db.execute("INSERT INTO t VALUES ('x1abc', x'00')")

    steps: dict[str, Callable[[], object]] = {
        "id, remembered (repeated positional call)": lambda: tracked._by_args.get((1, 2)),
        "id, full path (bind, hash args, hash id)": full_id,
        "lookup (row cache + data_version)": lambda: repo.lookup(artifact_id),
        "  of which PRAGMA data_version": lambda: cursor.execute("PRAGMA data_version").fetchone(),
        "load the inline value": lambda: repo.load_value(artifact),
        "proxy": lambda: ArtifactProxy(value, artifact),
        "statistics (p.stats)": lambda: note_hit(tracked.name, artifact, 1e-6),
        "whole hit f(1, 2)": lambda: add(1, 2),
        "floor: sqlite3 PK SELECT": lambda: floor_db.execute("SELECT id, v FROM t WHERE id = ?", ("x1abc",)).fetchone(),
    }
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(9):
        for name, fn in steps.items():
            samples[name].append(per_call_ns(fn))
    whole = statistics.median(samples["whole hit f(1, 2)"])
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<44} {median:9,.0f} ns  ({median / whole:5.1%} of the hit)")
    if with_cprofile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(50_000):
            add(1, 2)
        profile.disable()
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
