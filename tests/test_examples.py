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


def test_pipeline_example_runs(tmp_path):
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, os.path.join(ROOT, "examples", "pipeline.py")]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=120).stdout
    assert "refused without provenance: missing ['parents or source_files', 'code_name'" in out
    assert "summary read back through its handler: {'steps': 3, 'total_mass': 1635.0}" in out
    upstream = out.split("upstream of Dataset 3.1:\n", 1)[1].split("built from", 1)[0]
    assert len(upstream.strip().splitlines()) == 7, upstream
    assert "4 execution pipeline-stage-1" in upstream
    assert "PROV-JSON: 5 entities, 3 activities" in out
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=120).stdout
    assert "Dataset 1.1: version 0.2.0" in again, "each run is the next minor version"


def test_ml_pipeline_example_runs(tmp_path):
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, os.path.join(ROOT, "examples", "ml_pipeline.py"), "--team", str(tmp_path / "team")]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=120).stdout
    assert "production set: 6 artifacts, labels {'name': 'production'}" in out
    assert "load_data appears 2 times (grouped into a list)" in out
    assert "model: special model with 100 trees" in out
    assert "experiment set 7: 6 artifacts" in out and "found by labels: 6 artifacts" in out
    assert "lazy_proxy_dict by key: ['decision', 'model']" in out
    assert "promoted the decision with 4 upstream artifacts into the team repository" in out
    assert (tmp_path / "team" / "team.db").exists()
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=120).stdout
    seconds = float(again.split("production pipeline ran in ", 1)[1].split(" s", 1)[0])
    assert seconds < 0.9, f"the second run is all cache hits (a miss sleeps 1 s), took {seconds} s"
