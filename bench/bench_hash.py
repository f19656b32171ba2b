"""Hashing speed: p.hash vs memory bandwidth and vs joblib.hash.

Targets (issue 2): 256 MiB float64 array >= 0.7x np.copyto's bandwidth with peak memory
growth < 10% of the array; {'a': 4, 'b': 3} >= 10x faster than joblib.hash; a list of
1000 small tuples >= 20x faster.  Run: python bench/bench_hash.py

Hashing only reads the buffer, while np.copyto reads and writes it, so the array is also
compared with read-only passes (np.sum, and xxh3-128 itself over the raw bytes: the floor).
{'a': 4, 'b': 3} is exactly the shape the optional C accelerator handles (a flat dict of
scalars); the other small cases (a tuple value, a nested dict, a large int) take the
general path and are printed with their own ratios.
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
    import xxhash

    import provkit as p

    big = np.random.default_rng(0).random(256 * 2**20 // 8)
    dest = np.empty_like(big)
    t = interleaved(
        {
            "hash": lambda: p.hash(big),
            "copyto": lambda: np.copyto(dest, big),
            "sum": lambda: big.sum(),
            "xxh3": lambda: xxhash.xxh3_128(memoryview(big)).digest(),
        },
        number=1,
        repeat=11,
    )
    gbps = {k: big.nbytes / v / 1e9 for k, v in t.items()}
    print(
        f"{'p.hash of a 256 MiB float64 array':<44} provkit {gbps['hash']:6.2f} GB/s | np.copyto {gbps['copyto']:6.2f} GB/s"
        f" | ratio {gbps['hash'] / gbps['copyto']:6.3f}  (target >= 0.7)"
    )
    for key, name in (("sum", "np.sum (read only)"), ("xxh3", "bare xxh3_128")):
        print(
            f"{'  the same against a read-only pass':<44} provkit {gbps['hash']:6.2f} GB/s | {name} {gbps[key]:6.2f} GB/s"
            f" | ratio {gbps['hash'] / gbps[key]:6.3f}"
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
    others = {
        "{a: 4, b: (1, 2)}  (tuple value)": {"a": 4, "b": (1, 2)},
        "{a: 4, b: {c: 3}}  (nested dict)": {"a": 4, "b": {"c": 3}},
        "{a: 2**100, b: 3}  (large int)": {"a": 2**100, "b": 3},
    }
    for label, value in others.items():
        t = interleaved(
            {"ours": lambda v=value: p.hash(v), "joblib": lambda v=value: joblib.hash(v)}, number=5000, repeat=15
        )
        print(
            f"{'p.hash(' + label + ')':<44} provkit {fmt_time(t['ours'])} | joblib.hash {fmt_time(t['joblib'])}"
            f" | {t['joblib'] / t['ours']:6.1f}x faster  (no C fast path)"
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
