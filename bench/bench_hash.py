"""Hashing speed: p.hash vs memory bandwidth and vs joblib.hash.

Targets (issue 2): 256 MiB float64 array >= 0.7x np.copyto's bandwidth with peak memory
growth < 10% of the array; {'a': 4, 'b': 3} >= 10x faster than joblib.hash; a list of
1000 small tuples >= 20x faster.  Run: python bench/bench_hash.py
"""

from __future__ import annotations

import os
import sys
import tracemalloc

sys.path.insert(0, os.path.dirname(__file__))
from _common import fmt_time, interleaved


def main() -> None:
    import joblib
    import numpy as np

    import provkit as p

    big = np.random.default_rng(0).random(256 * 2**20 // 8)
    dest = np.empty_like(big)
    t = interleaved({"hash": lambda: p.hash(big), "copyto": lambda: np.copyto(dest, big)}, number=1, repeat=11)
    gbps = {k: big.nbytes / v / 1e9 for k, v in t.items()}
    print(
        f"{'p.hash of a 256 MiB float64 array':<44} provkit {gbps['hash']:6.2f} GB/s | np.copyto {gbps['copyto']:6.2f} GB/s"
        f" | ratio {gbps['hash'] / gbps['copyto']:6.3f}  (target >= 0.7)"
    )
    tracemalloc.start()
    p.hash(big)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{'  peak memory growth while hashing it':<44} {peak / 2**20:8.2f} MiB = {peak / big.nbytes:.4%} of the array (target < 10%)"
    )

    small = {"a": 4, "b": 3}
    t = interleaved({"ours": lambda: p.hash(small), "joblib": lambda: joblib.hash(small)}, number=5000, repeat=15)
    speedup = t["joblib"] / t["ours"]
    print(
        f"{'p.hash({a: 4, b: 3})':<44} provkit {fmt_time(t['ours'])} | joblib.hash {fmt_time(t['joblib'])}"
        f" | {speedup:6.1f}x faster  (target >= 10x)"
    )
    tuples = [(i, f"name{i}", i * 0.5) for i in range(1000)]
    t = interleaved({"ours": lambda: p.hash(tuples), "joblib": lambda: joblib.hash(tuples)}, number=20, repeat=15)
    speedup = t["joblib"] / t["ours"]
    print(
        f"{'p.hash(list of 1000 small tuples)':<44} provkit {fmt_time(t['ours'])} | joblib.hash {fmt_time(t['joblib'])}"
        f" | {speedup:6.1f}x faster  (target >= 20x)"
    )


if __name__ == "__main__":
    main()
