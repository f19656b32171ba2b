"""What gc, du and verify read about every record: one ``Row`` per artifact, and the
blob keys a set of rows keeps alive."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

__all__ = ["Inline", "Row", "input_blob_keys", "keys_of"]

_KEY = re.compile(rb"x1[0-9a-f]{32}")


class Row(NamedTuple):
    """One artifact as lifecycle tools see it."""

    id: str
    name: str
    user: str | None
    kind: str
    value_id: str
    inline_bytes: int  # bytes of value and inputs kept in the row itself
    value_blob: bool  # the value lives in the blob store under value_id
    inputs_blob: bool  # the inputs pickle may live in the blob store under id
    added_at: datetime | None
    custom_fields: dict | None  # file artifacts only (their file keys and labels)
    composite: bool


class Inline(NamedTuple):
    """The bytes one artifact keeps in its row (small values, inputs pickles) and what
    they were sealed with, for verify."""

    id: str
    name: str
    value_id: str
    serializer: str
    load_kwargs: Any
    value_bytes: bytes | None
    inputs_bytes: bytes | None
    seal: Any  # provkit.core.integrity.Seal


def input_blob_keys(data: bytes | None) -> set[str]:
    """Blob keys named inside a stored inputs pickle (large inputs are their own blobs).

    Key-shaped strings are collected wherever they appear: an extra key only keeps a blob."""
    if not data or b"blob" not in data:
        return set()
    return {m.decode() for m in _KEY.findall(data)}


def keys_of(row: Row, store_keys: set[str] | None = None) -> set[str]:
    """Blob keys ``row`` references (its inputs blob only when the store has it)."""
    keys = set()
    if row.value_blob:
        keys.add(row.value_id)
    if row.inputs_blob and (store_keys is None or row.id in store_keys):
        keys.add(row.id)
    if row.custom_fields:
        keys.update(str(k) for k in (row.custom_fields.get("file_hashes") or {}).values())
    return keys


def labels_of(row: Row) -> list[str]:
    """Labels shown by du: a file artifact's datatype/project, a cached result's tags."""
    out = []
    fields: Any = row.custom_fields or {}
    labels = fields.get("labels") or {}
    for key in ("datatype", "project"):
        if labels.get(key):
            out.append(f"{key}={labels[key]}")
    return out


def chunks(items: Iterable[str], size: int = 500) -> Iterable[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
