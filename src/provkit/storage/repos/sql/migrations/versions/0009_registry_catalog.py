"""Registry parity with DESC's dataregistry: dataset kinds and contact fields, a modification
history, the keyword vocabulary and dataset aliases.

Existing datasets become ``location_type='dataregistry'`` (copied into the registry) with an
empty history.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("location_type", sa.String(16), nullable=False, server_default="dataregistry"))
        batch.add_column(sa.Column("url", sa.Text))
        batch.add_column(sa.Column("contact_email", sa.String(256)))
        batch.add_column(sa.Column("access_api", sa.String(256)))
        batch.add_column(sa.Column("access_api_configuration", sa.Text))
        batch.add_column(sa.Column("creation_date", TS))
        batch.add_column(sa.Column("history", JSON, nullable=False, server_default="[]"))
    op.create_table(
        "registry_keywords",
        sa.Column("keyword", sa.String(128), primary_key=True),
        sa.Column("system", sa.Boolean, nullable=False),
        sa.Column("creator", sa.String(256)),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "dataset_aliases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("alias", sa.String(512), nullable=False, index=True),
        sa.Column("dataset_id", sa.String(64), index=True),
        sa.Column("ref_alias_id", sa.String(64)),
        sa.Column("superseded_by", sa.String(64)),
        sa.Column("live_alias", sa.String(512), unique=True),
        sa.Column("creator", sa.String(256)),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dataset_aliases")
    op.drop_table("registry_keywords")
    with op.batch_alter_table("datasets") as batch:
        for name in ("history", "creation_date", "access_api_configuration", "access_api", "contact_email", "url",
                     "location_type"):  # fmt: skip
            batch.drop_column(name)
