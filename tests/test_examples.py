"""The README's main job runs as written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_intro_guide_runs_and_second_run_is_all_cache_hits(tmp_path):
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, os.path.join(ROOT, "examples", "intro_guide.py"), "--out", str(tmp_path)]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=120).stdout
    assert "ArtifactProxy" in first and "result + 3 = 10" in first
    assert "inputs of the product: ['x1" in first
    if shutil.which("dot"):
        svg = (tmp_path / "provkit-intro-lineage.svg").read_text()
        assert "<svg" in svg and "expensive_mult" in svg
    assert "-> <provkit.ArtifactProxy(" in first and " 18 >" in first, "version 1 recomputes"
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=120).stdout
    timings = [float(line.rsplit("(", 1)[1].split(" ms")[0]) for line in second.splitlines() if line.endswith(" ms)")]
    assert timings and max(timings) < 500, f"the second run should be all cache hits: {timings}"


def test_user_story_runs(tmp_path):
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home")}
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "user_story.py")],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    assert "annotation_file" in out and "andy" in out
    assert "the model reads: 'dummy model trained on 2 rows'" in out
    model_lines = [line for line in out.splitlines() if line.startswith("model artifact")]
    assert model_lines and "based on ['x1" in model_lines[0]
