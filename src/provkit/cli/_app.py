"""The typer app, shared options and the error handling every command gets."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True, help="provkit: provenance, caching and artifacts.")
db_app = typer.Typer(no_args_is_help=True, help="The repository database schema.")
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, whatever the width

EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CONFLICT = 1, 2, 3, 4


@app.callback()
def _global(
    config: str = typer.Option(None, "--config", "-c", envvar="PROVKIT_CONFIG", help="YAML config to load."),
    repo: str = typer.Option(None, "--repo", "-r", help="Repo name from the config (default: its default_repo)."),
) -> None:
    import provkit as p

    if config:
        p.load_yaml_config(config)
    if repo:
        p.set_default_repo(repo)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def run() -> int:
    """Run the app; user mistakes become one line on stderr and an exit code."""
    import provkit as p

    try:
        app(standalone_mode=False)
    except (p.ArtifactNotFoundError, p.SetNotFoundError, p.RecordNotFoundError) as exc:
        err.print(f"[red]not found:[/red] {exc}", highlight=False)
        return EXIT_NOT_FOUND
    except (p.RelpathTakenError, p.VersionExistsError, p.DatasetInUseError) as exc:
        err.print(f"[red]conflict:[/red] {exc}", highlight=False)
        return EXIT_CONFLICT
    except (p.ProvkitError, ValueError, KeyError, FileNotFoundError, PermissionError, OSError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return EXIT_ERROR
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return EXIT_ERROR
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click's usage errors (typer vendors click)
            exc.show()
            return EXIT_USAGE
        raise
    return 0


def env_home() -> str:
    from provkit.repos import default_location

    return os.environ.get("PROVKIT_HOME") or default_location()
