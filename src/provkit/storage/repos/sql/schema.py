"""Tables of the SQL repository (SQLAlchemy Core), shared by SQLite and PostgreSQL.

``artifact_inputs`` holds every lineage edge (child id -> parent id): artifacts and
their inputs, and features' records (the registry's datasets -> execution -> inputs).
Features define their own tables (``services/registry/sql_schema.py``); the migrations
here create every table, so one revision names the whole database.
JSON columns are JSONB on PostgreSQL, so ``inputs_json ->> 'a'`` works there.
The schema is created and changed only by the Alembic migrations in ``migrations/``;
``HEAD_REVISION`` names the revision this code expects.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

#: The Alembic revision this version of provkit reads and writes.
HEAD_REVISION = "0010"

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
UTCDateTime = sa.DateTime(timezone=True)

metadata = sa.MetaData()

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
    sa.Column("info", JSONType, nullable=False),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("value_id", sa.String(128), nullable=False, index=True),
    sa.Column("run_id", sa.String(64), index=True),
    sa.Column("name", sa.String(512), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("fn_module", sa.String(512)),
    sa.Column("fn_name", sa.String(512), index=True),
    sa.Column("composite", sa.Boolean, nullable=False),
    sa.Column("value_id_duration", sa.Float),
    sa.Column("compute_duration", sa.Float),
    sa.Column("hash_duration", sa.Float),
    sa.Column("computed_at", UTCDateTime, index=True),
    sa.Column("added_at", UTCDateTime, nullable=False),
    sa.Column("input_artifact_ids", JSONType, nullable=False),
    sa.Column("inputs_json", JSONType, nullable=False),
    sa.Column("serializer", sa.String(128), nullable=False),
    sa.Column("load_kwargs", JSONType),
    sa.Column("dump_kwargs", JSONType),
    sa.Column("custom_fields", JSONType, nullable=False),
    sa.Column("value_bytes", sa.LargeBinary),
    sa.Column("inputs_bytes", sa.LargeBinary),
    sa.Column("kind", sa.String(32), nullable=False, server_default="cached", index=True),
    sa.Column("user", sa.String(256), index=True),
    sa.Column("task_key", sa.String(512)),  # 0010: the Dask task that computed it
    # integrity (0006): digest / MAC of the stored value and inputs bytes, source hash
    sa.Column("value_digest", sa.String(80)),
    sa.Column("value_mac", sa.String(96)),
    sa.Column("inputs_digest", sa.String(80)),
    sa.Column("inputs_mac", sa.String(96)),
    sa.Column("source_hash", sa.String(80)),
)

artifact_inputs = sa.Table(
    "artifact_inputs",
    metadata,
    sa.Column("artifact_id", sa.String(128), primary_key=True),
    sa.Column("input_artifact_id", sa.String(128), primary_key=True, index=True),
)

artifact_sets = sa.Table(
    "artifact_sets",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(512), index=True),
    sa.Column("labels", JSONType, nullable=False),
    sa.Column("artifact_ids", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
