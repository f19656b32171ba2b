"""Decorated functions importable by spawned processes and Dask workers (tests only).

Each computation appends a line to the file named by ``$PROVKIT_TEST_COUNTS`` (when set),
so tests count how many times a function body really ran, across processes.
"""

from __future__ import annotations

import os
import time

import provkit as p


def note(what: str) -> None:
    """Append ``what`` to the side-effect file (one line per real computation)."""
    path = os.environ.get("PROVKIT_TEST_COUNTS")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{what} {os.getpid()}\n")


def count(path: str, what: str | None = None) -> int:
    """Lines in the side-effect file (those starting with ``what`` when given)."""
    if not os.path.exists(path):
        return 0
    with open(path, encoding="utf-8") as fh:
        return sum(1 for line in fh if what is None or line.split()[0] == what)


@p.provenance()
def add(a: int, b: int) -> int:
    note("add")
    return a + b


@p.provenance()
def slow_square(x: int, seconds: float = 1.0) -> int:
    note("slow_square")
    time.sleep(seconds)
    return x * x


@p.provenance()
def fails_once_slowly(x: int, seconds: float = 1.0) -> int:
    """Raises in the first process that runs it (marker file), succeeds afterwards."""
    note("fails")
    marker = os.environ["PROVKIT_TEST_COUNTS"] + ".failed"
    time.sleep(seconds)
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("the first computation fails")
    return x + 100


@p.provenance()
def total(values: list) -> int:
    note("total")
    return int(sum(values))


@p.provenance()
def slow_first(x: int) -> int:
    """Very slow in the first process that runs it (marker file), quick afterwards."""
    note("slow_first")
    marker = os.environ["PROVKIT_TEST_COUNTS"] + ".first"
    if not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(120)
    else:
        time.sleep(0.2)
    return x * 3


@p.provenance()
def slow_on_first_worker(x: int) -> int:
    """Writes its process id to ``$PROVKIT_TEST_COUNTS.pid`` and sleeps long the first time
    (so a test can kill that worker mid-task); quick in any later process."""
    note("slow_on_first_worker")
    marker = os.environ["PROVKIT_TEST_COUNTS"] + ".pid"
    if not os.path.exists(marker):
        with open(marker, "w", encoding="utf-8") as fh:
            fh.write(str(os.getpid()))
        time.sleep(120)
    return x * 10


@p.provenance()
def ones(n: int):
    import numpy as np

    note("ones")
    return np.ones(n, dtype=np.uint8)


@p.provenance()
def nbytes_of(array) -> int:
    note("nbytes_of")
    return int(array.nbytes)


def loaded_states(*proxies) -> list[bool]:
    """(undecorated) Whether each argument's value was in memory when the task started."""
    from provkit.core.lazy_proxies import proxy_is_loaded

    return [proxy_is_loaded(x) for x in proxies]


def hit_then_states(fn, proxy) -> tuple[bool, bool]:
    """(undecorated) Call ``fn(proxy)`` (a hit), then say whether ``proxy`` got loaded,
    and whether touching it loads it."""
    from provkit.core.lazy_proxies import proxy_is_loaded

    fn(proxy)
    before = proxy_is_loaded(proxy)
    int(proxy.nbytes)
    return before, proxy_is_loaded(proxy)
