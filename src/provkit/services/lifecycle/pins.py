"""Pins: artifacts (or datasets) that garbage collection always keeps, with a reason."""

from __future__ import annotations

from typing import Any

from provkit.core.artifacts import record_id_of
from provkit.core.errors import ArtifactNotFoundError, ProvkitError
from provkit.core.runs import current_user
from provkit.services.lifecycle.marks import Mark, marks_for
from provkit.storage import settings
from provkit.storage.repos.base import Repository

__all__ = ["pin", "pins", "unpin", "resolve_repo", "check_reason", "check_exists"]


def resolve_repo(repo: Repository | str | None) -> Repository:
    if repo is None:
        return settings.get_default_repo()
    if isinstance(repo, str):
        return settings.get_repo_by_name(repo)
    return repo


def check_reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ProvkitError(f"a reason is required (a non-empty string), got {reason!r}")
    return reason.strip()


def check_exists(repo: Repository, record_id: str) -> None:
    """Raise ArtifactNotFoundError unless ``record_id`` is an artifact or a registry record."""
    if repo.lookup(record_id) is not None:
        return
    if record_id.startswith(("ds_", "ex_")):
        from provkit.services.lineage import get_record

        get_record(repo, record_id)
        return
    raise ArtifactNotFoundError(f"no artifact {record_id!r} in {repo!r}", artifact_id=record_id)


def pin(artifact: Any, reason: str, repo: Repository | str | None = None) -> Mark:
    """Keep ``artifact`` (a proxy, an Artifact, a dataset or an id) and its lineage through gc."""
    repo = resolve_repo(repo)
    record_id = record_id_of(artifact)
    check_exists(repo, record_id)
    return marks_for(repo).add(record_id, "pin", check_reason(reason), current_user())


def unpin(artifact: Any, repo: Repository | str | None = None) -> bool:
    """Remove a pin; False when the record was not pinned."""
    return marks_for(resolve_repo(repo)).remove(record_id_of(artifact), "pin")


def pins(repo: Repository | str | None = None) -> dict[str, Mark]:
    """``{record_id: Mark}`` of every pin."""
    return marks_for(resolve_repo(repo)).of_kind("pin")
