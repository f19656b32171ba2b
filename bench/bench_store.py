"""Storing and loading a 256 MiB array result on the embedded default vs np.save / np.load.

Target (issue 2): >= 0.7x the throughput of np.save / np.load to the same disk.
Storing includes hashing the value (its value id), the digest of the written bytes,
the durable publish (fsync of the blob and its folder, issue 11) and the metadata row;
loading includes checking the digest before deserializing. Printed with signing off
(the default) and on (HMAC-SHA256 over the bytes, read into memory before loading),
against np.save and against np.save + fsync (a peer as durable as provkit).
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
    os.environ["PROVKIT_BENCH_SIGN_KEY"] = "bench signing key, not a secret"
    import numpy as np

    import provkit as p
    from provkit.storage.config import embedded_config

    big = np.random.default_rng(0).random(256 * 2**20 // 8)
    configs = {name: embedded_config(os.path.join(tmp, name)) for name in ("off", "on", "nofsync")}
    configs["on"]["artifact_repos"]["local"]["sign_key_env"] = "PROVKIT_BENCH_SIGN_KEY"
    configs["nofsync"]["blobstores"]["local"]["fsync"] = False
    repos = {name: p.from_config(cfg).repos["local"] for name, cfg in configs.items()}

    def result(i):
        big[0] = i  # a new value each round, so every call really stores 256 MiB
        return big

    tracked = {name: p.provenance(repo=repo)(result) for name, repo in repos.items()}
    for fn in tracked.values():
        fn(-1)  # warm up: schema, run info
    times: dict[str, list[float]] = {k: [] for k in ("save", "save_fsync", "load", "off_store", "off_load",
                                                    "on_store", "on_load", "nofsync_store", "nofsync_load")}  # fmt: skip
    npy = os.path.join(tmp, "plain.npy")
    ids: dict[tuple[str, int], str] = {}

    def timed(key: str, fn) -> None:
        t0 = time.perf_counter()
        fn()
        times[key].append(time.perf_counter() - t0)

    def save_fsync() -> None:
        np.save(npy, big)
        fd = os.open(npy, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)

    def load() -> None:
        assert np.load(npy).shape == big.shape

    def ours_store(name: str, i: int) -> None:
        ids[name, i] = tracked[name](i).artifact.id

    def ours_load(name: str, i: int) -> None:
        assert repos[name].proxy(ids[name, i]) is not None

    groups = [  # each store before its own load
        [("save", lambda i: np.save(npy, big)), ("load", lambda i: load())],
        [("save_fsync", lambda i: save_fsync())],
        [("off_store", lambda i: ours_store("off", i)), ("off_load", lambda i: ours_load("off", i))],
        [("on_store", lambda i: ours_store("on", i)), ("on_load", lambda i: ours_load("on", i))],
        [("nofsync_store", lambda i: ours_store("nofsync", i)), ("nofsync_load", lambda i: ours_load("nofsync", i))],
    ]
    # Rotate who goes first each round (page-cache writeback and first-touch page faults
    # hit whoever comes first); round 0 is a warm-up and is dropped.
    for i in range(9):
        shift = i % len(groups)
        for group in groups[shift:] + groups[:shift]:
            for key, step in group:
                timed(key, lambda step=step, i=i: step(i))
                if key in ("load", "save_fsync"):
                    os.remove(npy)  # a new file each time, like provkit's new blobs
        if i == 0:
            for samples in times.values():
                samples.clear()
    gb = big.nbytes / 1e9
    rate = {k: gb / statistics.median(v) for k, v in times.items()}
    for signing in ("off", "on", "nofsync"):
        store, load_ = rate[f"{signing}_store"], rate[f"{signing}_load"]
        target = "  (target >= 0.7)" if signing == "off" else ""
        label = "off, fsync: false" if signing == "nofsync" else signing
        print(
            f"{'store 256 MiB array, signing ' + label:<44} provkit {store:6.2f} GB/s | "
            f"np.save {rate['save']:6.2f} GB/s | ratio {store / rate['save']:6.3f}{target} | "
            f"np.save+fsync {rate['save_fsync']:6.2f} GB/s | ratio {store / rate['save_fsync']:6.3f}"
        )
        print(
            f"{'load 256 MiB array, signing ' + label:<44} provkit {load_:6.2f} GB/s | "
            f"np.load {rate['load']:6.2f} GB/s | ratio {load_ / rate['load']:6.3f}{target}"
        )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
