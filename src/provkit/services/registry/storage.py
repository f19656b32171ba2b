"""Dataset files in the registry's storage: copy in, verify, copy within, remove, fetch.

The storage is the file tree beside the repository's blobs (``BlobStore.tree()``):
a local folder, an S3/GCS prefix or an SFTP folder, reached through fsspec. A dataset
lives at ``<owner_type>/<owner>/<relpath>`` while it is live; retired datasets that
others still depend on keep their files under ``_archive/<dataset id>``; replacements
are copied to ``_staging/<dataset id>`` first. Every file is hashed while it is copied
and hashed again as read back from the storage before a copy counts as done.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Callable
from typing import Any

import xxhash

from provkit.core.errors import DatasetCopyError

__all__ = ["DatasetArea", "Progress", "scan", "content_hash"]

#: progress(bytes_done_since_last_call, total_bytes_of_the_whole_copy)
Progress = Callable[[int, int], None]
_CHUNK = 8 << 20


def scan(old_location: str | os.PathLike) -> tuple[str, list[tuple[str, str, int]]]:
    """What to copy: ``('file' | 'directory', [(relative name, local path, size)])``; an
    empty folder is ``("rel/", folder path, 0)`` (kept as a folder entry of the manifest)."""
    path = os.path.abspath(os.path.expanduser(os.fspath(old_location)))
    if os.path.isfile(path):
        return "file", [("", path, os.path.getsize(path))]
    if not os.path.isdir(path):
        raise FileNotFoundError(f"old_location {os.fspath(old_location)!r} is neither a file nor a directory")
    files = []
    for folder, dirs, names in os.walk(path):
        dirs.sort()
        if folder != path and not dirs and not names:
            files.append((os.path.relpath(folder, path).replace(os.sep, "/") + "/", folder, 0))
        for name in sorted(names):
            full = os.path.join(folder, name)
            if os.path.islink(full) and not os.path.exists(full):
                raise DatasetCopyError(f"old_location holds a broken symlink: {full}")
            rel = os.path.relpath(full, path).replace(os.sep, "/")
            files.append((rel, full, os.path.getsize(full)))
    return "directory", files


def _pump(src: Any, dst: Any | None, progress: Progress | None = None, total: int = 0) -> tuple[str, int]:
    """Read ``src`` to its end, writing to ``dst`` (if any) and hashing on the way;
    returns (xxh3-128 hex digest, bytes read)."""
    hasher = xxhash.xxh3_128()
    size = 0
    while chunk := src.read(_CHUNK):
        hasher.update(chunk)
        if dst is not None:
            dst.write(chunk)
        size += len(chunk)
        if progress is not None:
            progress(len(chunk), total)
    return hasher.hexdigest(), size


def content_hash(manifest: dict[str, dict]) -> str:
    """One hash for a dataset: over every file's name, size and content hash."""
    hasher = xxhash.xxh3_128(b"dataset:")
    for rel in sorted(manifest):
        entry = manifest[rel]
        if is_folder(rel):
            hasher.update(f"{rel}\n".encode())
            continue
        hasher.update(f"{rel}\0{entry['size']}\0{entry['hash']}\n".encode())
    return hasher.hexdigest()


def is_folder(rel: str) -> bool:
    """Whether a manifest entry is an (empty) folder: its name ends with '/'."""
    return rel.endswith("/")


class DatasetArea:
    """The registry's file tree: ``fs`` (fsspec) under ``root``."""

    def __init__(self, fs: Any, root: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")

    def path(self, location: str, rel: str = "") -> str:
        base = f"{self.root}/{location}"
        return f"{base}/{rel}" if rel else base

    def url(self, location: str) -> str:
        """Where a dataset's files are, as a local path or a URL (s3://, sftp://)."""
        path = self.path(location)
        from fsspec.implementations.local import LocalFileSystem

        return path if isinstance(self.fs, LocalFileSystem) else self.fs.unstrip_protocol(path)

    # ---- writing ------------------------------------------------------------------
    def copy_in(self, files: list[tuple[str, str, int]], location: str, progress: Progress | None = None) -> dict:
        """Copy local files under ``location``; returns the manifest {rel: size, hash}."""
        total = sum(size for _, _, size in files)
        manifest: dict[str, dict] = {}
        made: set[str] = set()
        for rel, local, size in files:
            target = self.path(location, rel)
            if is_folder(rel):  # object stores keep no empty folders: the manifest does
                with contextlib.suppress(FileExistsError):
                    self.fs.makedirs(target.rstrip("/"), exist_ok=True)
                manifest[rel] = {"size": 0, "folder": True}
                continue
            self._parent_folder(target, made)
            with open(local, "rb") as src, self.fs.open(target, "wb") as dst:
                digest, written = _pump(src, dst, progress, total)
            if written != size:
                raise DatasetCopyError(f"{local} changed size while it was copied ({size} -> {written} bytes)")
            manifest[rel] = {"size": written, "hash": digest}
        return manifest

    def _parent_folder(self, path: str, made: set[str]) -> None:
        """Create ``path``'s folder once per copy (object stores need none; harmless)."""
        parent = posixpath.dirname(path)
        if parent not in made:
            with contextlib.suppress(FileExistsError):
                self.fs.makedirs(parent, exist_ok=True)
            made.add(parent)

    def verify(self, location: str, manifest: dict) -> None:
        """Read every file back from the storage; DatasetCopyError naming any mismatch."""
        bad = []
        for rel, entry in manifest.items():
            if is_folder(rel):
                continue
            try:
                digest, size = self._hash(self.path(location, rel))
            except FileNotFoundError:
                bad.append(f"{rel or posixpath.basename(location)}: missing")
                continue
            if (digest, size) != (entry["hash"], entry["size"]):
                bad.append(f"{rel or posixpath.basename(location)}: {size} bytes, hash {digest[:12]} "
                           f"(expected {entry['size']} bytes, hash {entry['hash'][:12]})")  # fmt: skip
        if bad:
            raise DatasetCopyError(f"copy at {self.url(location)} did not verify: " + "; ".join(bad))

    def _hash(self, path: str) -> tuple[str, int]:
        with self.fs.open(path, "rb") as fh:
            return _pump(fh, None)

    def exists(self, location: str) -> bool:
        return bool(self.fs.exists(self.path(location)))

    def remove(self, location: str) -> None:
        """Delete everything at ``location`` (a file or a folder); absent is fine."""
        path = self.path(location)
        try:
            if self.fs.isdir(path):
                self.fs.rm(path, recursive=True)
            elif self.fs.exists(path):
                self.fs.rm(path)
        except FileNotFoundError:
            return

    def copy_within(self, source: str, target: str, manifest: dict) -> None:
        """Copy a dataset from ``source`` to ``target`` inside the storage and verify it
        (hard links on a local folder; server-side copies on object stores)."""
        from fsspec.implementations.local import LocalFileSystem

        local = isinstance(self.fs, LocalFileSystem)
        made: set[str] = set()
        for rel in manifest:
            if is_folder(rel):
                with contextlib.suppress(FileExistsError):
                    self.fs.makedirs(self.path(target, rel).rstrip("/"), exist_ok=True)
                continue
            src, dest = self.path(source, rel), self.path(target, rel)
            self._parent_folder(dest, made)
            if local:
                try:
                    os.link(src, dest)
                    continue
                except OSError:
                    pass
            self.fs.copy(src, dest)
        self.verify(target, manifest)

    # ---- reading ------------------------------------------------------------------
    def fetch(self, location: str, manifest: dict, dest: str, progress: Progress | None = None) -> str:
        """Copy a dataset to local ``dest`` (a folder; a file dataset lands inside it),
        checking every file's hash; returns the local path of the dataset."""
        total = sum(entry["size"] for entry in manifest.values())
        os.makedirs(dest, exist_ok=True)
        single = list(manifest) == [""]
        top = os.path.join(dest, posixpath.basename(location)) if single else dest
        for rel, entry in manifest.items():
            if is_folder(rel):
                os.makedirs(os.path.join(dest, *rel.rstrip("/").split("/")), exist_ok=True)
                continue
            local = top if single else os.path.join(dest, *rel.split("/"))
            os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
            tmp = local + ".provkit-part"
            with self.fs.open(self.path(location, rel), "rb") as src, open(tmp, "wb") as out:
                digest, _ = _pump(src, out, progress, total)
            if digest != entry["hash"]:
                os.unlink(tmp)
                raise DatasetCopyError(f"{self.url(location)}/{rel}: content does not match its recorded hash")
            os.replace(tmp, local)
        return top
