"""Expression indexes on file-artifact labels (ticket, project, datatype, dataset).

They match the SQL the query compiler writes for ``labels.<name>`` comparisons.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LABELS = ("ticket", "project", "datatype", "dataset")


def _expression(name: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"((custom_fields -> 'labels') ->> '{name}')"
    return f'json_extract(custom_fields, \'$."labels"."{name}"\')'


def upgrade() -> None:
    for name in LABELS:
        op.execute(f"CREATE INDEX ix_artifacts_label_{name} ON artifacts ({_expression(name)})")


def downgrade() -> None:
    for name in LABELS:
        op.execute(f"DROP INDEX ix_artifacts_label_{name}")
