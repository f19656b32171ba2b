"""Rows of the ``artifacts`` table turned into ``Artifact`` records.

A cache hit reads only the columns it uses (``HIT_COLUMNS``: ~half of the row, which
halves the cost of the SELECT); the other stored fields are fetched together, in one
more SELECT, the first time any of them is read. Queries read whole rows
(``FULL_COLUMNS``). JSON and time columns are decoded on first read either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from provkit.core.artifacts import Artifact
from provkit.core.errors import ArtifactGoneError
from provkit.core.integrity import COLUMNS as SEAL_COLUMNS
from provkit.core.integrity import Seal

FULL_COLUMNS = (
    "id", "value_id", "name", "version", "fn_module", "fn_name", "composite", "inputs_json",
    "input_artifact_ids", "run_id", "custom_fields", "serializer", "load_kwargs", "dump_kwargs",
    "compute_duration", "hash_duration", "value_id_duration", "computed_at", "added_at",
    "value_bytes", "inputs_bytes", "kind", "user", "task_key", *SEAL_COLUMNS,
)  # fmt: skip
HIT_COLUMNS = (  # compute_duration: p.stats() counts the time each hit saved
    "id", "value_id", "name", "version", "composite", "serializer", "load_kwargs", "value_bytes", "kind",
    "compute_duration", *SEAL_COLUMNS,
)  # fmt: skip
REST_COLUMNS = tuple(c for c in FULL_COLUMNS if c not in HIT_COLUMNS)


def utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def from_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _as_bytes(value: Any) -> bytes | None:
    return bytes(value) if value is not None else None


def _same(value: Any) -> Any:
    return value


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "inputs_json": from_json, "input_artifact_ids": from_json, "custom_fields": from_json,
    "dump_kwargs": from_json, "computed_at": utc, "added_at": utc, "inputs_bytes": _as_bytes,
}  # fmt: skip
_ATTRIBUTES = {"inputs_bytes": "_inputs_bytes"}
# attribute name -> (position in a REST_COLUMNS row, decoder)
_REST = {_ATTRIBUTES.get(c, c): (i, _DECODERS.get(c, _same)) for i, c in enumerate(REST_COLUMNS)}


class DeferredFields:
    """The ``_pending`` of a hit-row artifact: its other fields, fetched once on first read."""

    __slots__ = ("_artifact_id", "_fetch", "_row")

    def __init__(self, fetch: Callable[[str], Any], artifact_id: str) -> None:
        self._fetch = fetch
        self._artifact_id = artifact_id
        self._row: Any = None

    def pop(self, name: str) -> tuple[Callable[[Any], Any], Any]:
        index, decode = _REST[name]  # KeyError: not a deferred field
        row = self._row
        if row is None:
            row = self._fetch(self._artifact_id)
            if row is None:
                raise ArtifactGoneError(
                    f"artifact {self._artifact_id} was deleted after it was read; its {name} is gone",
                    artifact_id=self._artifact_id,
                )
            self._row = row
        return decode, row[index]


def _load_kwargs(raw: Any) -> Any:
    return from_json(raw) if raw not in (None, "null") else None


def artifact_from_hit_row(repo: Any, row: Any, fetch_rest: Callable[[str], Any]) -> Artifact:
    """An artifact from a ``HIT_COLUMNS`` row; ``fetch_rest(id)`` returns its ``REST_COLUMNS``."""
    a = Artifact.__new__(Artifact)
    (a.id, a.value_id, a.name, a.version, composite, a.serializer, load_kwargs, value_bytes, a.kind,
     a.compute_duration) = row[:10]  # fmt: skip
    a._seal = Seal(*row[10:])
    a.composite = bool(composite)
    a._value_bytes = value_bytes if value_bytes is None or type(value_bytes) is bytes else bytes(value_bytes)
    a.load_kwargs = None if load_kwargs is None or load_kwargs == "null" else from_json(load_kwargs)
    return Artifact.from_row(repo, a, DeferredFields(fetch_rest, a.id))  # type: ignore[arg-type]


def artifact_from_row(repo: Any, row: Any) -> Artifact:
    """An artifact from a ``FULL_COLUMNS`` row."""
    a = Artifact.__new__(Artifact)
    (a.id, a.value_id, a.name, a.version, a.fn_module, a.fn_name, composite, inputs_json,
     input_artifact_ids, a.run_id, custom_fields, a.serializer, load_kwargs, dump_kwargs,
     a.compute_duration, a.hash_duration, a.value_id_duration, computed_at, added_at,
     value_bytes, inputs_bytes, a.kind, a.user, a.task_key) = row[:24]  # fmt: skip
    a._seal = Seal(*row[24:])
    a.composite = bool(composite)
    a._value_bytes = bytes(value_bytes) if value_bytes is not None else None
    a._inputs_bytes = bytes(inputs_bytes) if inputs_bytes is not None else None
    a.load_kwargs = _load_kwargs(load_kwargs)
    pending = {  # decoded on first read only
        "inputs_json": (from_json, inputs_json),
        "input_artifact_ids": (from_json, input_artifact_ids),
        "custom_fields": (from_json, custom_fields),
        "dump_kwargs": (from_json, dump_kwargs),
        "computed_at": (utc, computed_at),
        "added_at": (utc, added_at),
    }
    return Artifact.from_row(repo, a, pending)
