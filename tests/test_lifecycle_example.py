"""examples/lifecycle.py runs as written: explain, retract, diff, pin and gc."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_lifecycle_example_runs(tmp_path):
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "lifecycle.py")], env=env,
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "argument 'degree': 1 -> 2" in out and 'raw_v1.csv" -> ' in out
    assert "is tainted: built on" in out and "sign error in row 4" in out
    assert "loading the old model warns: TaintedWarning" in out
    assert "first divergence points" in out
    assert "gc deleted 3 rows" in out and "still loads: [0.0, 2.0, 1.0]" in out and "verify: ok" in out
