"""Putting and getting a 256 MiB value through the S3 store vs plain s3fs, same server.

Target (issue 3): >= 0.8x the throughput of s3fs pipe/cat of the same bytes to the same
SeaweedFS server. Run: python bench/bench_s3.py   (starts SeaweedFS on 127.0.0.1)
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from servers import start_seaweedfs


def main() -> None:
    import s3fs

    from provkit.storage.blobstores.remote import S3Store

    server = start_seaweedfs()
    try:
        opts = {"key": server.info["key"], "secret": server.info["secret"], "endpoint_url": server.info["endpoint_url"]}
        fs = s3fs.S3FileSystem(skip_instance_cache=True, **opts)
        bucket = "bench" + uuid.uuid4().hex[:8]
        for attempt in range(60):
            try:
                fs.mkdir(bucket)
                break
            except Exception:
                if attempt == 59:
                    raise
                time.sleep(0.5)
        store = S3Store(f"{bucket}/store", s3_config={"key": opts["key"], "secret": opts["secret"]},
                        endpoint_url=opts["endpoint_url"], delete=True)  # fmt: skip
        data = os.urandom(256 * 2**20)
        put_t, get_t, pipe_t, cat_t = [], [], [], []
        for i in range(10):
            key = f"x1bench{i}"

            def plain_put(key: str = key) -> None:
                t0 = time.perf_counter()
                fs.pipe_file(f"{bucket}/plain/{key}", data)
                pipe_t.append(time.perf_counter() - t0)

            def our_put(key: str = key) -> None:
                t0 = time.perf_counter()
                store.put_bytes(key, data)
                put_t.append(time.perf_counter() - t0)

            def plain_get(key: str = key) -> bytes:
                t0 = time.perf_counter()
                out = fs.cat_file(f"{bucket}/plain/{key}")
                cat_t.append(time.perf_counter() - t0)
                return out

            def our_get(key: str = key) -> bytes:
                t0 = time.perf_counter()
                out = store.get_bytes(key)
                get_t.append(time.perf_counter() - t0)
                return out

            # alternate who goes first: the server's own caching favours whoever is second
            if i % 2:
                plain_put(), our_put()
                plain, ours = plain_get(), our_get()
            else:
                our_put(), plain_put()
                ours, plain = our_get(), plain_get()
            assert ours == plain == data
            del plain, ours
            fs.rm(f"{bucket}/plain/{key}")
            store.delete(key)
        mb = len(data) / 1e6
        for label, o, t, peer in (
            ("put 256 MiB through the S3 store", put_t, pipe_t, "s3fs.pipe"),
            ("get 256 MiB through the S3 store", get_t, cat_t, "s3fs.cat"),
        ):
            ours, theirs = mb / statistics.median(o), mb / statistics.median(t)
            print(
                f"{label:<44} provkit {ours:7.1f} MB/s | {peer} {theirs:7.1f} MB/s | ratio {ours / theirs:6.3f}  (target >= 0.8)"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
