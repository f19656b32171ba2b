"""Mongo-style queries over datasets: the same language as ``provkit.find`` for artifacts.

A query addresses a dataset as this document:

    id, name, version, version_major / version_minor / version_patch, replace_iteration,
    relpath, owner, owner_type, description, data_org, nfiles, total_size, content_hash,
    is_overwritable, status, execution_id, creator, created_at, spec, run_id, replaced_by,
    keywords (array), parents (array: writer parents), provenance.* (JSON),
    location_type, url, contact_email, access_api, creation_date,
    execution.name / .site / .description / .creator (the dataset's execution),
    alias (registry/alias_query.py), retracted / tainted (lifecycle/retraction.py)

e.g. ``{"owner_type": "production", "keywords": "sim", "total_size": {"$gt": 1e9}}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provkit.services.query import Fields
from provkit.services.registry.records import Dataset, parse_version

__all__ = ["DATASET_FIELDS", "dataset_document", "sql_dataset_fields", "register_dataset_query_rewriter",
           "rewrite_dataset_query"]  # fmt: skip

_rewriters: list[Callable[[dict, Any], Any]] = []


def register_dataset_query_rewriter(rewrite: Callable[[dict, Any], Any]) -> None:
    """Have dataset queries pass through ``rewrite(query, repo)`` first: how features add
    query keys of their own (retraction: ``retracted``, ``tainted``)."""
    _rewriters.append(rewrite)


def rewrite_dataset_query(query: dict, repo: Any) -> dict:
    """``query`` after every registered rewriter, for the registry area in ``repo``."""
    for rewrite in _rewriters:
        query = rewrite(query, repo)
    return query


_COLUMNS = ("id", "name", "version", "version_major", "version_minor", "version_patch", "replace_iteration",
            "relpath", "owner", "owner_type", "description", "data_org", "nfiles", "total_size", "content_hash",
            "is_overwritable", "status", "execution_id", "creator", "created_at", "spec", "run_id",
            "replaced_by", "location_type", "url", "contact_email", "access_api", "creation_date")  # fmt: skip
#: The execution fields a dataset query reaches through ``execution.<field>``
_EXECUTION = ("name", "site", "description", "creator")
_INTS = ("version_major", "version_minor", "version_patch", "replace_iteration", "nfiles", "total_size")
#: Value types of the columns (time fields take datetimes, dates or ISO-8601 strings)
_TYPES = {**{c: "str" for c in _COLUMNS}, **{c: "int" for c in _INTS}, "is_overwritable": "bool",
          "created_at": "time", "creation_date": "time"}  # fmt: skip
_ALIASES = {"keyword": "keywords", "parent_ids": "parents", "username": "creator", "creation_time": "created_at"}

#: The schema the Python evaluator uses (memory repositories).
DATASET_FIELDS = Fields(
    columns={c: None for c in _COLUMNS},
    json={"provenance": None, "execution": None},
    arrays={"keywords": lambda condition: None, "parents": lambda condition: None},
    aliases=dict(_ALIASES),
    types=dict(_TYPES),
)


def dataset_document(ds: Dataset, execution: Any = None) -> dict[str, Any]:
    """The document a query sees for ``ds`` (for the Python evaluator)."""
    major, minor, patch = parse_version(ds.version)
    doc = {c: getattr(ds, c, None) for c in _COLUMNS}
    doc.update(version_major=major, version_minor=minor, version_patch=patch, provenance=ds.provenance,
               keywords=list(ds.keywords), parents=list(ds.parent_ids),
               execution={f: getattr(execution, f) for f in _EXECUTION} if execution is not None else {})  # fmt: skip
    return doc


def _elements(column: Any, dialect: str) -> Any:
    """``member(condition)``: EXISTS over the string elements of a JSON array column."""
    import sqlalchemy as sa

    fn = sa.func.jsonb_array_elements_text if dialect == "postgresql" else sa.func.json_each
    each = fn(column).table_valued(sa.column("value", sa.String))

    def member(condition: Any) -> Any:
        return sa.exists(sa.select(sa.literal(1)).select_from(each).where(condition(each.c.value)))

    return member


def sql_dataset_fields(dialect: str) -> Fields:
    """The schema for SQL repositories (columns of the ``datasets`` table)."""
    import sqlalchemy as sa

    from provkit.services.registry import sql_schema as registry_schema

    d, e = registry_schema.datasets, registry_schema.executions
    build = sa.func.jsonb_build_object if dialect == "postgresql" else sa.func.json_object
    pairs = [part for f in _EXECUTION for part in (sa.literal(f), e.c[f])]
    execution = sa.select(build(*pairs)).where(e.c.id == d.c.execution_id).correlate(d).scalar_subquery()
    return Fields(
        columns={c: d.c[c] for c in _COLUMNS},
        json={"provenance": d.c.provenance, "execution": execution},
        arrays={"keywords": _elements(d.c.keywords, dialect), "parents": _elements(d.c.parent_ids, dialect)},
        aliases=dict(_ALIASES),
        types=dict(_TYPES),
    )
