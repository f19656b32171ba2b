"""The registry's own SQL tables: ``executions`` and ``datasets``.

The repository provides the database, its engine and the Alembic migrations that create
these tables (revision 0005 on); their definition, and every statement on them, belong
to the registry.
"""

from __future__ import annotations

import sqlalchemy as sa

from provkit.storage.repos.sql.schema import JSONType, UTCDateTime

metadata = sa.MetaData()

executions = sa.Table(
    "executions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(512), nullable=False, index=True),
    sa.Column("description", sa.Text),
    sa.Column("site", sa.String(256)),
    sa.Column("configuration", sa.Text),
    sa.Column("start_time", UTCDateTime),
    sa.Column("creator", sa.String(256)),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
    sa.Column("run_id", sa.String(64)),
    sa.Column("input_ids", JSONType, nullable=False),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(512), nullable=False, index=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("version_major", sa.Integer, nullable=False),
    sa.Column("version_minor", sa.Integer, nullable=False),
    sa.Column("version_patch", sa.Integer, nullable=False),
    sa.Column("replace_iteration", sa.Integer, nullable=False),
    sa.Column("relpath", sa.String(1024), nullable=False),
    sa.Column("owner", sa.String(256), nullable=False),
    sa.Column("owner_type", sa.String(32), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("keywords", JSONType, nullable=False),
    sa.Column("data_org", sa.String(16), nullable=False),
    sa.Column("nfiles", sa.Integer, nullable=False),
    sa.Column("total_size", sa.BigInteger, nullable=False),
    sa.Column("content_hash", sa.String(128)),
    sa.Column("manifest", JSONType, nullable=False),
    sa.Column("is_overwritable", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("live_key", sa.String(1400), unique=True),
    sa.Column("location", sa.String(1400)),
    sa.Column("execution_id", sa.String(64), index=True),
    sa.Column("creator", sa.String(256)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("status_changed_at", UTCDateTime),
    sa.Column("status_changed_by", sa.String(256)),
    sa.Column("replaced_by", sa.String(64)),
    sa.Column("spec", sa.String(128)),
    sa.Column("provenance", JSONType, nullable=False),
    sa.Column("parent_ids", JSONType, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("location_type", sa.String(16), nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("contact_email", sa.String(256)),
    sa.Column("access_api", sa.String(256)),
    sa.Column("access_api_configuration", sa.Text),
    sa.Column("creation_date", UTCDateTime),
    sa.Column("history", JSONType, nullable=False),
    sa.UniqueConstraint(
        "name", "owner_type", "owner", "version_major", "version_minor", "version_patch", "replace_iteration",
        name="uq_datasets_version",
    ),
    sa.Index("ix_datasets_owner", "owner_type", "owner"),
)  # fmt: skip

#: The keyword vocabulary: shipped system keywords and those users added (``add_keyword``).
registry_keywords = sa.Table(
    "registry_keywords",
    metadata,
    sa.Column("keyword", sa.String(128), primary_key=True),
    sa.Column("system", sa.Boolean, nullable=False),
    sa.Column("creator", sa.String(256)),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

#: Aliases of datasets or of other aliases; ``live_alias`` (unique) holds the name while the
#: alias is current, superseded ones keep their row for the history.
dataset_aliases = sa.Table(
    "dataset_aliases",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("alias", sa.String(512), nullable=False, index=True),
    sa.Column("dataset_id", sa.String(64), index=True),
    sa.Column("ref_alias_id", sa.String(64)),
    sa.Column("superseded_by", sa.String(64)),
    sa.Column("live_alias", sa.String(512), unique=True),
    sa.Column("creator", sa.String(256)),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
