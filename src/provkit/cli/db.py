"""provkit db upgrade | current: the schema of a repository database."""

from __future__ import annotations

import typer

from ._app import db_app, out, print_json


def _url(url: str | None) -> str:
    if url:
        return url
    import provkit as p

    repo = p.get_default_repo()
    if not hasattr(repo, "url"):
        raise ValueError(f"{repo!r} has no database; pass --url")
    return repo.url


@db_app.command()
def current(url: str = typer.Option(None, help="Database URL (default: the default repo's)")) -> None:
    """The schema revision of the database and the one this provkit needs."""
    from provkit.migrations import db_revision
    from provkit.repos.sql.schema import HEAD_REVISION

    revision = db_revision(_url(url))
    print_json({"current": revision, "expected": HEAD_REVISION, "up_to_date": revision == HEAD_REVISION})


@db_app.command()
def upgrade(url: str = typer.Option(None, help="Database URL (default: the default repo's)")) -> None:
    """Upgrade the database to this provkit's schema (back it up first)."""
    import provkit as p

    out.print(f"upgraded to {p.upgrade_db(_url(url))}", highlight=False)
