"""Storing and loading a 256 MiB array result on the embedded default vs np.save / np.load.

Target (issue 2): >= 0.7x the throughput of np.save / np.load to the same disk.
Storing includes hashing the value (its value id) and the durable metadata row.
Run: python bench/bench_store.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="provkit-bench-store-", dir=os.environ.get("BENCH_DIR"))
    os.environ["PROVKIT_HOME"] = os.path.join(tmp, "provkit")
    import numpy as np

    import provkit as p

    big = np.random.default_rng(0).random(256 * 2**20 // 8)

    @p.provenance()
    def result(i):
        big[0] = i  # a new value each round, so every call really stores 256 MiB
        return big

    result(-1)  # warm up: schema, run info
    save_t, load_t, store_t, get_t = [], [], [], []
    npy = os.path.join(tmp, "plain.npy")

    def peer_store(i: int) -> None:
        t0 = time.perf_counter()
        np.save(npy, big)
        save_t.append(time.perf_counter() - t0)

    def peer_load(i: int) -> None:
        t0 = time.perf_counter()
        loaded = np.load(npy)
        load_t.append(time.perf_counter() - t0)
        assert loaded.shape == big.shape

    ids: dict[int, str] = {}

    def our_store(i: int) -> None:
        t0 = time.perf_counter()
        proxy = result(i)
        store_t.append(time.perf_counter() - t0)
        ids[i] = proxy.artifact.id

    def our_load(i: int) -> None:
        t0 = time.perf_counter()
        value = p.load_proxy(ids[i])
        get_t.append(time.perf_counter() - t0)
        assert value[0] == i

    # Alternate who goes first each round (page-cache writeback and first-touch page
    # faults hit whoever comes first); round 0 is a warm-up and is dropped.
    for i in range(9):
        order = (
            [(peer_store, our_store), (peer_load, our_load)]
            if i % 2
            else [(our_store, peer_store), (our_load, peer_load)]
        )
        for pair in order:
            for step in pair:
                step(i)
        os.remove(npy)
        if i == 0:
            for samples in (save_t, load_t, store_t, get_t):
                samples.clear()
    gb = big.nbytes / 1e9
    for label, ours, theirs, peer in (
        ("store a 256 MiB array result", store_t, save_t, "np.save"),
        ("load a 256 MiB array result", get_t, load_t, "np.load"),
    ):
        o, t = gb / statistics.median(ours), gb / statistics.median(theirs)
        print(f"{label:<44} provkit {o:6.2f} GB/s | {peer} {t:6.2f} GB/s | ratio {o / t:6.3f}  (target >= 0.7)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
