"""Copying artifacts between repositories, with everything upstream of them."""

from __future__ import annotations

import copy
import io
import pickle
from typing import Any

from ..artifacts import Artifact
from ..errors import ArtifactNotFoundError
from .base import Repository

__all__ = ["promote", "copy_artifact"]


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


def _upstream(artifact: Artifact, repo: Repository) -> list[Artifact]:
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
            if parent_id not in seen and not parent_id.startswith(("ds_", "ex_")):  # registry records stay
                stack.append((repo.get_artifact(parent_id), False))
    return order


def promote(artifact_or_id: Any, to_repo: Any, from_repo: Any = None) -> Artifact:
    """Copy an artifact and everything upstream of it that ``to_repo`` lacks.

    Repos may be given as objects or config names; ``from_repo`` defaults to the
    artifact's own repository (or the default one for an id).
    """
    from ..hashing import is_proxy
    from ..settings import get_default_repo, get_repo_by_name

    def resolve(repo: Any) -> Repository:
        return get_repo_by_name(repo) if isinstance(repo, str) else repo

    target = resolve(to_repo)
    if is_proxy(artifact_or_id):
        artifact_or_id = artifact_or_id.artifact
    if isinstance(artifact_or_id, Artifact):
        source = resolve(from_repo) if from_repo is not None else artifact_or_id.repo or get_default_repo()
        artifact_id = artifact_or_id.id
    else:
        source = resolve(from_repo) if from_repo is not None else get_default_repo()
        artifact_id = artifact_or_id
    artifact = source.lookup(artifact_id)
    if artifact is None:
        raise ArtifactNotFoundError(f"no artifact {artifact_id!r} in {source!r} to promote", artifact_id=artifact_id)
    for node in _upstream(artifact, source):
        copy_artifact(node, source, target)
    return target.get_artifact(artifact_id)
