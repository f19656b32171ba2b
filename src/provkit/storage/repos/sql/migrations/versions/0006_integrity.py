"""Integrity: digests / MACs of the stored value and inputs bytes, and the function's source hash.

Older rows keep NULLs there: their values are read as before (checked by value id where
the serializer allows it), and a signed repository refuses them (no MAC).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("value_digest", 80),
    ("value_mac", 96),
    ("inputs_digest", 80),
    ("inputs_mac", 96),
    ("source_hash", 80),
)


def upgrade() -> None:
    with op.batch_alter_table("artifacts") as batch:
        for name, size in _COLUMNS:
            batch.add_column(sa.Column(name, sa.String(size)))


def downgrade() -> None:
    with op.batch_alter_table("artifacts") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
