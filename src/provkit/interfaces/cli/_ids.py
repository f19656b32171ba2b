"""Ids typed by people: a full id, or a unique prefix (tables show the first 14 characters)."""

from __future__ import annotations

import re

from provkit.interfaces.cli._render import SHORT_ID

_FULL = {"x1": 34, "ds_": 23, "ex_": 23}  # prefix -> length of a full id
_MIN_PREFIX = 6


def _full_length(record_id: str) -> int | None:
    for prefix, length in _FULL.items():
        if record_id.startswith(prefix):
            return length
    return None


def resolve(record_id: str) -> str:
    """The full id ``record_id`` abbreviates; itself when it is full or matches nothing.

    Ambiguous prefixes are an error listing the candidates (at most a few)."""
    length = _full_length(record_id)
    if length is None:
        return _alias_or_itself(record_id)
    if len(record_id) >= length or len(record_id) < _MIN_PREFIX:
        return record_id
    if not re.fullmatch(r"[A-Za-z0-9_]+", record_id):
        return record_id
    import provkit as p

    if record_id.startswith("ex_"):
        found = [e.id for e in p.Registry().find_executions() if e.id.startswith(record_id)]
    elif record_id.startswith("ds_"):
        query = {"id": {"$regex": "^" + record_id}}
        found = [d.id for d in p.Registry().find_datasets(query, all_statuses=True, limit=3)]
    else:
        found = [a.id for a in p.find_artifacts({"id": {"$regex": "^" + record_id}}, 3)]
    found = sorted(set(found))
    if len(found) > 1:
        shown = ", ".join(i[: SHORT_ID + 4] for i in found[:3])
        raise ValueError(f"{record_id!r} is the start of several ids ({shown}...): give more characters")
    return found[0] if found else record_id


def _alias_or_itself(name: str) -> str:
    """The dataset a registry alias names, or ``name`` itself when no alias has it."""
    import provkit as p

    return p.Registry().resolve(name)  # an alias of the working area, else of a production one
