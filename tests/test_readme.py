"""The README's registry and CLI examples run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = "# runs as written (tests/test_readme.py)"


def _blocks(language: str) -> list[str]:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        text = fh.read()
    return [b for b in re.findall(rf"```{language}\n(.*?)```", text, re.S) if b.startswith(MARK)]


def _env(tmp_path) -> dict:
    bindir = os.path.dirname(sys.executable)
    return {**os.environ, "PROVKIT_HOME": str(tmp_path / "home"), "COLUMNS": "200",
            "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}  # fmt: skip


def test_registry_example_runs(tmp_path):
    (block,) = _blocks("python")
    proc = subprocess.run([sys.executable, "-c", block], env=_env(tmp_path), capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("0.1.0 1 8 ") and "/datasets/user/" in lines[0]
    assert lines[1] == "Dataset 1.1"
    assert "dataset_id" in proc.stdout and "[1 rows x 13 columns]" in proc.stdout, "the DataFrame of the query"
    assert "0.1.0" in lines[-3:], "the latest version"
    assert lines[-1].count("ex_") == 2 and lines[-1].count("ds_") == 1


def test_cli_example_runs(tmp_path):
    (block,) = _blocks("bash")
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block], env=_env(tmp_path), capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Dataset 1.1" in proc.stdout and "pipeline-stage-1" in proc.stdout
    assert "exit 4: stage-2 uses it" in proc.stdout
