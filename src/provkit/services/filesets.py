"""File artifacts: groups of files uploaded with labels, found by query, used by id.

    files = p.Files()                                   # a handler: also a lineage scope
    art = files.upload(["data/train.txt", "data/test.txt"], labels=p.Labels(datatype="annotation_file"))
    df = files.find({"labels.datatype": "annotation_file", "file_relpaths": {"$regex": r"\\.txt$"}})
    art = files.get(df.index[0])                        # recorded as based_on of what comes next
    with files.new(["model.pt"]) as new:                # provkit picks the destination
        model.save(new.path("model.pt"))                # recorded atomically on a clean exit

Each file is stored once by content in the repository's blob store (any store type); the
artifact records relative paths, sizes and content hashes, its labels, the user, run
(host, argv, packages, git) and creation time, and its lineage (``based_on``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any

from provkit.core import file_cache, hashing
from provkit.core.artifacts import Artifact, ArtifactProxy, record_id_of
from provkit.core.errors import InvalidKeyError
from provkit.core.files import file_value_id
from provkit.core.jsonsafe import check_text, to_json
from provkit.core.status import status_note
from provkit.core.upload_paths import as_path_list, check_relpath, collect
from provkit.storage.repos.extensions import register_value_wrapper

if TYPE_CHECKING:
    import pandas as pd

    from provkit.storage.repos.base import Repository

__all__ = ["Labels", "Files", "FileSet", "StoredFile", "NewFiles", "run_files"]

KIND = "files"


@dataclass
class Labels:
    """The labels of a file artifact (all optional); ``infos`` holds anything else."""

    ticket: str = ""
    project: str = ""
    datatype: str = ""
    dataset: str = ""
    description: str = ""
    infos: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _labels(labels: Labels | Mapping | None) -> dict:
    """The labels as stored: named labels are strings, ``infos`` plain JSON (see jsonsafe)."""
    if labels is None:
        return Labels().to_dict()
    if isinstance(labels, Labels):
        raw = {name: getattr(labels, name) for name in Labels.__dataclass_fields__}
    elif isinstance(labels, Mapping):
        unknown = set(labels) - set(Labels.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown label(s) {sorted(map(str, unknown))}; put free-form ones under 'infos'")
        raw = {**Labels().to_dict(), **labels}
    else:
        raise TypeError(f"labels must be Labels or a mapping, got {type(labels).__name__}")
    out = {}
    for name, value in raw.items():
        if name == "infos":
            if not isinstance(value, Mapping):
                raise TypeError(f"labels.infos must be a mapping, got {type(value).__name__}")
            out[name] = to_json(value, "labels.infos")
        elif value is None:
            out[name] = ""
        elif isinstance(value, str):
            out[name] = check_text(value, f"labels.{name}")
        else:
            raise TypeError(f"labels.{name} must be a string, got {value!r} ({type(value).__name__})")
    return out


class StoredFile:
    """One file of a file artifact: a local path on demand, open, read, download."""

    def __init__(self, repo: Repository, relpath: str, key: str, size: int) -> None:
        self.repo, self.relpath, self.key, self.size = repo, relpath, key, size

    @property
    def local_path(self) -> str:
        """A local, read-only path to the bytes: the disk store's own (mode 0444) file,
        or a verified copy in the managed file cache for other stores."""
        store = self.repo.store
        if store is None:
            raise InvalidKeyError(f"{self.repo!r} has no blob store holding {self.relpath!r}", key=self.key)
        source = store.source(self.key)
        if isinstance(source, str):
            return source
        return file_cache.fetch(self.key, source, self.relpath)

    def open(self, mode: str = "rb") -> IO[Any]:
        """Open for reading, after checking the content (BlobCorruptError if altered)."""
        if any(flag in mode for flag in "wax+"):
            raise ValueError("stored files are read-only")
        return open(file_cache.verify_file(self.local_path, self.key, self.relpath), mode)

    def read_bytes(self) -> bytes:
        with open(self.local_path, "rb") as fh:
            return file_cache.verify_bytes(fh.read(), self.key, self.relpath)

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    @property
    def hash(self) -> str:
        """The content hash of the file (its key in the blob store)."""
        return self.key

    @property
    def url(self) -> str:
        """Where fsspec-aware readers open the bytes directly (``pd.read_csv(f.url,
        storage_options=f.storage_options)``): a local path, or ``s3://``, ``gs://`` ..."""
        if self.repo.store is None:
            raise InvalidKeyError(f"{self.repo!r} has no blob store holding {self.relpath!r}", key=self.key)
        return self.repo.store.url(self.key)

    @property
    def storage_options(self) -> dict:
        """What fsspec needs beside ``url`` to reach a remote store (empty when local)."""
        fs = getattr(self.repo.store, "fs", None)
        return dict(getattr(fs, "storage_options", None) or {})

    def download(self, directory: str | os.PathLike = ".") -> str:
        """Copy to ``directory/relpath`` (folders created; default: the current folder),
        checked on the way; returns the path."""
        dest = os.path.join(os.fspath(directory), *self.relpath.split("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        return file_cache.copy_file_verified(self.local_path, dest, self.key, self.relpath)

    def __repr__(self) -> str:
        return f"StoredFile({self.relpath!r}, {self.size} bytes, hash={self.key[:14]})"


class FileSet(Mapping):
    """The value of a file artifact: relative path -> StoredFile.

    Empty folders of an uploaded folder are in ``folders`` (the manifest keeps them as
    ``"relpath/": {"folder": True}``); ``download`` recreates them."""

    def __init__(self, manifest: Mapping[str, Mapping], repo: Repository, artifact: Artifact | None = None) -> None:
        self.manifest = dict(manifest)
        self.repo = repo
        self.artifact = artifact
        self._files = {r: e for r, e in self.manifest.items() if not r.endswith("/")}
        self.folders = [r[:-1] for r in self.manifest if r.endswith("/")]

    def __getitem__(self, relpath: str) -> StoredFile:
        entry = self._files[relpath]
        return StoredFile(self.repo, relpath, entry["key"], entry["size"])

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    @property
    def files(self) -> FileSet:
        return self

    @property
    def metadata(self) -> dict[str, Any]:
        """The story's fields (username, hostname, argv, python_packages, creation_time,
        run_id, based_on, labels) and each file's relpath, size and hash."""
        base = self.artifact.metadata if self.artifact is not None else {}
        files = [{"relpath": r, "size": self[r].size, "hash": self[r].key} for r in self]
        return {**base, "files": files}

    def download(self, directory: str | os.PathLike = ".") -> list[str]:
        """Copy every file (and empty folder) under ``directory`` (default: the current
        folder); returns the file paths."""
        for rel in self.folders:
            os.makedirs(os.path.join(os.fspath(directory), *rel.split("/")), exist_ok=True)
        return [self[r].download(directory) for r in self]

    def __provkit_hash__(self) -> str:
        return hashing.hash(self.manifest)

    def __reduce__(self) -> tuple:
        return (dict, (self.manifest,))

    def __repr__(self) -> str:
        if self.artifact is None:
            return f"FileSet({sorted(self.manifest)})"
        meta = self.metadata
        lines = [f"FileSet {meta['id']} ({meta['name']}) by {meta['username']} on {meta['hostname']} "
                 f"at {meta['creation_time']}", f"  argv: {meta['argv']}", f"  labels: {meta['labels']}"]  # fmt: skip
        if meta["based_on"]:
            lines.append(f"  based_on: {', '.join(meta['based_on'])}")
        note = status_note(self.artifact, self.repo)
        if note:
            lines.append(f"  {note}")
        lines += [f"  {f['relpath']}  {f['size']} bytes  {f['hash'][:14]}" for f in meta["files"]]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class NewFiles:
    """What ``Files.new`` yields: local paths to write, one per promised file; after the
    block, ``artifact`` is the new file artifact and ``files`` its files (a FileSet proxy)."""

    def __init__(self, directory: str, relpaths: list[str]) -> None:
        self.directory = directory
        self.relpaths = relpaths
        self.artifact: Artifact | None = None
        self.files: ArtifactProxy | None = None

    def path(self, relpath: str | None = None) -> str:
        if relpath is None:
            if len(self.relpaths) != 1:
                raise ValueError(f"several files were promised ({self.relpaths}): name one")
            relpath = self.relpaths[0]
        if relpath not in self.relpaths:
            raise KeyError(f"{relpath!r} was not promised; promised: {self.relpaths}")
        return os.path.join(self.directory, *relpath.split("/"))


class Files:
    """Upload, find and get file artifacts; also a lineage scope (``based_on``)."""

    def __init__(self, repo: Repository | str | None = None) -> None:
        self._repo = repo
        self.based_on: list[str] = []

    @property
    def repo(self) -> Repository:
        from provkit.storage.settings import get_default_repo, get_repo_by_name

        if self._repo is None:
            return get_default_repo()
        return get_repo_by_name(self._repo) if isinstance(self._repo, str) else self._repo

    def upload(
        self,
        local_paths: str | os.PathLike | Iterable[str | os.PathLike],
        labels: Labels | Mapping | None = None,
        *,
        root: str | os.PathLike | None = None,
        based_on: Iterable[Any] | None = None,
        name: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ArtifactProxy:
        """Store files as one artifact: one path or many, files or folders (walked
        recursively; empty sub-folders are recorded). Relative paths are taken from the
        common folder (a single folder: that folder), or from ``root``.

        Everything is checked before any byte is written (paths, file names, labels,
        parents): a bad input leaves no blob, row or temporary file behind.
        ``progress(nbytes, total_bytes)`` is called as each file is stored."""
        from provkit.core.runs import current_run_info, current_user

        paths = as_path_list(local_paths)
        _, files, folders = collect(paths, os.fsdecode(os.fspath(root)) if root is not None else None)
        label_dict = _labels(labels)
        parents = self.based_on if based_on is None else [_id_of(b) for b in based_on]
        if name is not None:
            check_text(name, "name")
        repo = self.repo
        sizes = {rel: os.path.getsize(path) for rel, path in files.items()}
        total = sum(sizes.values())
        manifest: dict[str, dict] = {}
        for rel, path in files.items():
            key = file_value_id(path)
            if repo.store is not None and not repo.store.exists(key):
                repo.store.put_file(key, path)
            manifest[rel] = {"key": key, "size": sizes[rel]}
            if progress is not None:
                progress(sizes[rel], total)
        manifest.update({f"{rel}/": {"folder": True} for rel in folders})
        manifest = dict(sorted(manifest.items()))
        stored = FileSet(manifest, repo)
        run_info = current_run_info()
        now = datetime.now(timezone.utc)
        user = current_user()
        artifact_id = hashing.hash(("provkit.files", manifest, label_dict, user, now.isoformat(), run_info["id"]))
        artifact = Artifact(
            artifact_id, hashing.hash(manifest), name or label_dict["datatype"] or "files",
            fn_module="provkit.filesets", fn_name="upload", inputs_json={"based_on": list(parents)},
            input_artifact_ids=list(dict.fromkeys(parents)), run_id=run_info["id"],
            custom_fields={
                "labels": label_dict, "file_relpaths": list(stored),
                "file_sizes": {r: stored[r].size for r in stored},
                "file_hashes": {r: stored[r].key for r in stored},
                **({"empty_folders": stored.folders} if stored.folders else {}),
            },
            serializer="json", computed_at=now, repo=repo, kind=KIND, user=user,
        )  # fmt: skip
        repo.save(artifact, manifest, run_info=run_info)
        stored.artifact = artifact
        return ArtifactProxy(stored, artifact)

    def use(self, *artifacts: Any) -> None:
        """Add artifacts (any kind: cached results too) to this scope's ``based_on``."""
        for item in artifacts:
            artifact_id = _id_of(item)
            if artifact_id not in self.based_on:
                self.based_on.append(artifact_id)

    def get(self, artifact_id: str) -> ArtifactProxy:
        """The file artifact ``artifact_id``; it joins this handler's ``based_on``."""
        artifact = self.repo.get_artifact(artifact_id)
        if artifact.kind != KIND:
            raise InvalidKeyError(f"{artifact_id} is a {artifact.kind} artifact, not a file artifact", key=artifact_id)
        if artifact_id not in self.based_on:
            self.based_on.append(artifact_id)
        return artifact.proxy()

    def find(self, query: Mapping | None = None, limit: int | None = None) -> pd.DataFrame:
        """File artifacts matching ``query`` as a DataFrame, newest first."""
        from provkit.services.search import find

        scoped = {"$and": [dict(query or {}), {"kind": KIND}]}
        return find(scoped, limit, self.repo)

    @contextlib.contextmanager
    def new(
        self, relpaths: Iterable[str], labels: Labels | Mapping | None = None, *, based_on: Iterable[Any] | None = None
    ) -> Iterator[NewFiles]:
        """Local paths to write; on a clean exit they are uploaded as one artifact.

        If the block raises, or a promised file was not written, nothing is recorded.
        """
        rels = [check_relpath(r) for r in relpaths]
        if not rels or len(set(rels)) != len(rels):
            raise ValueError(f"new() needs distinct relative paths, got {rels}")
        directory = tempfile.mkdtemp(prefix="provkit-new-")
        handle = NewFiles(directory, rels)
        for rel in rels:
            os.makedirs(os.path.dirname(handle.path(rel)), exist_ok=True)
        try:
            yield handle
            missing = [r for r in rels if not os.path.isfile(handle.path(r))]
            if missing:
                raise FileNotFoundError(f"new(): promised file(s) were not written: {missing}")
            handle.files = self.upload([handle.path(r) for r in rels], labels, root=directory, based_on=based_on)
            handle.artifact = handle.files.artifact
        finally:
            shutil.rmtree(directory, ignore_errors=True)


_run_handler: tuple[int, Files] | None = None


def run_files() -> Files:
    """This run's handler (one per process): file artifacts fetched through it become
    ``based_on`` of the file artifacts it creates later in the same run."""
    global _run_handler
    pid = os.getpid()
    if _run_handler is None or _run_handler[0] != pid:
        _run_handler = (pid, Files())
    return _run_handler[1]


def _id_of(item: Any) -> str:
    return record_id_of(item, "based_on takes")


register_value_wrapper("files", FileSet)  # file artifacts load as FileSets bound to their repo
