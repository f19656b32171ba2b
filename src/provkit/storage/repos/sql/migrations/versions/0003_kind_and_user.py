"""Artifacts record their kind ('cached' or 'files') and the user who made them.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("artifacts") as batch:
        batch.add_column(sa.Column("kind", sa.String(32), nullable=False, server_default="cached"))
        batch.add_column(sa.Column("user", sa.String(256)))
    op.create_index("ix_artifacts_kind", "artifacts", ["kind"])
    op.create_index("ix_artifacts_user", "artifacts", ["user"])


def downgrade() -> None:
    op.drop_index("ix_artifacts_user", table_name="artifacts")
    op.drop_index("ix_artifacts_kind", table_name="artifacts")
    with op.batch_alter_table("artifacts") as batch:
        batch.drop_column("user")
        batch.drop_column("kind")
