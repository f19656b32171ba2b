"""An in-process repository: dicts behind a lock; for tests and scratch work."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from provkit.core.artifacts import Artifact
from provkit.core.sets import ArtifactSet
from provkit.storage.blobstores.memory import MemoryStore
from provkit.storage.repos.base import Repository

_FIELDS = ("_value_bytes", "_inputs_bytes", "_seal")


class MemoryRepo(Repository):
    """Records kept in memory; values in the given store (a MemoryStore by default)."""

    type_name = "memory"
    backend = "memory"

    def __init__(self, store: Any = None, **options: Any) -> None:
        super().__init__(store if store is not None else MemoryStore(delete=True), **options)
        self._records: dict[str, tuple[dict, dict]] = {}
        self._runs: dict[str, dict] = {}
        self._sets: dict[str, ArtifactSet] = {}
        self._lock = threading.Lock()

    def _fetch(self, artifact_id: str) -> Artifact | None:
        entry = self._records.get(artifact_id)
        if entry is None:
            return None
        fields, extra = entry
        fields = copy.deepcopy(fields)
        artifact = Artifact(**fields, repo=self)
        artifact._value_bytes, artifact._inputs_bytes = extra["_value_bytes"], extra["_inputs_bytes"]
        artifact._seal = copy.copy(extra["_seal"])
        return artifact

    def _insert(self, artifact: Artifact, *, replace: bool) -> bool:
        fields = copy.deepcopy(artifact.to_dict())
        if fields["added_at"] is None:
            fields["added_at"] = artifact.added_at = datetime.now(timezone.utc)
        extra = {name: getattr(artifact, name) for name in _FIELDS}
        extra["_seal"] = copy.copy(extra["_seal"])
        with self._lock:
            if artifact.id in self._records and not replace:
                return False
            self._records[artifact.id] = (fields, extra)
            return True

    def _delete_record(self, artifact_id: str) -> None:
        with self._lock:
            self._records.pop(artifact_id, None)

    def _fetch_run(self, run_id: str) -> dict | None:
        run = self._runs.get(run_id)
        return copy.deepcopy(run) if run is not None else None

    def _insert_run(self, run_info: dict) -> None:
        with self._lock:
            self._runs.setdefault(run_info["id"], copy.deepcopy(run_info))

    def _ids(self) -> Iterator[str]:
        return iter(list(self._records))

    def _value_id_in_use(self, value_id: str) -> bool:
        return any(fields["value_id"] == value_id for fields, _ in self._records.values())

    def _insert_set(self, artifact_set: ArtifactSet) -> None:
        with self._lock:
            self._sets.setdefault(artifact_set.id, replace(artifact_set, repo=self))

    def _fetch_set(self, set_id: str) -> ArtifactSet | None:
        return self._sets.get(set_id)

    def _sets_named(self, name: str | None) -> list[ArtifactSet]:
        found = [s for s in self._sets.values() if name is None or s.labels.get("name") == name]
        return sorted(found, key=lambda s: s.created_at, reverse=True)

    def children_of(self, ids: list[str]) -> dict[str, list[str]]:
        wanted = set(ids)
        out: dict[str, list[str]] = {i: [] for i in ids}
        for artifact_id, (fields, _) in list(self._records.items()):
            for parent in fields["input_artifact_ids"]:
                if parent in wanted:
                    out[parent].append(artifact_id)
        self._add_feature_children(ids, out)
        return out
