"""The ``provkit`` command line (typer + rich). The library never imports this package.

Exit codes: 0 success, 1 an error (one line on stderr, no traceback), 2 bad usage,
3 not found (no artifact / set / dataset / execution with that id), 4 a registry
conflict (relpath taken, version exists, dataset in use).
"""

from __future__ import annotations

import sys

from provkit.interfaces.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``provkit`` script."""
    from provkit.interfaces.cli import (  # noqa: F401 - registers the commands
        artifacts,
        curation_cmd,
        db,
        lifecycle_cmd,
        lineage_cmd,
        registry_cmd,
        ui_cmd,
    )
    from provkit.interfaces.cli._app import run

    sys.exit(run())
