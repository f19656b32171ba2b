"""Single-flight leases: one row per artifact being computed (owner, heartbeat, expiry).

Times are seconds since the epoch (the computing hosts' clocks, kept in sync by NTP).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provkit_leases",
        sa.Column("artifact_id", sa.String(128), primary_key=True),
        sa.Column("owner", sa.String(256), nullable=False),
        sa.Column("acquired_at", sa.Float, nullable=False),
        sa.Column("heartbeat_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_provkit_leases_owner", "provkit_leases", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_provkit_leases_owner", "provkit_leases")
    op.drop_table("provkit_leases")
