"""Registering a dataset: copy + hash + read-back verify, against a plain copy.

Peer: ``shutil.copytree`` of the same folder (no hashing, no verification) in the same
run, rounds alternated. provkit reads the source once (hashing while copying) and the
copy once more (verification), so the expected ratio is around 0.5 of a bare copy.
Run: python bench/bench_registry.py [--mib 256] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

import provkit as p
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.sql import SqlRepo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256, help="dataset size (8 files)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="provkit-bench-registry-")
    source = os.path.join(work, "source")
    os.makedirs(source)
    per_file = args.mib * (1 << 20) // 8
    for i in range(8):
        with open(os.path.join(source, f"part-{i}.bin"), "wb") as fh:
            fh.write(os.urandom(per_file))
    reg = p.Registry(SqlRepo(f"sqlite:///{work}/db.sqlite", DiskStore(os.path.join(work, "blobs"))), owner="bench")
    ours, peer = [], []
    for i in range(args.rounds):
        for which in (0, 1) if i % 2 == 0 else (1, 0):
            t0 = time.perf_counter()
            if which == 0:
                reg.register_dataset(f"bench/d{i}", "patch", name="bench", old_location=source)
                ours.append(time.perf_counter() - t0)
            else:
                shutil.copytree(source, os.path.join(work, f"copy{i}"))
                peer.append(time.perf_counter() - t0)
    size = args.mib / 1024
    a, b = size / statistics.median(ours), size / statistics.median(peer)
    print(f"register a {args.mib} MiB folder (8 files)  provkit {a:6.2f} GB/s | shutil.copytree {b:6.2f} GB/s "
          f"| ratio {a / b:5.2f}  (copy + hash + verify vs bare copy; no target set)")  # fmt: skip
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
