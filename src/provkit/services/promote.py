"""``promote``: copy an artifact and everything upstream of it to another repository."""

from __future__ import annotations

from typing import Any

from provkit.core.artifacts import Artifact
from provkit.core.errors import ArtifactNotFoundError
from provkit.storage.repos.base import Repository
from provkit.storage.repos.copying import copy_artifact, with_upstream

__all__ = ["promote", "copy_artifact"]


def promote(artifact_or_id: Any, to_repo: Any, from_repo: Any = None) -> Artifact:
    """Copy an artifact and everything upstream of it that ``to_repo`` lacks.

    Repos may be given as objects or config names; ``from_repo`` defaults to the
    artifact's own repository (or the default one for an id).
    """
    from provkit.core.hashing import is_proxy
    from provkit.storage.settings import get_default_repo, get_repo_by_name

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
    for node in with_upstream(artifact, source):
        copy_artifact(node, source, target)
    return target.get_artifact(artifact_id)
