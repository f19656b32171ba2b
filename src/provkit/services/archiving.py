"""Files as artifacts: ``archive_file(path)`` and the store step of ``archive_file=True``.

The file's bytes are stored by content; the artifact's value is an ``ArchivedFile``
whose ``str()`` is the absolute path of the stored copy. As in the provenance library,
an archived file's artifact id depends on its content (plus its extension when
``preserve_ext``), the artifact name and ``custom_fields`` -- never on where the file was.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from typing import Any

from provkit.core import hashing
from provkit.core.artifacts import Artifact, ArtifactProxy
from provkit.core.capture import note_artifact
from provkit.core.files import FILE_SERIALIZER, ArchivedFile, file_value_id
from provkit.core.runs import current_run_info, current_user
from provkit.services.inputs import summarize_inputs
from provkit.storage import settings
from provkit.storage.repos.base import Repository

__all__ = ["archive_file", "archive"]

_perf = time.perf_counter


def archive(repo: Repository, artifact: Artifact, path: str, stored_inputs: Any, run_info: dict, read_only: bool,
            preserve_ext: bool, delete_original: bool, *, uncached: bool = False,
            repair: bool = False) -> ArtifactProxy:  # fmt: skip
    """Store the file at ``path`` as the value of ``artifact`` (whose id is set, or made
    distinct from the cached one when ``uncached``); returns the proxy of the stored copy."""
    t0 = _perf()
    artifact.value_id = file_value_id(path, preserve_ext)
    artifact.value_id_duration = _perf() - t0
    artifact.serializer = FILE_SERIALIZER
    if uncached:
        artifact.id = hashing.hash(("provkit.uncached", artifact.id, artifact.value_id))
    if read_only:
        return ArtifactProxy(ArchivedFile(path, artifact.value_id, os.path.basename(path)), artifact)
    repo.save(artifact, None, inputs=stored_inputs, run_info=run_info, replace=True, value_path=path, repair=repair)
    if delete_original:
        os.remove(path)
    stored = repo.load_value(artifact)
    if isinstance(stored, ArchivedFile) and stored.original_name is None:
        stored.original_name = os.path.basename(path)  # errors about this copy name the file it came from
    return ArtifactProxy(stored, artifact)


def archive_file(
    filename: str | os.PathLike,
    name: str | None = None,
    delete_original: bool = False,
    custom_fields: dict | None = None,
    preserve_ext: bool = False,
) -> ArtifactProxy:
    """Copy (or move) a file into the default repository as an artifact; returns its proxy.

    The artifact is named ``name`` (default ``'archive_file'``); the same bytes archived
    from two paths are one artifact.
    """
    path = os.fspath(filename)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"archive_file: no file at {path!r}")
    repo = settings.get_default_repo()
    value_id = file_value_id(path, preserve_ext)
    artifact_name = name or "archive_file"
    fields = dict(custom_fields or {})
    artifact_id = hashing.hash(("provkit.archive_file", value_id, artifact_name, fields))
    existing = repo.lookup(artifact_id) if settings.get_use_cache() else None
    if existing is not None:
        if delete_original:
            os.remove(path)
        note_artifact(existing.id)
        return existing.proxy()
    run_info = current_run_info()
    inputs = {"kargs": {"filehash": value_id, "name": artifact_name}, "varargs": ()}
    artifact = Artifact(
        artifact_id, value_id, artifact_name, fn_module="provkit.files", fn_name="archive_file",
        inputs_json=summarize_inputs(inputs["kargs"], ()), run_id=run_info["id"], custom_fields=fields,
        computed_at=datetime.now(timezone.utc), repo=repo, user=current_user(),
    )  # fmt: skip
    artifact._inputs = inputs
    proxy = archive(repo, artifact, path, inputs, run_info, settings.get_read_only(), preserve_ext, delete_original)
    note_artifact(proxy.artifact.id)
    return proxy
