"""Label indexes that also serve the newest-first order: (label, computed_at DESC).

0004's indexes found a label's rows, but a label many records share (the UI's first page of
``labels.project == p3`` at 1,000,000 records: ~77,000 rows) was then sorted whole by time
before the LIMIT. Each index here is the label expression then ``computed_at DESC``, so
"label = value ORDER BY computed_at DESC LIMIT n" reads n entries. They replace 0004's indexes
(their prefix serves the same lookups). On SQLite they are partial (``WHERE <label> IS NOT
NULL``, implied by every comparison the query compiler writes on a label), so rows without
labels (every cached result) add no entry: a save costs less than with 0004's indexes. Not on
PostgreSQL: it keeps no statistics for a partial index's expression, and without them it
guesses a common label rare and sorts all its rows.

Also ``artifacts.task_key``: the Dask task that computed an artifact, so that a worker
process's tasks share one run record (the key was part of a run record of its own per task).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

LABELS = ("ticket", "project", "datatype", "dataset")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _expression(name: str) -> str:
    if _postgres():
        return f"((custom_fields -> 'labels') ->> '{name}')"
    return f'json_extract(custom_fields, \'$."labels"."{name}"\')'


def upgrade() -> None:
    op.add_column("artifacts", sa.Column("task_key", sa.String(512)))
    for name in LABELS:
        label = _expression(name)
        op.execute(f"DROP INDEX ix_artifacts_label_{name}")
        where = "" if _postgres() else f" WHERE {label} IS NOT NULL"
        op.execute(f"CREATE INDEX ix_artifacts_label_time_{name} ON artifacts ({label}, computed_at DESC){where}")


def downgrade() -> None:
    for name in LABELS:
        op.execute(f"DROP INDEX ix_artifacts_label_time_{name}")
    with op.batch_alter_table("artifacts") as batch:  # before the expression indexes: a copy loses them
        batch.drop_column("task_key")
    for name in LABELS:
        op.execute(f"CREATE INDEX ix_artifacts_label_{name} ON artifacts ({_expression(name)})")
