"""Copying artifacts between repositories: value and input blobs, run and record."""

from __future__ import annotations

import copy
import io
import pickle
from typing import Any

from provkit.core.artifacts import Artifact
from provkit.storage.repos.base import Repository
from provkit.storage.repos.extensions import is_feature_record

__all__ = ["copy_artifact", "with_upstream"]


def _blob_keys_in_inputs(data: bytes) -> list[str]:
    """Keys of the large-input blobs an inputs pickle refers to (nothing is loaded)."""
    keys: list[str] = []

    class _Scan(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> None:
            keys.append(pid[1])

        def find_class(self, module: str, name: str) -> Any:
            return lambda *a, **k: None  # we only want the references

    try:
        _Scan(io.BytesIO(data)).load()
    except Exception:
        return keys
    return keys


def _copy_blob(key: str, source: Repository, target: Repository) -> None:
    if target.store is None or source.store is None or target.store.exists(key):
        return
    target.store.copy_from(source.store, key)


def copy_artifact(artifact: Artifact, source: Repository, target: Repository) -> bool:
    """Copy one artifact (value, inputs, run, record) into ``target``; False if present."""
    if target.lookup(artifact.id) is not None:
        return False
    clone = copy.copy(artifact)
    if artifact._value_bytes is None:
        if target.store is None:
            clone._value_bytes = source.store.get_bytes(artifact.value_id) if source.store else None
        else:
            _copy_blob(artifact.value_id, source, target)
    inputs = artifact._inputs_bytes
    if inputs is None and source.store is not None and source.store.exists(artifact.id):
        _copy_blob(artifact.id, source, target)
        inputs = source.store.get_bytes(artifact.id)
    for key in _blob_keys_in_inputs(inputs) if inputs else []:
        _copy_blob(key, source, target)
    if artifact.run_id:
        run = source.get_run(artifact.run_id)
        if run is not None:
            target.ensure_run(run)
    clone.repo = target
    return target._insert(clone, replace=False)


def with_upstream(artifact: Artifact, repo: Repository) -> list[Artifact]:
    """The artifact and everything it was computed from, parents before children."""
    order: list[Artifact] = []
    seen: set[str] = set()
    stack: list[tuple[Artifact, bool]] = [(artifact, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node.id in seen:
            continue
        seen.add(node.id)
        stack.append((node, True))
        parents = list(node.input_artifact_ids)
        if node.composite:
            parents += list(repo.load_value(node).values())
        for parent_id in parents:
            if parent_id not in seen and not is_feature_record(parent_id):  # e.g. registry records stay
                stack.append((repo.get_artifact(parent_id), False))
    return order
