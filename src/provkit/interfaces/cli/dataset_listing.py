"""``provkit ls --datasets``: the filters it takes and the columns they add.

Each filter used adds its column to the table (and its field to ``--json`` rows), so
a listing by keyword shows the keywords, by execution site the site, by alias the
aliases — what ``dregs ls`` users get with ``--return_cols``."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from typing import Any

from provkit.services.registry.records import Dataset

__all__ = ["FILTER_COLUMNS", "dataset_query", "extra_columns"]

#: filter option -> (query field, column it adds)
FILTER_COLUMNS: dict[str, tuple[str, str]] = {
    "owner": ("owner", "owner"),
    "owner_type": ("owner_type", "owner_type"),
    "keyword": ("keywords", "keywords"),
    "alias": ("alias", "aliases"),
    "location_type": ("location_type", "location_type"),
    "execution_name": ("execution.name", "execution"),
    "site": ("execution.site", "site"),
}


def dataset_query(filters: dict[str, Any]) -> dict:
    """The query for the filters given (None: not given); ``name`` and ``status`` too. A
    ``*`` in a name is a wildcard (``--name 'DESC:*'``)."""
    query: dict[str, Any] = {}
    for option, value in filters.items():
        if value is None:
            continue
        if option == "name" and "*" in value:
            value = {"$regex": "^" + ".*".join(re.escape(part) for part in value.split("*")) + "$"}
        query[FILTER_COLUMNS[option][0] if option in FILTER_COLUMNS else option] = value
    return query


def extra_columns(filters: dict[str, Any], datasets: list[Any], registry: Any,
                  columns: list[str] = ()) -> dict[str, list[str]]:  # fmt: skip
    """``{column: [value per dataset]}`` for each filter given, then ``columns`` asked for
    by name (any dataset field, ``aliases``, ``execution``, ``site``)."""
    wanted = [FILTER_COLUMNS[o][1] for o, v in filters.items() if v is not None and o in FILTER_COLUMNS]
    known = {f.name for f in dataclasses.fields(Dataset)} | {"aliases", "execution", "site"}
    unknown = sorted(set(columns) - known)
    if unknown:
        raise ValueError(f"unknown dataset column(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    wanted += list(columns)
    out: dict[str, list[str]] = {}
    for column in dict.fromkeys(wanted):
        cell = _cells(column, registry)
        out[column] = [cell(ds) for ds in datasets]
    return out


def _cells(column: str, registry: Any) -> Callable[[Any], str]:
    if column == "keywords":
        return lambda ds: ", ".join(ds.keywords)
    if column == "aliases":
        from provkit.services.registry.alias_query import alias_names

        names = alias_names(registry._areas("both"))
        return lambda ds: ", ".join(sorted(names.get(ds.id, [])))
    if column in ("execution", "site"):
        field = "name" if column == "execution" else "site"
        execution = functools.cache(registry.get_execution)  # datasets often share one
        return lambda ds: getattr(execution(ds.execution_id), field) or "" if ds.execution_id else ""
    return lambda ds: _text(getattr(ds, column))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
