"""ArtifactSet: an immutable, labelled set of artifact ids (the record; the API that
captures and loads sets lives in ``provkit.services.sets``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from provkit.core import hashing
from provkit.core.artifacts import Artifact, default_repo

if TYPE_CHECKING:
    from provkit.core.lazy import LazyDict
    from provkit.storage.repos.base import Repository

__all__ = ["ArtifactSet", "ids_of", "normalize_labels", "store_set"]


def normalize_labels(labels: str | Mapping | None) -> dict:
    """A set's labels as a dict: a plain string becomes ``{'name': string}``."""
    if labels is None:
        return {}
    if isinstance(labels, str):
        return {"name": labels}
    if isinstance(labels, Mapping):
        return dict(labels)
    raise TypeError(f"set labels must be a str or a mapping, got {type(labels).__name__}")


def ids_of(items: Iterable[Any]) -> frozenset[str]:
    ids = set()
    for item in items:
        if hashing.is_proxy(item):
            ids.add(item.artifact.id)
        elif isinstance(item, Artifact):
            ids.add(item.id)
        elif isinstance(item, str):
            ids.add(item)
        else:
            raise TypeError(f"a set holds artifacts, proxies or artifact ids, not {type(item).__name__}")
    return frozenset(ids)


@dataclass(frozen=True)
class ArtifactSet:
    """An immutable set of artifact ids with labels; algebra returns new stored sets."""

    id: str
    artifact_ids: frozenset[str]
    labels: dict = field(default_factory=dict, compare=False, hash=False)
    created_at: datetime | None = field(default=None, compare=False)
    repo: Repository | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str | None:
        return self.labels.get("name")

    @staticmethod
    def make(artifact_ids: Iterable[Any], labels: str | Mapping | None = None) -> ArtifactSet:
        ids = ids_of(artifact_ids)
        labels = normalize_labels(labels)
        set_id = hashing.hash(("provkit.set", sorted(ids), labels))
        return ArtifactSet(set_id, ids, labels, datetime.now(timezone.utc))

    # ---- algebra: each result is saved to the same repository --------------------------
    def _derive(self, ids: Iterable[str], labels: str | Mapping | None) -> ArtifactSet:
        derived = ArtifactSet.make(ids, labels)  # like the provenance library: no inherited labels
        repo = self.repo
        return store_set(derived, repo) if repo is not None else derived

    def union(self, other: ArtifactSet | Iterable[Any], labels: str | Mapping | None = None) -> ArtifactSet:
        return self._derive(self.artifact_ids | _members(other), labels)

    def intersection(self, other: ArtifactSet | Iterable[Any], labels: str | Mapping | None = None) -> ArtifactSet:
        return self._derive(self.artifact_ids & _members(other), labels)

    def difference(self, other: ArtifactSet | Iterable[Any], labels: str | Mapping | None = None) -> ArtifactSet:
        return self._derive(self.artifact_ids - _members(other), labels)

    __or__ = union
    __and__ = intersection
    __sub__ = difference

    def add(self, items: Iterable[Any] | Any, labels: str | Mapping | None = None) -> ArtifactSet:
        items = [items] if isinstance(items, str) or hashing.is_proxy(items) else items
        return self._derive(self.artifact_ids | ids_of(items), labels)

    def remove(self, items: Iterable[Any] | Any, labels: str | Mapping | None = None) -> ArtifactSet:
        items = [items] if isinstance(items, str) or hashing.is_proxy(items) else items
        return self._derive(self.artifact_ids - ids_of(items), labels)

    def relabel(self, labels: str | Mapping) -> ArtifactSet:
        return self._derive(self.artifact_ids, labels)

    def rename(self, name: str) -> ArtifactSet:
        """The same members labelled ``{'name': name}`` (other labels are dropped)."""
        return self._derive(self.artifact_ids, {"name": name})

    # ---- access ---------------------------------------------------------------------
    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.artifact_ids))

    def __len__(self) -> int:
        return len(self.artifact_ids)

    def __contains__(self, item: Any) -> bool:
        return bool(ids_of([item]) & self.artifact_ids)

    def __reduce__(self) -> tuple:
        """Pickles without its repository (sets can be returned by decorated functions)."""
        return (ArtifactSet, (self.id, self.artifact_ids, self.labels, self.created_at))

    def proxy_dict(self, group_artifacts_of_same_name: bool = False) -> LazyDict:
        """Members by artifact name, loaded into proxies on access."""
        from provkit.core.lazy import lazy_proxy_dict

        repo = self.repo
        if repo is None:
            return lazy_proxy_dict(self.artifact_ids, group_artifacts_of_same_name)
        return lazy_proxy_dict([repo.get_artifact(i) for i in self.artifact_ids], group_artifacts_of_same_name)

    def __provkit_hash__(self) -> str:
        return self.id


def _members(other: ArtifactSet | Iterable[Any]) -> frozenset[str]:
    return other.artifact_ids if isinstance(other, ArtifactSet) else ids_of(other)


def store_set(artifact_set: ArtifactSet, repo: Repository | None = None) -> ArtifactSet:
    """Store the set (in the default repository when ``repo`` is None); the stored copy."""
    repo = repo if repo is not None else default_repo()
    repo.save_set(artifact_set)
    return ArtifactSet(artifact_set.id, artifact_set.artifact_ids, artifact_set.labels, artifact_set.created_at, repo)
