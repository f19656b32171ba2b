"""Process-wide counters (``provkit.core.stats``; ``p.stats()`` shows them): what provkit spent its time on.

Features add to named counters with ``add``; ``snapshot()`` returns them all, ``reset()``
zeroes them. Counters are per process (a Dask worker keeps its own). Names in use:

- ``single_flight.acquired``: computations this process ran holding the lease;
- ``single_flight.waits``: calls that found another process computing and waited;
- ``single_flight.wait_seconds``: total time spent waiting;
- ``single_flight.loaded_after_wait``: waits that ended by loading the other's result;
- ``single_flight.computed_after_wait``: waits that ended computing here (the holder
  raised or died).
- ``single_flight.found_after_acquire``: leases taken for a result another process had
  just stored (loaded, not recomputed).
"""

from __future__ import annotations

import threading
from collections import defaultdict

__all__ = ["add", "get", "snapshot", "reset"]

_lock = threading.Lock()
_counters: defaultdict[str, float] = defaultdict(float)


def add(name: str, amount: float = 1) -> None:
    """Add ``amount`` to counter ``name``."""
    with _lock:
        _counters[name] += amount


def get(name: str) -> float:
    """The value of counter ``name`` (0 if never counted)."""
    with _lock:
        return _counters.get(name, 0)


def snapshot(prefix: str = "") -> dict[str, float]:
    """A copy of the counters (those whose name starts with ``prefix``)."""
    with _lock:
        return {k: v for k, v in sorted(_counters.items()) if k.startswith(prefix)}


def reset() -> None:
    """Zero every counter."""
    with _lock:
        _counters.clear()
