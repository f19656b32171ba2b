"""Lifecycle marks: pins (gc roots), retractions, and damage found by verify.

One row per (record id, kind); ``kind`` is "pin", "retract" or "damaged". The table is
owned by ``provkit.services.lifecycle.marks``; the repository only migrates it.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lifecycle_marks",
        sa.Column("record_id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("user", sa.String(256)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_lifecycle_marks_kind", "lifecycle_marks", ["kind"])


def downgrade() -> None:
    op.drop_index("ix_lifecycle_marks_kind", "lifecycle_marks")
    op.drop_table("lifecycle_marks")
