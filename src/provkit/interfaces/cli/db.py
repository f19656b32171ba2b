"""provkit db upgrade | current | roles: the schema of a repository database and its users.

Without ``--url`` they act on the database (and PostgreSQL ``schema``) of the configured
repository, read from the config without opening it: a database at an older revision
cannot be opened, but can be upgraded.
"""

from __future__ import annotations

import typer

from provkit.interfaces.cli._app import db_app, print_json, say, settings_from

_URL_HELP = "Database URL (default: the configured repo's)"
_SCHEMA_HELP = (
    "PostgreSQL schema holding provkit's tables (default: the configured repo's schema, if --url is not given)"
)


def _target(ctx: typer.Context, url: str | None, schema: str | None) -> tuple[str, str | None]:
    """(url, schema) from the options, else from the configured repository's settings."""
    if url:
        return url, schema
    from provkit.core.errors import ConfigError

    raw, repo_name = settings_from(ctx)
    repos = raw.get("artifact_repos") or {}
    name = repo_name or raw.get("default_repo") or (next(iter(repos)) if len(repos) == 1 else None)
    if name not in repos:
        raise ConfigError(f"no artifact repo named {name!r} in the config; pass --url or --repo")
    spec = repos[name]
    if not isinstance(spec, dict) or spec.get("type") not in ("sqlite", "postgres") or "db" not in spec:
        kind = spec.get("type") if isinstance(spec, dict) else spec
        raise ConfigError(f"repo {name!r} ({kind}) has no database of its own; pass --url or --repo")
    return spec["db"], schema if schema is not None else spec.get("schema")


@db_app.command()
def current(
    ctx: typer.Context,
    url: str = typer.Option(None, help=_URL_HELP),
    schema: str = typer.Option(None, help=_SCHEMA_HELP),
) -> None:
    """The schema revision of the database and the one this provkit needs (JSON)."""
    from provkit.storage.migrations import db_revision
    from provkit.storage.repos.sql.schema import HEAD_REVISION

    db, schema = _target(ctx, url, schema)
    revision = db_revision(db, schema=schema)
    print_json(
        {"current": revision, "expected": HEAD_REVISION, "up_to_date": revision == HEAD_REVISION, "schema": schema}
    )


@db_app.command()
def upgrade(
    ctx: typer.Context,
    url: str = typer.Option(None, help=_URL_HELP),
    schema: str = typer.Option(None, help=_SCHEMA_HELP),
) -> None:
    """Upgrade the database to this provkit's schema (back it up first)."""
    import provkit as p

    db, schema = _target(ctx, url, schema)
    say(f"upgraded to {p.upgrade_db(db, schema=schema)}")


@db_app.command()
def roles(
    ctx: typer.Context,
    url: str = typer.Option(None, help=_URL_HELP),
    schema: str = typer.Option(None, help=_SCHEMA_HELP),
    prefix: str = typer.Option("provkit", help="Role names are <prefix>_reader, _writer, _admin"),
) -> None:
    """Create PostgreSQL roles for readers, writers and admins of the repository's schema
    (then: GRANT provkit_writer TO alice)."""
    from provkit.storage.repos.sql.postgres import engine_for
    from provkit.storage.repos.sql.roles import create_roles

    db, schema = _target(ctx, url, schema)
    engine = engine_for(db, schema)
    try:
        for role in create_roles(engine, schema, prefix):
            say(role)
    finally:
        engine.dispose()
