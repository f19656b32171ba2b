"""The Python 3.10-3.13 interpreters the golden-hash test runs, and a report of the choice.

For each version: a pyenv or system interpreter that has xxhash + numpy, else the venv
``scripts/setup.sh`` made for it under ``$PROVKIT_GOLDEN_VENVS`` (default
``~/.cache/provkit/golden-venvs/pythonX.Y``). A version found on the machine but with
no equipped interpreter is reported as such, never silently dropped.
"""

from __future__ import annotations

import glob
import os
import subprocess

import pytest

MINORS = ("3.10", "3.11", "3.12", "3.13")
#: where the golden-hash test leaves its report for conftest's terminal summary
GOLDEN_REPORT = pytest.StashKey[list]()


def golden_venvs() -> str:
    return os.environ.get("PROVKIT_GOLDEN_VENVS") or os.path.expanduser("~/.cache/provkit/golden-venvs")


def _equipped(exe: str) -> bool:
    ok = subprocess.run([exe, "-c", "import xxhash, numpy"], capture_output=True, check=False, timeout=60)
    return ok.returncode == 0


def find() -> tuple[dict[str, str], dict[str, list[str]]]:
    """({version: interpreter to use}, {version: interpreters found but lacking xxhash/numpy})."""
    chosen: dict[str, str] = {}
    unequipped: dict[str, list[str]] = {}
    for minor in MINORS:
        candidates = [
            *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{minor}.*/bin/python"))),
            f"/usr/bin/python{minor}",
            f"/usr/local/bin/python{minor}",
            os.path.join(golden_venvs(), f"python{minor}", "bin", "python"),
        ]
        present = [exe for exe in dict.fromkeys(candidates) if os.path.exists(exe)]
        for exe in present:
            if _equipped(exe):
                chosen[minor] = exe
                break
        else:
            if present:
                unequipped[minor] = present
    return chosen, unequipped


def report(chosen: dict[str, str], unequipped: dict[str, list[str]]) -> list[str]:
    """Lines for the end of the pytest run."""
    lines = [f"golden hash keys checked on Python {', '.join(chosen) or 'none'}:"]
    lines += [f"  {minor}: {exe}" for minor, exe in chosen.items()]
    for minor, exes in unequipped.items():
        lines.append(f"  {minor}: NOT checked, {', '.join(exes)} lack xxhash/numpy (run bash scripts/setup.sh)")
    missing = [m for m in MINORS if m not in chosen and m not in unequipped]
    if missing:
        lines.append(f"  not installed on this machine: Python {', '.join(missing)}")
    return lines
