"""Schema versions: create new databases at head, refuse mismatched ones, upgrade on request."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from provkit.core.errors import SchemaVersionError
from provkit.storage.repos.sql.schema import HEAD_REVISION

SCRIPT_LOCATION = "provkit.storage.repos.sql:migrations"


def _alembic_config(connection: sa.Connection):  # -> alembic.config.Config
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def current_revision(connection: sa.Connection) -> str | None:
    """The revision stamped in the database, or None for an empty database."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    """The newest revision shipped in the package (read from the migration scripts)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    return ScriptDirectory.from_config(cfg).get_current_head()


def upgrade(connection: sa.Connection, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` on ``connection`` (inside its transaction)."""
    from alembic import command

    command.upgrade(_alembic_config(connection), revision)


def ensure_schema(
    engine: sa.Engine, url_for_messages: str, lock: Callable[[sa.Connection], None] | None = None
) -> None:
    """Create the schema in an empty database; raise if it is at another revision.

    ``lock`` runs first inside the transaction (e.g. a PostgreSQL advisory lock) so
    concurrent first opens create the schema once.
    """
    with engine.begin() as connection:
        if lock is not None:
            lock(connection)
        current = current_revision(connection)
        if current == HEAD_REVISION:
            return
        if current is None:
            if sa.inspect(connection).has_table("artifacts"):
                raise SchemaVersionError(
                    f"{url_for_messages} has provkit-like tables but no schema revision; refusing to touch it",
                    current=None,
                    expected=HEAD_REVISION,
                )
            upgrade(connection)
            return
    if _is_known(current):
        raise SchemaVersionError(
            f"the database {url_for_messages} is at schema revision {current}, this provkit needs "
            f"{HEAD_REVISION}: run `provkit db upgrade` or provkit.upgrade_db(url) (back it up first)",
            current=current,
            expected=HEAD_REVISION,
        )
    raise SchemaVersionError(
        f"the database {url_for_messages} is at schema revision {current}, newer than this provkit "
        f"knows ({HEAD_REVISION}): upgrade provkit",
        current=current,
        expected=HEAD_REVISION,
    )


def check_schema(engine: sa.Engine, url_for_messages: str) -> None:
    """Raise unless the database is at this provkit's revision (read-only: nothing is changed)."""
    with engine.connect() as connection:
        current = current_revision(connection)
    if current != HEAD_REVISION:
        raise SchemaVersionError(
            f"the read-only database {url_for_messages} is at schema revision {current}, this provkit needs "
            f"{HEAD_REVISION}: someone who may write it must run `provkit db upgrade`",
            current=current,
            expected=HEAD_REVISION,
        )


def _is_known(revision: str) -> bool:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    try:
        return ScriptDirectory.from_config(cfg).get_revision(revision) is not None
    except CommandError:
        return False
