"""Indexes for newest-first listings and per-function lookups.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_artifacts_computed_at", "artifacts", ["computed_at"])
    op.create_index("ix_artifacts_fn_name", "artifacts", ["fn_name"])
    op.create_index("ix_runs_created_at", "runs", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_created_at", table_name="runs")
    op.drop_index("ix_artifacts_fn_name", table_name="artifacts")
    op.drop_index("ix_artifacts_computed_at", table_name="artifacts")
