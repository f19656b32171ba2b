"""Initial schema: runs, artifacts, artifact_inputs, artifact_sets.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("info", JSON, nullable=False),
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("value_id", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("fn_module", sa.String(512)),
        sa.Column("fn_name", sa.String(512)),
        sa.Column("composite", sa.Boolean, nullable=False),
        sa.Column("value_id_duration", sa.Float),
        sa.Column("compute_duration", sa.Float),
        sa.Column("hash_duration", sa.Float),
        sa.Column("computed_at", TS),
        sa.Column("added_at", TS, nullable=False),
        sa.Column("input_artifact_ids", JSON, nullable=False),
        sa.Column("inputs_json", JSON, nullable=False),
        sa.Column("serializer", sa.String(128), nullable=False),
        sa.Column("load_kwargs", JSON),
        sa.Column("dump_kwargs", JSON),
        sa.Column("custom_fields", JSON, nullable=False),
        sa.Column("value_bytes", sa.LargeBinary),
        sa.Column("inputs_bytes", sa.LargeBinary),
    )
    op.create_index("ix_artifacts_value_id", "artifacts", ["value_id"])
    op.create_index("ix_artifacts_run_id", "artifacts", ["run_id"])
    op.create_index("ix_artifacts_name", "artifacts", ["name"])
    op.create_table(
        "artifact_inputs",
        sa.Column("artifact_id", sa.String(128), primary_key=True),
        sa.Column("input_artifact_id", sa.String(128), primary_key=True),
    )
    op.create_index("ix_artifact_inputs_input_artifact_id", "artifact_inputs", ["input_artifact_id"])
    op.create_table(
        "artifact_sets",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(512)),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("artifact_ids", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_artifact_sets_name", "artifact_sets", ["name"])


def downgrade() -> None:
    op.drop_table("artifact_sets")
    op.drop_table("artifact_inputs")
    op.drop_table("artifacts")
    op.drop_table("runs")
