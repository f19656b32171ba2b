"""Reading the registry: datasets by id, by query, the latest version, their files."""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Any

from provkit.core.errors import RecordNotFoundError, RegistryError
from provkit.services.registry.records import Dataset, check_owner_type
from provkit.services.registry.storage import DatasetArea, Progress
from provkit.services.registry.tables import RegistryTables, filters_to_query
from provkit.storage.repos.base import check_limit, default_location

if TYPE_CHECKING:
    from provkit.storage.repos.base import Repository

__all__ = ["DatasetReader"]


class DatasetReader:
    """The read side of ``Registry`` (which adds registering, replacing and deleting)."""

    repo: Repository
    lineage_repo: Repository
    tables: RegistryTables
    owner: str
    owner_type: str

    @property
    def area(self) -> DatasetArea:
        """Where dataset files live: a folder of the repository's blob store."""
        if self.repo.store is None:
            raise RegistryError(f"{self.repo!r} has no blob store to keep dataset files in")
        return DatasetArea(*self.repo.store.tree())

    def resolve(self, dataset: str | Dataset) -> str:
        """A dataset id from a dataset or an id (the registry also takes alias names)."""
        return dataset.id if isinstance(dataset, Dataset) else dataset

    def _held(self, dataset: str | Dataset) -> tuple[Any, Dataset]:
        """(the registry whose area holds it, the dataset) for a Dataset, an id or an alias name."""
        return self._locate(dataset if isinstance(dataset, Dataset) else self.resolve(dataset))

    def get_dataset(self, dataset_id: str) -> Dataset:
        """The dataset with this id (or, through ``Registry``, this alias name)."""
        return self._locate(self.resolve(dataset_id))[1]  # this area, then any production area

    def find_datasets(
        self, query: dict | None = None, *, all_statuses: bool = False, limit: int | None = None,
        include_dummy: bool = False, query_mode: str = "both", **filters: Any,
    ) -> list[Dataset]:  # fmt: skip
        """Datasets matching a Mongo-style ``query`` (fields in ``registry/query.py``) and
        keyword ``filters`` (name, owner, owner_type, relpath, version, status,
        execution_id, keyword, alias, spec, location_type), newest first; only valid ones
        unless a status is asked for or ``all_statuses``; ``dummy`` ones only with
        ``include_dummy`` or when the query names ``location_type``. ``query_mode``:
        ``both`` areas (working, then production: ``registry/areas.py``), ``working`` or
        ``production``."""
        from provkit.services.registry.alias_query import expand_aliases
        from provkit.services.registry.query import rewrite_dataset_query

        check_limit(limit)
        parts = [filters_to_query({k: v for k, v in filters.items() if v is not None})]
        if query:
            parts.append(dict(query))
        if not all_statuses and not any("status" in part for part in parts):
            parts.append({"status": "valid"})
        if not include_dummy and "location_type" not in repr(parts):
            parts.append({"location_type": {"$ne": "dummy"}})
        query = expand_aliases({"$and": parts}, self._areas("both"))
        areas = self._areas(query_mode)
        found = [d for area in areas
                 for d in area.tables.query_datasets(rewrite_dataset_query(query, area.repo), limit)]  # fmt: skip
        if len(areas) > 1:
            found.sort(key=lambda d: d.created_at, reverse=True)
        return found[:limit]

    def find(self, query: dict | None = None, **options: Any) -> Any:
        """``find_datasets`` as a pandas DataFrame indexed by dataset id (like ``p.find``)."""
        import pandas as pd

        columns = ["name", "version", "status", "owner_type", "owner", "relpath", "nfiles", "total_size",
                   "keywords", "execution_id", "creator", "created_at", "description"]  # fmt: skip
        rows = [{"dataset_id": d.id, **{c: getattr(d, c) for c in columns}}
                for d in self.find_datasets(query, **options)]  # fmt: skip
        return pd.DataFrame(rows, columns=["dataset_id", *columns]).set_index("dataset_id")

    def latest(self, name: str, *, owner: str | None = None, owner_type: str | None = None) -> Dataset:
        """The highest valid version of ``name`` for an owner (default: this registry's)."""
        owner = self.owner if owner is None else owner
        found = self.find_datasets(
            name=name, owner=owner, owner_type=check_owner_type(self.owner_type if owner_type is None else owner_type)
        )
        if not found:
            raise RecordNotFoundError(f"no valid dataset named {name!r} for {owner!r}", record_id=name)
        return max(found, key=lambda d: (d.version_tuple, d.replace_iteration))

    def dependents(self, record_id: str) -> list[str]:
        """Records built directly from this one (executions using it, derived data)."""
        children = self.lineage_repo.children_of([record_id])[record_id]
        return sorted(dict.fromkeys(children))

    def url(self, dataset: str | Dataset) -> str:
        """Where the dataset's files are (a local path, or an s3:// / sftp:// URL)."""
        area, ds = self._held(dataset)
        if ds.location_type == "external":
            if ds.url is None:
                raise RegistryError(f"external dataset {ds.id} has no url; ask {ds.contact_email}")
            return ds.url
        if ds.location is None:
            raise RegistryError(f"dataset {ds.id} is {ds.status} and has no files here ({ds.location_type})")
        return area.area.url(ds.location)

    def fetch(self, dataset: str | Dataset, to: str | os.PathLike, progress: Progress | None = None) -> str:
        """Copy a dataset's files to local folder ``to`` (hash-checked); returns its path."""
        area, ds = self._held(dataset)
        if ds.location is None:
            raise RegistryError(f"dataset {ds.id} is {ds.status} and its files are gone")
        return area.area.fetch(ds.location, ds.manifest, os.fspath(to), progress)

    def local_path(self, dataset: str | Dataset, cache: str | os.PathLike | None = None) -> str:
        """A local path to the dataset: in place when the storage is a local folder,
        else fetched once into ``cache`` (default: a folder under $PROVKIT_HOME)."""
        from fsspec.implementations.local import LocalFileSystem

        holder, ds = self._held(dataset)
        area = holder.area
        if isinstance(area.fs, LocalFileSystem) and ds.location is not None:
            return area.path(ds.location)
        folder = os.path.join(os.fspath(cache or os.path.join(default_location(), "dataset-cache")), ds.id)
        single = os.path.join(folder, posixpath.basename(ds.location or ds.relpath))
        done = single if ds.data_org == "file" else folder
        marker = folder + ".complete"  # beside the folder: a stage reading it sees only the data
        if os.path.exists(marker):
            return done
        path = self.fetch(ds, folder)
        open(marker, "w").close()
        return path
