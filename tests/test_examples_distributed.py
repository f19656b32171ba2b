"""examples/distributed.py runs on a LocalCluster; its second run is all cache hits."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_distributed_example_runs_and_second_run_is_all_hits(tmp_path):
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home")}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    cmd = [sys.executable, os.path.join(ROOT, "examples", "distributed.py")]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=300).stdout
    assert "workers: 2" in first and "4 models trained and evaluated" in first
    assert "as task evaluate-" in first and "computed on tcp://" in first
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=300).stdout
    seconds = float(again.split("evaluated in ", 1)[1].split(" s", 1)[0])
    assert seconds < 2.0, f"the second run is all cache hits (features sleep 0.5 s each), took {seconds} s"
    best = [line for line in first.splitlines() if line.startswith("best:")]
    assert best and best == [line for line in again.splitlines() if line.startswith("best:")]
