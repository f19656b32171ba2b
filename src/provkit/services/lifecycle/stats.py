"""Per-process cache statistics and the ``provkit`` logger's hit / miss lines.

``stats()`` counts hits and misses of decorated calls in this process and the time hits
saved (the recorded compute time of what they returned). The ``provkit`` logger says
every hit and miss with its timing at DEBUG, and each miss's reason (``explain``) at
INFO; ``PROVKIT_LOG=info`` (or ``debug``) turns that on with a handler on stderr.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from provkit.core import stats as counters

__all__ = ["note_hit", "note_miss", "reset_stats", "stats"]

log = logging.getLogger("provkit")
_lock = threading.Lock()
_counts: dict[str, Any] = {}


def reset_stats() -> None:
    """Start counting afresh (feature counters too)."""
    counters.reset()
    with _lock:
        _counts.clear()
        _counts.update({"hits": 0, "misses": 0, "time_saved": 0.0, "hit_seconds": 0.0, "miss_seconds": 0.0,
                        "by_name": {}})  # fmt: skip


reset_stats()


def stats() -> dict:
    """``{"hits", "misses", "time_saved", "hit_seconds", "miss_seconds", "wait_seconds",
    "by_name": {name: {hits, misses}}, "counters": {...}}``: ``wait_seconds`` is the time
    spent waiting for another process computing the same call (single-flight), and
    ``counters`` every feature counter of ``provkit.core.stats``."""
    with _lock:
        out = dict(_counts)
        out["by_name"] = {k: dict(v) for k, v in _counts["by_name"].items()}
    out["counters"] = counters.snapshot()
    out["wait_seconds"] = counters.get("single_flight.wait_seconds")
    return out


def _count(name: str, what: str) -> None:
    entry = _counts["by_name"].get(name)
    if entry is None:
        entry = _counts["by_name"][name] = {"hits": 0, "misses": 0}
    entry[what] += 1


def note_hit(name: str, artifact: Any, seconds: float) -> None:
    saved = artifact.compute_duration or 0.0
    with _lock:
        _counts["hits"] += 1
        _counts["hit_seconds"] += seconds
        _counts["time_saved"] += saved
        _count(name, "hits")
    if log.isEnabledFor(logging.DEBUG):
        log.debug("hit %s -> %s in %.6f s (saved %.6f s)", name, artifact.id, seconds, saved)


def note_miss(tracked: Any, repo: Any, artifact: Any, seconds: float) -> None:
    with _lock:
        _counts["misses"] += 1
        _counts["miss_seconds"] += seconds
        _count(tracked.name, "misses")
    if log.isEnabledFor(logging.DEBUG):
        log.debug("miss %s -> %s in %.6f s", tracked.name, artifact.id, seconds)
    if log.isEnabledFor(logging.INFO):
        from provkit.services.lifecycle.explain import miss_reason

        log.info("%s: %s", tracked.name, miss_reason(tracked, repo, artifact.id, artifact.inputs_json))


def configure_from_env() -> None:
    """``PROVKIT_LOG=debug|info|warning``: the provkit logger's level, printed on stderr."""
    level = os.environ.get("PROVKIT_LOG")
    if not level:
        return
    value = logging.getLevelName(level.upper())
    if not isinstance(value, int):
        from provkit.core.errors import ConfigError

        raise ConfigError(f"PROVKIT_LOG must be debug, info, warning or error, got {level!r}")
    log.setLevel(value)
    if not any(getattr(h, "_provkit", False) for h in log.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("provkit %(levelname)s %(message)s"))
        handler._provkit = True  # type: ignore[attr-defined]
        log.addHandler(handler)


configure_from_env()
