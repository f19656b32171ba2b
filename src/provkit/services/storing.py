"""Storing a miss's result: a plain value, an archived file, or a composite's members.

What ``@provenance()`` does after the function ran: hash the value (its value id),
choose the serializer, write blob then record, and hand back the ArtifactProxy.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from provkit.core import hashing
from provkit.core.artifacts import Artifact, ArtifactProxy
from provkit.core.errors import SerializationError
from provkit.core.files import FILE_SERIALIZER
from provkit.core.lazy import LazyDict
from provkit.core.serializers import get_serializer, serializer_for
from provkit.services.archiving import archive
from provkit.storage.repos.base import Repository

if TYPE_CHECKING:
    from provkit.services.decorator import TrackedFunction

__all__ = ["OWN", "store_composite", "store_file", "store_value", "uncached_id"]

_perf = time.perf_counter
OWN: Any = object()  # "the function's own serializer option"


def store_value(fn: TrackedFunction, repo: Repository, artifact: Artifact, value: Any, stored_inputs: Any,
                run_info: dict, read_only: bool, *, replace: bool = False, repair: bool = False,
                uncached: bool = False, serializer: Any = OWN) -> ArtifactProxy:  # fmt: skip
    """Hash the value, choose its serializer and store it (``uncached``: under an id
    of its own, derived from the normal id and the value id, as with use_cache=False)."""
    if hashing.is_proxy(value):  # returning an input unchanged: same value, new artifact
        artifact.value_id = value.artifact.value_id
        value = value.__wrapped__
    else:
        t0 = _perf()
        artifact.value_id = hashing.hash(value)
        artifact.value_id_duration = _perf() - t0
    if uncached:
        artifact.id = uncached_id(artifact.id, artifact.value_id)
    serializer = fn.serializer if serializer is OWN else serializer
    auto = serializer is None
    artifact.serializer = serializer_for(value) if auto else serializer
    get_serializer(artifact.serializer)  # unknown names fail before anything is written
    if read_only:
        return ArtifactProxy(value, artifact)
    replace = replace or repair
    if uncached and not replace:
        existing = repo.lookup(artifact.id)
        if existing is not None:  # this very result was stored before
            return ArtifactProxy(value, existing)
    try:
        repo.save(artifact, value, inputs=stored_inputs, run_info=run_info, replace=replace, repair=repair)
    except SerializationError:
        if not auto or artifact.serializer == "joblib":
            raise
        artifact.serializer = "joblib"  # e.g. a DataFrame parquet cannot hold: pickle it
        repo.save(artifact, value, inputs=stored_inputs, run_info=run_info, replace=replace, repair=repair)
    return ArtifactProxy(value, artifact)


def store_file(fn: TrackedFunction, repo: Repository, artifact: Artifact, value: Any, stored_inputs: Any,
               run_info: dict, read_only: bool, uncached: bool, repair: bool = False) -> ArtifactProxy:  # fmt: skip
    if not isinstance(value, (str, os.PathLike)) or not os.path.isfile(value):
        raise SerializationError(
            f"{fn.name} has archive_file=True but returned {value!r}, not the path of an existing file",
            serializer=FILE_SERIALIZER,
        )
    return archive(repo, artifact, os.fspath(value), stored_inputs, run_info, read_only,
                   fn.preserve_file_ext, fn.delete_original_file, uncached=uncached, repair=repair)  # fmt: skip


def store_composite(fn: TrackedFunction, repo: Repository, artifact: Artifact, value: Any, stored_inputs: Any,
                    run_info: dict, read_only: bool, uncached: bool) -> ArtifactProxy:  # fmt: skip
    """Each value of the returned dict becomes an artifact named ``<name>_<key>``."""
    if not isinstance(value, dict):
        raise SerializationError(
            f"{fn.name} has returns_composite=True but returned {type(value).__name__}, not a dict"
        )
    parts: dict[str, str] = {}
    proxies: dict[str, ArtifactProxy] = {}
    for key, part in value.items():
        part_artifact = Artifact(
            hashing.hash(("provkit.composite_part", artifact.id, key)), "", f"{fn.name}_{key}",
            version=fn.version, fn_module=fn.fn_module, fn_name=fn.fn_name,
            inputs_json=artifact.inputs_json, input_artifact_ids=artifact.input_artifact_ids,
            run_id=artifact.run_id, custom_fields=fn.custom_fields,
            load_kwargs=_per_key(fn.load_kwargs, key), dump_kwargs=_per_key(fn.dump_kwargs, key),
            compute_duration=artifact.compute_duration, hash_duration=artifact.hash_duration,
            computed_at=artifact.computed_at, repo=repo, run_info=run_info, persisted=not read_only,
            user=artifact.user,
        )  # fmt: skip
        part_artifact._inputs = artifact._inputs
        proxies[key] = store_value(
            fn, repo, part_artifact, part, stored_inputs, run_info, read_only, replace=True, uncached=uncached,
            serializer=_per_key(fn.serializer, key),
        )  # fmt: skip
        parts[key] = proxies[key].artifact.id
    artifact.composite = True
    artifact.value_id = hashing.hash(proxies)  # hashes like the dict of the values
    if uncached:
        artifact.id = uncached_id(artifact.id, artifact.value_id)
    artifact.serializer = "joblib"
    artifact.load_kwargs = artifact.dump_kwargs = None
    if not read_only:
        repo.save(artifact, parts, inputs=stored_inputs, run_info=run_info, replace=True)
    return ArtifactProxy(LazyDict({k: (lambda p=p: p) for k, p in proxies.items()}), artifact)


def uncached_id(artifact_id: str, value_id: str) -> str:
    """Where a ``use_cache=False`` result is stored: never over the cached artifact."""
    return hashing.hash(("provkit.uncached", artifact_id, value_id))


def _per_key(option: Any, key: str) -> Any:
    """A composite member's serializer or kwargs: ``{key: serializer name}`` /
    ``{key: {kwargs}}`` give each member its own (others: the default); anything else
    applies to every member."""
    if isinstance(option, Mapping) and option:
        values = list(option.values())
        if all(isinstance(v, str) for v in values) or all(isinstance(v, Mapping) or v is None for v in values):
            return option.get(key)
    return option
