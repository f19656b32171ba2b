"""Alembic environment: runs on the connection provkit hands over in ``attributes``."""

from alembic import context

from provkit.storage.repos.sql.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
