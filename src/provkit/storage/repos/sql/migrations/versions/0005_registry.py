"""The dataset registry: executions and datasets (their edges go to artifact_inputs).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "executions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("site", sa.String(256)),
        sa.Column("configuration", sa.Text),
        sa.Column("start_time", TS),
        sa.Column("creator", sa.String(256)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("input_ids", JSON, nullable=False),
    )
    op.create_index("ix_executions_name", "executions", ["name"])
    op.create_index("ix_executions_created_at", "executions", ["created_at"])
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("version_major", sa.Integer, nullable=False),
        sa.Column("version_minor", sa.Integer, nullable=False),
        sa.Column("version_patch", sa.Integer, nullable=False),
        sa.Column("replace_iteration", sa.Integer, nullable=False),
        sa.Column("relpath", sa.String(1024), nullable=False),
        sa.Column("owner", sa.String(256), nullable=False),
        sa.Column("owner_type", sa.String(32), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("keywords", JSON, nullable=False),
        sa.Column("data_org", sa.String(16), nullable=False),
        sa.Column("nfiles", sa.Integer, nullable=False),
        sa.Column("total_size", sa.BigInteger, nullable=False),
        sa.Column("content_hash", sa.String(128)),
        sa.Column("manifest", JSON, nullable=False),
        sa.Column("is_overwritable", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("live_key", sa.String(1400), unique=True),
        sa.Column("location", sa.String(1400)),
        sa.Column("execution_id", sa.String(64)),
        sa.Column("creator", sa.String(256)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("status_changed_at", TS),
        sa.Column("status_changed_by", sa.String(256)),
        sa.Column("replaced_by", sa.String(64)),
        sa.Column("spec", sa.String(128)),
        sa.Column("provenance", JSON, nullable=False),
        sa.Column("parent_ids", JSON, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.UniqueConstraint(
            "name", "owner_type", "owner", "version_major", "version_minor", "version_patch", "replace_iteration",
            name="uq_datasets_version",
        ),
    )  # fmt: skip
    op.create_index("ix_datasets_name", "datasets", ["name"])
    op.create_index("ix_datasets_status", "datasets", ["status"])
    op.create_index("ix_datasets_execution_id", "datasets", ["execution_id"])
    op.create_index("ix_datasets_owner", "datasets", ["owner_type", "owner"])


def downgrade() -> None:
    op.drop_table("datasets")
    op.drop_table("executions")
