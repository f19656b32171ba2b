"""Where registry records live: the interface, and the in-memory implementation.

Every repository type holds these tables (``placement.tables_for(repo)``): the memory
repo keeps them in dicts, SQL repositories in the ``executions`` / ``datasets`` tables
next to the artifacts (``sql_tables.py``). The rules that need atomicity live here, behind
one call each: a dataset's version and its claim on a relpath are taken together
(``reserve``), and a replacement swaps the live record in one step (``commit``).
"""

from __future__ import annotations

import copy
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from provkit.core.errors import RecordNotFoundError, RegistryError, RelpathTakenError, VersionExistsError
from provkit.services.registry.records import Dataset, Execution, bump_version, parse_version
from provkit.storage.repos.base import newest_first

__all__ = ["RegistryTables", "MemoryRegistryTables", "live_key", "DatasetFilter"]

#: Filters ``find_datasets`` understands (column -> exact value; keyword: one of keywords).
DatasetFilter = dict[str, Any]
FILTER_KEYS = ("name", "owner", "owner_type", "relpath", "version", "status", "execution_id", "keyword", "alias",
               "spec", "location_type")  # fmt: skip


def live_key(owner_type: str, owner: str, relpath: str) -> str:
    """The key two live datasets may never share."""
    return f"{owner_type}/{owner}/{relpath}"


def filters_to_query(filters: DatasetFilter) -> dict:
    """Keyword filters as a query: exact values, a status tuple as ``$in``."""
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise RegistryError(f"unknown dataset filter(s) {unknown}; use {', '.join(FILTER_KEYS)}")
    query: dict[str, Any] = {}
    for key, wanted in filters.items():
        if isinstance(wanted, (list, tuple, set, frozenset)):
            query[key] = {"$in": list(wanted)}
        else:
            query[key] = wanted
    return query


class RegistryTables(ABC):
    """Executions, datasets and the lineage edges between registry records."""

    # ---- executions ---------------------------------------------------------------
    @abstractmethod
    def insert_execution(self, execution: Execution) -> None:
        """Store the execution and its edges (execution -> each input) at once."""

    @abstractmethod
    def fetch_execution(self, execution_id: str) -> Execution | None: ...

    @abstractmethod
    def executions(self, name: str | None = None) -> list[Execution]:
        """Executions (named ``name``), newest first."""

    # ---- datasets -----------------------------------------------------------------
    @abstractmethod
    def reserve(self, dataset: Dataset, bump: str | None, *, claim_relpath: bool) -> Dataset:
        """Insert ``dataset`` as ``pending`` with its version (``bump``: from the latest
        of its name/owner/owner type) and, with ``claim_relpath``, its relpath claim.

        RelpathTakenError if a live dataset holds the relpath; RegistryError if an
        explicit version exists already. Concurrent bumps get distinct versions."""

    @abstractmethod
    def commit(self, dataset_id: str, fields: dict, *, replaces: str | None = None, by: str | None = None,
               at: datetime | None = None) -> Dataset:  # fmt: skip
        """Make a pending dataset ``valid`` with ``fields`` (sizes, hashes, location) and
        write its edges; with ``replaces``, mark that one ``replaced`` in the same step."""

    @abstractmethod
    def claim_replacement(self, old_id: str, new_id: str) -> bool:
        """Atomically mark valid dataset ``old_id`` as being replaced by ``new_id``
        (``replaced_by``); False if it is not valid or another replacement holds it."""

    @abstractmethod
    def release_replacement(self, old_id: str, new_id: str) -> None:
        """Undo ``claim_replacement`` (the replacement failed or was abandoned)."""

    @abstractmethod
    def discard(self, dataset_id: str) -> None:
        """Forget a pending dataset (its copy failed)."""

    @abstractmethod
    def retire(self, dataset_id: str, status: str, *, by: str | None, at: datetime, location: str | None) -> None:
        """Mark a live dataset ``deleted``, releasing its relpath; keep the row."""

    @abstractmethod
    def set_location(self, dataset_id: str, location: str | None) -> None: ...

    @abstractmethod
    def update_dataset(self, dataset_id: str, changes: dict, entries: list[dict]) -> Dataset:
        """Set ``changes`` on a dataset and append ``entries`` to its history, in one step."""

    @abstractmethod
    def fetch_dataset(self, dataset_id: str) -> Dataset | None: ...

    def find_datasets(self, filters: DatasetFilter) -> list[Dataset]:
        """Datasets matching every filter (exact values; a tuple of statuses), newest first."""
        return self.query_datasets(filters_to_query(filters))

    @abstractmethod
    def query_datasets(self, query: dict, limit: int | None = None) -> list[Dataset]:
        """Datasets matching a Mongo-style query (``registry/query.py``), newest first."""

    @abstractmethod
    def live_holder(self, key: str) -> Dataset | None:
        """The pending or valid dataset holding live key ``key``."""

    # ---- edges --------------------------------------------------------------------
    @abstractmethod
    def parents_of(self, ids: list[str]) -> dict[str, list[str]]: ...

    @abstractmethod
    def children_of(self, ids: list[str]) -> dict[str, list[str]]: ...


def _newest(records: Iterable[Any]) -> list[Any]:
    return sorted(records, key=lambda record: newest_first(record.created_at, record.id))


class MemoryRegistryTables(RegistryTables):
    """Registry records in dicts behind one lock (the memory repository's)."""

    def __init__(self) -> None:
        self._executions: dict[str, Execution] = {}
        self._datasets: dict[str, Dataset] = {}
        self._live: dict[str, str] = {}
        self._edges: dict[str, list[str]] = {}
        self._lock = threading.RLock()

    def insert_execution(self, execution: Execution) -> None:
        with self._lock:
            self._executions[execution.id] = copy.deepcopy(execution)
            self._edges[execution.id] = list(dict.fromkeys(execution.input_ids))

    def fetch_execution(self, execution_id: str) -> Execution | None:
        found = self._executions.get(execution_id)
        return copy.deepcopy(found) if found is not None else None

    def executions(self, name: str | None = None) -> list[Execution]:
        found = [copy.deepcopy(e) for e in self._executions.values() if name is None or e.name == name]
        return _newest(found)

    def reserve(self, dataset: Dataset, bump: str | None, *, claim_relpath: bool) -> Dataset:
        key = live_key(dataset.owner_type, dataset.owner, dataset.relpath)
        with self._lock:
            holder = self._live.get(key)
            if claim_relpath and holder is not None:
                raise _taken(dataset.relpath, self._datasets[holder])
            taken = {
                (d.version, d.replace_iteration)
                for d in self._datasets.values()
                if (d.name, d.owner, d.owner_type) == (dataset.name, dataset.owner, dataset.owner_type)
            }
            if bump is not None:
                latest = max((parse_version(v) for v, _ in taken), default=None)
                dataset = replace(dataset, version=bump_version(latest, bump))
            elif (dataset.version, dataset.replace_iteration) in taken:
                raise _version_exists(dataset)
            dataset = replace(dataset, status="pending")
            self._datasets[dataset.id] = copy.deepcopy(dataset)
            if claim_relpath:
                self._live[key] = dataset.id
            return dataset

    def commit(self, dataset_id: str, fields: dict, *, replaces: str | None = None, by: str | None = None,
               at: datetime | None = None) -> Dataset:  # fmt: skip
        with self._lock:
            current = self._datasets[dataset_id]
            if replaces is not None:
                old = self._datasets[replaces]
                self._datasets[replaces] = replace(
                    old, status="replaced", replaced_by=dataset_id, status_changed_at=at, status_changed_by=by
                )
                self._live[live_key(old.owner_type, old.owner, old.relpath)] = dataset_id
            done = replace(current, **fields, status="valid")
            self._datasets[dataset_id] = done
            parents = [done.execution_id] if done.execution_id else []
            self._edges[dataset_id] = list(dict.fromkeys(parents + list(done.parent_ids)))
            return copy.deepcopy(done)

    def claim_replacement(self, old_id: str, new_id: str) -> bool:
        with self._lock:
            old = self._datasets.get(old_id)
            if old is None or old.status != "valid" or old.replaced_by is not None:
                return False
            self._datasets[old_id] = replace(old, replaced_by=new_id)
            return True

    def release_replacement(self, old_id: str, new_id: str) -> None:
        with self._lock:
            old = self._datasets.get(old_id)
            if old is not None and old.replaced_by == new_id and old.status == "valid":
                self._datasets[old_id] = replace(old, replaced_by=None)

    def discard(self, dataset_id: str) -> None:
        with self._lock:
            dataset = self._datasets.pop(dataset_id, None)
            if dataset is not None:
                key = live_key(dataset.owner_type, dataset.owner, dataset.relpath)
                if self._live.get(key) == dataset_id:
                    del self._live[key]

    def retire(self, dataset_id: str, status: str, *, by: str | None, at: datetime, location: str | None) -> None:
        with self._lock:
            old = self._datasets[dataset_id]
            self._datasets[dataset_id] = replace(
                old, status=status, status_changed_by=by, status_changed_at=at, location=location
            )
            key = live_key(old.owner_type, old.owner, old.relpath)
            if self._live.get(key) == dataset_id:
                del self._live[key]

    def set_location(self, dataset_id: str, location: str | None) -> None:
        with self._lock:
            self._datasets[dataset_id] = replace(self._datasets[dataset_id], location=location)

    def update_dataset(self, dataset_id: str, changes: dict, entries: list[dict]) -> Dataset:
        with self._lock:
            old = self._datasets.get(dataset_id)
            if old is None:
                raise not_found("dataset", dataset_id)
            new = replace(old, **copy.deepcopy(changes), history=[*old.history, *copy.deepcopy(entries)])
            self._datasets[dataset_id] = new
            return copy.deepcopy(new)

    def fetch_dataset(self, dataset_id: str) -> Dataset | None:
        found = self._datasets.get(dataset_id)
        return copy.deepcopy(found) if found is not None else None

    def query_datasets(self, query: dict, limit: int | None = None) -> list[Dataset]:
        from provkit.services.query import matcher
        from provkit.services.registry.query import DATASET_FIELDS, dataset_document

        matches = matcher(query, DATASET_FIELDS)
        found = [
            d
            for d in list(self._datasets.values())
            if matches(dataset_document(d, self._executions.get(d.execution_id)))
        ]
        return [copy.deepcopy(d) for d in _newest(found)[:limit]]

    def live_holder(self, key: str) -> Dataset | None:
        holder = self._live.get(key)
        return self.fetch_dataset(holder) if holder is not None else None

    def parents_of(self, ids: list[str]) -> dict[str, list[str]]:
        return {i: list(self._edges.get(i, ())) for i in ids}

    def children_of(self, ids: list[str]) -> dict[str, list[str]]:
        wanted = set(ids)
        out: dict[str, list[str]] = {i: [] for i in ids}
        for child, parents in list(self._edges.items()):
            for parent in parents:
                if parent in wanted:
                    out[parent].append(child)
        return out


def _taken(relpath: str, holder: Dataset) -> RelpathTakenError:
    return RelpathTakenError(
        f"relpath {relpath!r} of {holder.owner_type} {holder.owner!r} is taken by {holder.status} dataset "
        f"{holder.name!r} {holder.version} ({holder.id}); replace or delete that one first",
        relpath=relpath,
        holder=holder.id,
    )


def _version_exists(dataset: Dataset) -> VersionExistsError:
    return VersionExistsError(
        f"dataset {dataset.name!r} version {dataset.version} of {dataset.owner_type} {dataset.owner!r} exists "
        "already; pass a new version or 'major' / 'minor' / 'patch' to bump the latest"
    )


def not_found(kind: str, record_id: str) -> RecordNotFoundError:
    return RecordNotFoundError(f"no {kind} {record_id!r} in the registry", record_id=record_id)
