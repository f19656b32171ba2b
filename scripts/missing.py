"""Print what this checkout still needs installed (nothing: exit 0; else exit 1).

Checks that ``import provkit`` finds this checkout's ``src/provkit`` (an editable install,
or PYTHONPATH) and that every requirement of provkit[all,test] is installed.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _requirements() -> list[str]:
    try:
        import tomllib
    except ImportError:  # Python 3.10: no TOML reader in the standard library
        return ["(cannot read pyproject.toml on this Python: reinstalling)"]
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        project = tomllib.load(fh)["project"]
    extras = project["optional-dependencies"]
    wanted = list(project["dependencies"]) + extras["test"]
    for extra in ("pandas", "vis", "postgres", "s3", "sftp", "gs", "prov", "ui"):
        wanted += extras[extra]
    return wanted


def missing() -> list[str]:
    gaps = []
    try:
        import provkit
    except ImportError:
        gaps.append("provkit (this checkout)")
    else:
        here = os.path.realpath(os.path.join(ROOT, "src", "provkit"))
        if os.path.realpath(os.path.dirname(provkit.__file__)) != here:
            gaps.append(f"provkit from this checkout (found {os.path.dirname(provkit.__file__)})")
    for requirement in _requirements():
        name = re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0]
        if name.startswith("("):
            gaps.append(requirement)
            continue
        try:
            md.distribution(name)
        except md.PackageNotFoundError:
            gaps.append(requirement)
    return gaps


if __name__ == "__main__":
    gaps = missing()
    for gap in gaps:
        print(gap)
    sys.exit(1 if gaps else 0)
