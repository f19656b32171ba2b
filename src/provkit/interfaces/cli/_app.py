"""The typer app, shared options and the error handling every command gets.

User data (labels, names, paths, error messages) is never read as rich markup: it goes
through ``say`` / ``cell`` / ``escape``, so ``[b]x[/b]`` prints as written.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

app = typer.Typer(add_completion=False, no_args_is_help=True, help="provkit: provenance, caching and artifacts.")
db_app = typer.Typer(no_args_is_help=True, help="The repository database schema.")
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, whatever the width

EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CONFLICT = 1, 2, 3, 4
EXIT_INTERRUPTED = 130


@app.callback()
def _global(
    ctx: typer.Context,
    config: str = typer.Option(
        None, "--config", "-c", envvar="PROVKIT_CONFIG", help="YAML config to load (default: $PROVKIT_CONFIG)."
    ),
    repo: str = typer.Option(None, "--repo", "-r", help="Repo name from the config (default: its default_repo)."),
) -> None:
    import provkit as p

    ctx.obj = {"config": config, "repo": repo}
    if ctx.invoked_subcommand == "db":
        return  # `db` reads the settings without opening the repository (it may need an upgrade)
    if config:
        p.load_yaml_config(config)
    if repo:
        p.set_default_repo(repo)


def settings_from(ctx: typer.Context) -> tuple[dict, str | None]:
    """(raw config dict, --repo) as given to this invocation; the embedded default if none."""
    from provkit.storage.config import embedded_config, load_yaml

    obj = ctx.find_root().obj or {}
    path = obj.get("config")
    raw = load_yaml(path) if path else embedded_config(env_home())
    return raw, obj.get("repo")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def say(value: Any) -> None:
    """Print one value (an id, a path) as written: no markup, no highlighting, no wrapping."""
    out.print(Text(str(value)), soft_wrap=True)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, safe from rich markup."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return escape(text)


def _database_error(exc: Exception) -> str:
    """The driver's own message of a SQLAlchemy error (no SQL, no background link)."""
    orig = getattr(exc, "orig", None)
    return f"database error: {' '.join(str(orig if orig is not None else exc).split())}"


def run() -> int:
    """Run the app; user mistakes become one line on stderr and an exit code.

    ``PROVKIT_DEBUG=1`` shows the traceback of unexpected errors instead."""
    import provkit as p

    try:
        app(standalone_mode=False)
    except (p.ArtifactNotFoundError, p.SetNotFoundError, p.RecordNotFoundError) as exc:
        err.print(f"[red]not found:[/red] {one_line(exc)}", highlight=False)
        return EXIT_NOT_FOUND
    except (p.RelpathTakenError, p.VersionExistsError, p.DatasetInUseError) as exc:
        err.print(f"[red]conflict:[/red] {one_line(exc)}", highlight=False)
        return EXIT_CONFLICT
    except (p.ProvkitError, ValueError, KeyError, TypeError, OSError) as exc:
        err.print(f"[red]error:[/red] {one_line(exc)}", highlight=False)
        return EXIT_ERROR
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return EXIT_ERROR
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]", highlight=False)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click's usage errors (typer vendors click)
            exc.show()
            return EXIT_USAGE
        import sqlalchemy as sa

        if isinstance(exc, sa.exc.SQLAlchemyError):
            err.print(f"[red]error:[/red] {escape(_database_error(exc))}", highlight=False)
            return EXIT_ERROR
        if os.environ.get("PROVKIT_DEBUG"):
            raise
        err.print(
            f"[red]unexpected error:[/red] {type(exc).__name__}: {one_line(exc)} (PROVKIT_DEBUG=1 shows the traceback)",
            highlight=False,
        )
        return EXIT_ERROR
    return 0


def env_home() -> str:
    from provkit.storage.repos import default_location

    return os.environ.get("PROVKIT_HOME") or default_location()
