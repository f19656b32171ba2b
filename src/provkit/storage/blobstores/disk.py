"""A blob store on a local (or mounted) directory, written with temp file + rename.

A blob is published durably: its bytes are fsync'ed, it is renamed into place and the
folder is fsync'ed, so a committed record never points at a blob a crash could lose.
(``fsync: false`` skips that, for scratch caches.) Blobs are read-only files (``0444``
masked by the process umask, or ``mode``); folders follow the umask (or ``dir_mode``),
so a team with umask 002 and a shared group can read each other's blobs. Staging files
a killed writer left behind are removed by age when the store is opened for writing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import xxhash

from provkit.core.errors import ConfigError
from provkit.core.file_cache import current_umask
from provkit.storage.blobstores.base import TREE_FOLDER, BlobStore, remove_stale

_STAGING = ".staging"


def _fanout(key: str) -> str:
    """Two hex chars spreading keys over 256 folders (any key, any prefix)."""
    return xxhash.xxh32_hexdigest(key.encode())[:2]


class DiskStore(BlobStore):
    """Blobs as files under ``cachedir/<2 hex>/<key>``; writes are atomic renames."""

    type_name = "disk"

    def __init__(
        self,
        cachedir: str | os.PathLike,
        *,
        mode: int | None = None,
        dir_mode: int | None = None,
        fsync: bool = True,
        **flags: Any,
    ) -> None:
        super().__init__(**flags)
        for key, value in (("mode", mode), ("dir_mode", dir_mode)):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0o7777
            ):
                raise ConfigError(f"{key} must be a permission mode such as 0o440 (an int), got {value!r}")
        self.cachedir = os.path.abspath(os.path.expanduser(os.fspath(cachedir)))
        self._staging_dir = os.path.join(self.cachedir, _STAGING)
        umask = current_umask()
        self.mode = mode if mode is not None else 0o444 & ~umask
        self.dir_mode = dir_mode
        #: fsync each blob and its folder before publishing it (off: faster, not crash-proof)
        self.fsync = bool(fsync)
        if self.write:
            self._makedirs(self._staging_dir)
            remove_stale(self._staging_dir)

    def _makedirs(self, folder: str) -> None:
        """Create ``folder`` (and parents) with ``dir_mode`` when set, else as the umask says."""
        if os.path.isdir(folder):
            return
        os.makedirs(folder, exist_ok=True)
        if self.dir_mode is not None:
            while folder.startswith(self.cachedir) and len(folder) >= len(self.cachedir):
                os.chmod(folder, self.dir_mode)
                folder = os.path.dirname(folder)

    def path(self, key: str) -> str:
        return os.path.join(self.cachedir, _fanout(key), key)

    def _exists(self, key: str) -> bool:
        return os.path.exists(self.path(key))

    def _staging_path(self) -> str:
        self._makedirs(self._staging_dir)
        fd, path = tempfile.mkstemp(prefix="blob-", dir=self._staging_dir)
        os.close(fd)
        return path

    def _install(self, key: str, tmp: str) -> None:
        """Publish a staged file: fsync it, make it read-only, rename, fsync the folder."""
        final = self.path(key)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            if self.fsync:
                os.fsync(fd)
            os.fchmod(fd, self.mode)
        finally:
            os.close(fd)
        folder = os.path.dirname(final)
        try:
            os.replace(tmp, final)
        except FileNotFoundError:
            self._makedirs(folder)
            os.replace(tmp, final)
        if self.fsync:
            _fsync_dir(folder)

    def _write_file(self, key: str, path: str, *, move: bool) -> None:
        if move and os.path.dirname(os.path.abspath(path)) == self._staging_dir:
            self._install(key, path)
            return
        tmp = self._staging_path()
        try:
            shutil.copyfile(path, tmp)
            self._install(key, tmp)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if move:
            os.unlink(path)

    def _write_bytes(self, key: str, data: bytes) -> None:
        tmp = self._staging_path()
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
            self._install(key, tmp)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _source(self, key: str) -> str:
        path = self.path(key)
        if not os.path.exists(path):
            raise self.missing(key)
        return path

    def _delete(self, key: str) -> None:
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            raise self.missing(key) from None

    def _keys(self) -> Iterator[str]:
        for entry in os.scandir(self.cachedir):
            if entry.is_dir() and len(entry.name) == 2:  # fan-out folders only
                for blob in os.scandir(entry.path):
                    yield blob.name

    def url(self, key: str) -> str:
        return self.path(key)

    def tree(self) -> tuple[Any, str]:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(), os.path.join(self.cachedir, TREE_FOLDER)

    def __repr__(self) -> str:
        return f"<DiskStore {self.cachedir}>"


def _fsync_dir(folder: str) -> None:
    """Make a rename in ``folder`` durable (where the platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
