"""The dataset registry: executions (pipeline stages) and versioned datasets.

``Registry(repo)`` registers into any provkit repository: records go to its database
(or memory), files to the file tree beside its blobs, so a registry on a Postgres +
S3 repository keeps datasets on S3. A dataset's row becomes ``valid`` only after its
files are copied and read back intact; until then it is ``pending`` and invisible.
"""

from __future__ import annotations

import os
import posixpath
import socket
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from provkit.core.artifacts import record_id_of
from provkit.core.errors import DatasetInUseError, RegistryError
from provkit.services.registry.areas import AreaLinks, linked_view
from provkit.services.registry.curation import MAX_CONFIG_LENGTH, DatasetCuration, check_may_change, clean_field
from provkit.services.registry.placement import tables_for
from provkit.services.registry.reading import DatasetReader
from provkit.services.registry.records import (
    BUMPS,
    LOCATION_TYPES,
    Dataset,
    Execution,
    check_owner_type,
    check_relpath,
    new_id,
    parse_version,
)
from provkit.services.registry.storage import DatasetArea, Progress, content_hash, is_folder, scan
from provkit.services.registry.tables import RegistryTables, live_key, not_found

if TYPE_CHECKING:
    from provkit.storage.repos.base import Repository

__all__ = ["Registry"]

_LIVE = ("pending", "valid")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _check_owner(owner: str) -> str:
    if not isinstance(owner, str) or not owner or "/" in owner or owner.startswith(".") or owner == "..":
        raise RegistryError(f"owner must be a plain name (no '/', not starting with '.'), got {owner!r}")
    return owner


class Registry(AreaLinks, DatasetCuration, DatasetReader):
    """Register executions and datasets in ``repo`` (default: the default repository).

    ``owner`` / ``owner_type`` are the defaults for datasets registered through it
    (owner defaults to the current user, owner_type to ``user``). ``production``
    (a repository, repo name or Registry) links a production area whose datasets this
    registry finds, reads and records as inputs, never changes (``registry/areas.py``);
    a chained ``repo`` links its later members the same way."""

    def __init__(self, repo: Repository | str | None = None, *, owner: str | None = None,
                 owner_type: str = "user", production: Any = None) -> None:  # fmt: skip
        from provkit.core.runs import current_user
        from provkit.storage.settings import get_default_repo, get_repo_by_name

        if repo is None:
            repo = get_default_repo()
        elif isinstance(repo, str):
            repo = get_repo_by_name(repo)
        #: where lookups and lineage walks go: this area, then any production area
        self.lineage_repo: Repository = repo if production is None else linked_view(repo, production)
        self.repo = repo.feature_home()
        self.tables: RegistryTables = tables_for(self.repo)
        self.owner = _check_owner((current_user() or "unknown") if owner is None else owner)
        self.owner_type = check_owner_type(owner_type)

    # ---- executions ---------------------------------------------------------------
    def register_execution(
        self,
        name: str,
        *,
        description: str | None = None,
        site: str | None = None,
        configuration: str | None = None,
        start_time: datetime | None = None,
        input_datasets: Iterable[Any] = (),
    ) -> Execution:
        """Record a pipeline stage; ``input_datasets`` (datasets, artifacts or their ids)
        become its dependencies in the lineage graph."""
        from provkit.core.runs import current_run_info, current_user

        if not isinstance(name, str) or not name.strip():
            raise RegistryError(f"an execution needs a name, got {name!r}")
        inputs = [record_id_of(i) for i in input_datasets]
        self._require_records(inputs)
        run = current_run_info()
        self.repo.ensure_run(run)
        execution = Execution(
            new_id("execution"), name, description=description, site=site or socket.gethostname(),
            configuration=configuration, start_time=start_time or _now(), creator=current_user(),
            created_at=_now(), run_id=run["id"], input_ids=list(dict.fromkeys(inputs)),
        )  # fmt: skip
        self.tables.insert_execution(execution)
        return execution

    def get_execution(self, execution_id: str) -> Execution:
        found = self._lookup("execution", execution_id)
        if found is None:
            raise not_found("execution", execution_id)
        return found  # type: ignore[return-value]

    def find_executions(self, name: str | None = None, *, query_mode: str = "both") -> list[Execution]:
        """Executions (named ``name``), newest first, of this area and/or production."""
        areas = self._areas(query_mode)
        found = [e for area in areas for e in area.tables.executions(name)]
        return sorted(found, key=lambda e: e.created_at, reverse=True) if len(areas) > 1 else found

    # ---- datasets -----------------------------------------------------------------
    def register_dataset(
        self,
        relpath: str | None,
        version: str,
        *,
        name: str | None = None,
        old_location: str | os.PathLike | None = None,
        description: str | None = None,
        execution_id: str | Execution | None = None,
        input_datasets: Iterable[Any] = (),
        owner: str | None = None,
        owner_type: str | None = None,
        keywords: Iterable[str] = (),
        is_overwritable: bool = False,
        parents: Iterable[Any] = (),
        spec: str | None = None,
        provenance: dict | None = None,
        progress: Progress | None = None,
        location_type: str = "dataregistry",
        url: str | None = None,
        contact_email: str | None = None,
        access_api: str | None = None,
        access_api_configuration: str | None = None,
        creation_date: datetime | str | None = None,
        execution_name: str | None = None,
        execution_description: str | None = None,
        execution_site: str | None = None,
        execution_start: datetime | None = None,
        execution_configuration: str | os.PathLike | None = None,
    ) -> Dataset:
        """Register a dataset and copy ``old_location`` (a file or a folder) into the
        registry under ``<owner_type>/<owner>/<relpath>``.

        ``version`` is ``'X.Y.Z'`` or ``'major'`` / ``'minor'`` / ``'patch'`` to bump the
        latest version of ``name`` for this owner. Without ``old_location`` the files
        must already be at that place. Without ``execution_id`` an execution is recorded
        for the dataset (``execution_name`` ..., ``execution_configuration``: a file whose
        text is kept), with ``input_datasets`` as its inputs. ``progress(nbytes, total)``
        follows the copy. ``location_type``: ``dataregistry`` (files in the registry),
        ``external`` (nothing copied; ``url`` or ``contact_email`` says where), ``dummy``
        (tests, dry runs; left out of queries unless asked) or ``meta_only`` (no files).
        Without a relpath one is made: ``gen_paths/<name>/<unique>``.
        """
        from provkit.core.runs import current_run_info, current_user

        if location_type not in LOCATION_TYPES:
            raise RegistryError(f"location_type must be one of {', '.join(LOCATION_TYPES)}, got {location_type!r}")
        copied = location_type == "dataregistry"
        if not copied and old_location is not None:
            raise RegistryError(f"a {location_type} dataset has no files to copy; leave out old_location")
        if location_type == "external" and not (url or contact_email):
            raise RegistryError("an external dataset needs a url or a contact_email saying where the data is")
        if relpath is None:
            if name is None:
                raise RegistryError("give a relpath, or a name to generate one from")
            relpath = f"gen_paths/{name}/{new_id('dataset')[3:15]}"
        relpath = check_relpath(relpath)
        owner = _check_owner(self.owner if owner is None else owner)
        owner_type = check_owner_type(self.owner_type if owner_type is None else owner_type)
        if owner_type == "production":
            if owner != "production":
                raise RegistryError(f"production datasets are owned by 'production', not {owner!r}")
            if is_overwritable:
                raise RegistryError("production datasets are never overwritable")
            check_may_change(owner_type, owner, "register", "production datasets")
        extra = {"url": url, "contact_email": contact_email, "access_api": access_api,
                 "access_api_configuration": access_api_configuration, "creation_date": creation_date}  # fmt: skip
        extra = {k: clean_field(k, v, self) for k, v in extra.items()}
        bump = version if version in BUMPS else None
        if bump is None:
            parse_version(version)
        name = name or posixpath.basename(relpath)
        keywords = self.check_keywords(_keywords(keywords))
        parent_ids = [record_id_of(p) for p in parents]
        self._require_records(parent_ids)
        exec_id = record_id_of(execution_id) if execution_id is not None else None
        if exec_id is not None:
            self.get_execution(exec_id)
        inputs = list(input_datasets)
        if exec_id is None:
            exec_id = self.register_execution(
                execution_name or f"for {name}", description=execution_description, site=execution_site,
                start_time=execution_start, configuration=_configuration(execution_configuration),
                input_datasets=inputs,
            ).id  # fmt: skip
        elif inputs:
            raise RegistryError("pass input_datasets to the execution, or leave out execution_id")
        files = scan(old_location) if old_location is not None else None
        self._check_overlap(owner_type, owner, relpath)
        run = current_run_info()
        self.repo.ensure_run(run)
        draft = Dataset(
            new_id("dataset"), name, "0.0.0" if bump else version, relpath, owner, owner_type,
            description=description, keywords=keywords, is_overwritable=bool(is_overwritable),
            execution_id=exec_id, creator=current_user(), created_at=_now(), spec=spec,
            provenance=dict(provenance or {}), parent_ids=list(dict.fromkeys(parent_ids)), run_id=run["id"],
            location_type=location_type, **extra,
        )  # fmt: skip
        if not copied:
            pending = self.tables.reserve(draft, bump, claim_relpath=False)
            return self.tables.commit(pending.id, {"data_org": "file", "manifest": {}, "nfiles": 0, "total_size": 0})
        pending = self.tables.reserve(draft, bump, claim_relpath=True)
        try:  # again, now that our claim is visible: of two racing nested claims, neither stays
            self._check_overlap(owner_type, owner, relpath, ignore=pending.id)
        except RegistryError:
            self.tables.discard(pending.id)
            raise
        location = live_key(owner_type, owner, relpath)
        area = self.area
        try:
            if files is None:
                data_org, manifest = self._index_in_place(area, location)
            else:
                area.remove(location)  # leftovers of a crashed registration, never a live dataset's
                data_org, manifest = files[0], area.copy_in(files[1], location, progress)
                area.verify(location, manifest)
        except BaseException:
            if files is not None:
                area.remove(location)
            self.tables.discard(pending.id)
            raise
        return self.tables.commit(pending.id, _fields(data_org, manifest, location))

    def replace_dataset(
        self,
        dataset_id: str | Dataset,
        old_location: str | os.PathLike,
        *,
        description: str | None = None,
        keywords: Iterable[str] | None = None,
        progress: Progress | None = None,
    ) -> Dataset:
        """Put new files in place of an overwritable dataset: same name, version and
        relpath, next ``replace_iteration``. The old record stays (status ``replaced``);
        its files are kept under ``_archive/`` while anything depends on them."""
        from provkit.core.runs import current_run_info, current_user

        old = self._live_dataset(self.resolve(dataset_id), "replace")
        check_may_change(old.owner_type, old.owner, "replace", f"dataset {old.id}", old.creator)
        if not old.is_overwritable:
            raise RegistryError(
                f"dataset {old.name!r} {old.version} ({old.id}) is not overwritable; register a new version instead"
            )
        data_org, files = scan(old_location)
        run = current_run_info()
        self.repo.ensure_run(run)
        draft = replace(
            old, id=new_id("dataset"), replace_iteration=old.replace_iteration + 1, creator=current_user(),
            created_at=_now(), description=description if description is not None else old.description,
            keywords=_keywords(keywords) if keywords is not None else old.keywords, run_id=run["id"],
            status_changed_at=None, status_changed_by=None, replaced_by=None, location=None,
        )  # fmt: skip
        pending = self.tables.reserve(draft, None, claim_relpath=False)
        if not self.tables.claim_replacement(old.id, pending.id):
            self.tables.discard(pending.id)
            now = self.get_dataset(old.id)
            busy = f" (replacement {now.replaced_by} in progress)" if now.replaced_by else ""
            raise RegistryError(f"dataset {old.id} is {now.status} and cannot be replaced now{busy}")
        area = self.area
        staging = _place("_staging", pending.id, old.relpath, data_org)
        try:
            manifest = area.copy_in(files, staging, progress)
            area.verify(staging, manifest)
        except BaseException:
            area.remove(staging)
            self.tables.release_replacement(old.id, pending.id)
            self.tables.discard(pending.id)
            raise
        # the old files move aside first, so the old record points at whole files throughout
        live = live_key(old.owner_type, old.owner, old.relpath)
        archive = _place("_archive", old.id, old.relpath, old.data_org)
        self._archive(area, old, archive)
        self.tables.set_location(old.id, archive)
        area.remove(live)
        self._copy_within(area, staging, live, manifest)
        done = self.tables.commit(
            pending.id, _fields(data_org, manifest, live), replaces=old.id, by=current_user(), at=_now()
        )
        area.remove(staging)
        if not self.dependents(old.id):
            area.remove(f"_archive/{old.id}")
            self.tables.set_location(old.id, None)
        return done

    def delete_dataset(self, dataset_id: str | Dataset, *, force: bool = False) -> Dataset:
        """Mark a dataset deleted (the record stays, with who and when) and free its
        relpath. Its files are removed, unless other records were built from it: then
        nothing happens without ``force=True``, and with it the files are kept under
        ``_archive/`` for them."""
        from provkit.core.runs import current_user

        old = self._live_dataset(self.resolve(dataset_id), "delete")
        check_may_change(old.owner_type, old.owner, "delete", f"dataset {old.id}", old.creator)
        dependents = self.dependents(old.id)
        if dependents and not force:
            raise DatasetInUseError(
                f"dataset {old.name!r} {old.version} ({old.id}) is used by {', '.join(dependents)}; "
                "force the delete (force=True, CLI --force) to drop its record and keep its files for them",
                dataset_id=old.id,
                dependents=dependents,
            )
        area = self.area
        live = live_key(old.owner_type, old.owner, old.relpath)
        archive = _place("_archive", old.id, old.relpath, old.data_org)
        if dependents:
            self._archive(area, old, archive)
            self.tables.retire(old.id, "deleted", by=current_user(), at=_now(), location=archive)
        else:
            self.tables.retire(old.id, "deleted", by=current_user(), at=_now(), location=None)
            area.remove(f"_archive/{old.id}")  # left by an interrupted replace, if any
        area.remove(live)
        return self.get_dataset(old.id)

    def cleanup(self, older_than: float = 24 * 3600.0) -> list[str]:
        """Forget pending datasets left by crashed registrations (their process is gone,
        or they are older than ``older_than`` seconds) and remove their files."""
        stale = []
        for dataset in self.tables.find_datasets({"status": "pending"}):
            if self._abandoned(dataset, older_than):
                first = dataset.replace_iteration == 0
                self.area.remove(live_key(dataset.owner_type, dataset.owner, dataset.relpath)
                                 if first else f"_staging/{dataset.id}")  # fmt: skip
                for old in self.tables.query_datasets({"replaced_by": dataset.id, "status": "valid"}):
                    self.tables.release_replacement(old.id, dataset.id)
                self.tables.discard(dataset.id)
                stale.append(dataset.id)
        return stale

    def _abandoned(self, dataset: Dataset, older_than: float) -> bool:
        age = (_now() - dataset.created_at).total_seconds() if dataset.created_at else older_than
        if age >= older_than:
            return True
        run = self.repo.get_run(dataset.run_id) if dataset.run_id else None
        if not run or run.get("host", {}).get("nodename") != socket.gethostname():
            return False
        pid = run.get("process", {}).get("pid")
        return isinstance(pid, int) and not _alive(pid)

    # ---- derived data through writer/handler pairs -----------------------------------
    def save_derived(self, data: Any, spec: str, relpath: str, version: str = "patch", **options: Any) -> Dataset:
        """Write ``data`` with the ``spec`` writer and register it; provenance fields
        (parents or source_files, code_name, code_version, code_url) are enforced."""
        from provkit.services.registry.handlers import save_derived

        return save_derived(self, data, spec, relpath, version, **options)

    def load(self, dataset: str | Dataset) -> Any:
        """Read a dataset back with the handler that wrote it."""
        from provkit.services.registry.handlers import load_derived

        return load_derived(self, dataset)

    # ---- helpers ------------------------------------------------------------------
    def _live_dataset(self, dataset_id: str, action: str) -> Dataset:
        ds = self._own_dataset(dataset_id, action)
        if ds.status != "valid":
            raise RegistryError(f"cannot {action} dataset {ds.id}: it is {ds.status}")
        if ds.replaced_by is not None:
            raise RegistryError(f"cannot {action} dataset {ds.id}: replacement {ds.replaced_by} is in progress")
        return ds

    def _require_records(self, ids: list[str]) -> None:
        from provkit.services.lineage import get_record

        for record_id in ids:
            get_record(self.lineage_repo, record_id)

    def _check_overlap(self, owner_type: str, owner: str, relpath: str, ignore: str | None = None) -> None:
        """No live dataset may sit inside another's folder (or hold one's parent)."""
        for other in self.tables.find_datasets({"owner": owner, "owner_type": owner_type, "status": _LIVE}):
            if other.id == ignore:
                continue
            inner, outer = sorted((relpath, other.relpath), key=len)
            if outer.startswith(inner + "/"):
                raise RegistryError(
                    f"relpath {relpath!r} overlaps {other.relpath!r} of {other.status} dataset {other.id}"
                )

    def _index_in_place(self, area: DatasetArea, location: str) -> tuple[str, dict]:
        """Hash files someone already put at the dataset's place."""
        path = area.path(location)
        if not area.exists(location):
            raise RegistryError(f"nothing at {area.url(location)}: pass old_location to copy the data in")
        if not area.fs.isdir(path):
            digest, size = area._hash(path)
            return "file", {"": {"size": size, "hash": digest}}
        manifest = {}
        for full in sorted(area.fs.find(path)):
            rel = full[len(path) :].lstrip("/")
            digest, size = area._hash(full)
            manifest[rel] = {"size": size, "hash": digest}
        return "directory", manifest

    def _archive(self, area: DatasetArea, ds: Dataset, archive: str) -> None:
        """Copy a dataset's files to its archive place (already there after an
        interrupted replace: then nothing to do)."""
        if ds.location != archive:
            self._copy_within(area, ds.location, archive, ds.manifest)

    def _copy_within(self, area: DatasetArea, source: str, target: str, manifest: dict) -> None:
        area.remove(target)
        area.copy_within(source, target, manifest)

    def __repr__(self) -> str:
        return f"<Registry {self.owner_type}/{self.owner} in {self.repo!r}>"


def _keywords(keywords: Iterable[str]) -> list[str]:
    words = [keywords] if isinstance(keywords, str) else list(keywords)
    bad = [w for w in words if not isinstance(w, str) or not w.strip()]
    if bad:
        raise RegistryError(f"keywords must be non-empty strings, got {bad!r}")
    return sorted(dict.fromkeys(w.strip() for w in words))


def _fields(data_org: str, manifest: dict, location: str) -> dict:
    return {
        "data_org": data_org, "manifest": manifest, "nfiles": sum(not is_folder(r) for r in manifest),
        "location": location, "total_size": sum(entry["size"] for entry in manifest.values()),
        "content_hash": content_hash(manifest),
    }  # fmt: skip


def _place(area: str, record_id: str, relpath: str, data_org: str) -> str:
    """Where a dataset's files go outside the owners' folders (archive, staging)."""
    return f"{area}/{record_id}/{posixpath.basename(relpath)}" if data_org == "file" else f"{area}/{record_id}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _configuration(source: str | os.PathLike | None) -> str | None:
    """An execution's configuration: the text of a file (at most MAX_CONFIG_LENGTH
    characters), or the string itself when it is not a file's path."""
    if source is None:
        return None
    path = os.fspath(source)
    if os.path.isfile(path):
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(MAX_CONFIG_LENGTH + 1)
    else:
        text = str(source)
    if len(text) > MAX_CONFIG_LENGTH:
        raise RegistryError(f"execution configuration is over {MAX_CONFIG_LENGTH:,} characters; store it as a dataset")
    return text
