"""A chain of repositories: lookups try each in order, writes go to every writable one.

An artifact found in a later repository is promoted (with its upstream) into each
earlier writable one whose ``read_through_write`` is set (the default), like the
chained blob store does; ``read_through_write: false`` on the chain itself turns
copying off altogether.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from provkit.core.artifacts import Artifact
from provkit.core.errors import ConfigError, PermissionDeniedError
from provkit.core.sets import ArtifactSet
from provkit.storage.repos.base import Repository, _newest_first
from provkit.storage.repos.copying import copy_artifact, with_upstream
from provkit.storage.repos.extensions import compiled


class ChainedRepo(Repository):
    """Reads through ``repos`` in order; saves go to each writable repository."""

    type_name = "chained"

    def __init__(self, repos: list[Repository], *, read_through_write: bool = True, **options: Any) -> None:
        super().__init__(None, **options)
        if not repos or not all(isinstance(r, Repository) for r in repos):
            raise ConfigError("a chained repo needs a non-empty list of repos")
        self.repos = list(repos)
        self.read_through_write = bool(read_through_write)

    def _readable(self) -> list[Repository]:
        return [r for r in self.repos if r.read]

    def _writable(self) -> list[Repository]:
        return [r for r in self.repos if r.write]

    def feature_home(self) -> Repository:
        """Features keep their records in the first writable repository of the chain."""
        return (self._writable() or self.repos)[0].feature_home()

    def feature_homes(self) -> list[Repository]:
        """The feature home, then every other readable member's (each once)."""
        homes = [self.feature_home()]
        for repo in self._readable():
            for home in repo.feature_homes():
                if all(home is not known for known in homes):
                    homes.append(home)
        return homes

    def parents_of(self, ids: list[str]) -> dict[str, list[str]]:
        """Direct parents as any readable member records them (lineage crosses members)."""
        return self._union(ids, up=True)

    def children_of(self, ids: list[str]) -> dict[str, list[str]]:
        return self._union(ids, up=False)

    def _union(self, ids: list[str], *, up: bool) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {i: [] for i in ids}
        for repo in self._readable():
            for record_id, found in (repo.parents_of(ids) if up else repo.children_of(ids)).items():
                out[record_id].extend(n for n in found if n not in out[record_id])
        return out

    def _fetch(self, artifact_id: str) -> Artifact | None:
        for i, repo in enumerate(self.repos):
            artifact = repo.lookup(artifact_id)
            if artifact is None:
                continue
            if self.read_through_write:
                for earlier in self.repos[:i]:
                    if earlier.write and earlier.read_through_write:
                        for node in with_upstream(artifact, repo):
                            copy_artifact(node, repo, earlier)
            return artifact
        return None

    def save(self, artifact: Artifact, value: Any, **kwargs: Any) -> Artifact:
        self._require(self.write, "writing")
        targets = self._writable()
        if not targets:
            raise PermissionDeniedError(f"no repo in {self!r} accepts writes")
        for repo in reversed(targets):  # the first writable repo ends up owning the artifact
            repo.save(artifact, value, **kwargs)
        return artifact

    def load_value(self, artifact: Artifact) -> Any:
        owner = artifact.repo if artifact.repo is not None and artifact.repo is not self else self.repos[0]
        return owner.load_value(artifact)

    def _insert(self, artifact: Artifact, *, replace: bool) -> bool:
        inserted = False
        for repo in self._writable():
            inserted = repo._insert(artifact, replace=replace) or inserted
        return inserted

    def _delete_record(self, artifact_id: str) -> None:
        for repo in self.repos:
            if repo.delete_enabled and repo.lookup(artifact_id) is not None:
                repo.delete(artifact_id)

    def delete(self, artifact_id: str) -> None:
        self._require(self.delete_enabled, "deleting")
        self.get_artifact(artifact_id)
        self._delete_record(artifact_id)

    def _fetch_run(self, run_id: str) -> dict | None:
        for repo in self._readable():
            run = repo.get_run(run_id)
            if run is not None:
                return run
        return None

    def _insert_run(self, run_info: dict) -> None:
        for repo in self._writable():
            repo.ensure_run(run_info)

    def _ids(self) -> Iterator[str]:
        seen: set[str] = set()
        for repo in self._readable():
            for artifact_id in repo.artifact_ids():
                if artifact_id not in seen:
                    seen.add(artifact_id)
                    yield artifact_id

    def _value_id_in_use(self, value_id: str) -> bool:
        return any(r._value_id_in_use(value_id) for r in self.repos)

    def find(self, query: Any, limit: int | None = None) -> Iterator[Artifact]:
        query = compiled(query)
        found: dict[str, Artifact] = {}
        for repo in self._readable():
            for artifact in repo.find(query, limit):
                found.setdefault(artifact.id, artifact)
        ordered = sorted(found.values(), key=_newest_first)
        return iter(ordered if limit is None else ordered[:limit])

    def _insert_set(self, artifact_set: ArtifactSet) -> None:
        for repo in self._writable():
            repo.save_set(artifact_set)

    def _fetch_set(self, set_id: str) -> ArtifactSet | None:
        for repo in self._readable():
            found = repo._fetch_set(set_id)
            if found is not None:
                return found
        return None

    def _sets_named(self, name: str | None) -> list[ArtifactSet]:
        found = {s.id: s for repo in reversed(self._readable()) for s in repo._sets_named(name)}
        return sorted(found.values(), key=lambda s: s.created_at, reverse=True)

    def __repr__(self) -> str:
        return f"<ChainedRepo {self.repos!r}>"
