"""Shared helpers for the benchmarks: interleaved timing, medians, a result line."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_call(fn: Callable[[], object], number: int) -> float:
    """Seconds per call over ``number`` calls."""
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def interleaved(candidates: dict[str, Callable[[], object]], number: int, repeat: int) -> dict[str, float]:
    """Median seconds per call of each candidate, timed in alternation (noise hits all alike)."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    names = list(candidates)
    for round_ in range(repeat):
        shift = round_ % len(names)  # who goes first changes each round (caches, clocks)
        for name in names[shift:] + names[:shift]:
            samples[name].append(per_call(candidates[name], number))
    return {name: statistics.median(values) for name, values in samples.items()}


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:9.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds:9.3f} s "


def report(label: str, ours: float, peer: float, peer_name: str, target: str) -> None:
    """One line: our median, the peer's median, ratio, and the target it is held to."""
    ratio = ours / peer
    print(
        f"{label:<44} provkit {fmt_time(ours)} | {peer_name} {fmt_time(peer)} | ratio {ratio:6.3f}  (target {target})"
    )
