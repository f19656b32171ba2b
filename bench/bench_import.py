"""What ``import provkit`` costs: ``python -X importtime`` in fresh processes, beside peers.

Prints the median cumulative import time of ``provkit`` (and of its heaviest imports)
next to ``joblib`` and ``pandas`` imported the same way, as ratios. Run:
``python bench/bench_import.py [ROUNDS]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

from _common import fmt_time


def import_times(module: str) -> dict[str, float]:
    """Cumulative seconds of each top-level module ``import module`` loaded (one process)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True, check=True
    )
    out: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        if cumulative.isdigit():
            out[name] = int(cumulative) / 1e6
    return out


def main(rounds: int = 9) -> None:
    contenders = ("provkit", "joblib", "pandas")
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    heavy: dict[str, list[float]] = {}
    for round_ in range(rounds):
        shift = round_ % len(contenders)
        for name in contenders[shift:] + contenders[:shift]:
            times = import_times(name)
            samples[name].append(times[name])
            if name == "provkit":
                for module, seconds in times.items():
                    if "." not in module and module != "provkit":
                        heavy.setdefault(module, []).append(seconds)
    ours = statistics.median(samples["provkit"])
    print(f"import provkit: {fmt_time(ours)} (median of {rounds} fresh processes, -X importtime cumulative)")
    for peer in ("joblib", "pandas"):
        theirs = statistics.median(samples[peer])
        print(f"  vs import {peer:7s} {fmt_time(theirs)}   ratio {ours / theirs:5.2f}x")
    top = sorted(heavy.items(), key=lambda item: -statistics.median(item[1]))[:6]
    print("  heaviest imports inside it: " + ", ".join(f"{m} {statistics.median(v) * 1e3:.0f} ms" for m, v in top))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
