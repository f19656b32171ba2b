"""A blob store on a local (or mounted) directory, written with temp file + rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import xxhash

from .base import TREE_FOLDER, BlobStore

_STAGING = ".staging"


def _fanout(key: str) -> str:
    """Two hex chars spreading keys over 256 folders (any key, any prefix)."""
    return xxhash.xxh32_hexdigest(key.encode())[:2]


class DiskStore(BlobStore):
    """Blobs as files under ``cachedir/<2 hex>/<key>``; writes are atomic renames."""

    type_name = "disk"

    def __init__(self, cachedir: str | os.PathLike, **flags: Any) -> None:
        super().__init__(**flags)
        self.cachedir = os.path.abspath(os.path.expanduser(os.fspath(cachedir)))
        self._staging_dir = os.path.join(self.cachedir, _STAGING)
        os.makedirs(self._staging_dir, exist_ok=True)

    def path(self, key: str) -> str:
        return os.path.join(self.cachedir, _fanout(key), key)

    def _exists(self, key: str) -> bool:
        return os.path.exists(self.path(key))

    def _staging_path(self) -> str:
        fd, path = tempfile.mkstemp(prefix="blob-", dir=self._staging_dir)
        os.close(fd)
        return path

    def _install(self, key: str, tmp: str) -> None:
        final = self.path(key)
        try:
            os.replace(tmp, final)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(tmp, final)

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

    def tree(self) -> tuple[Any, str]:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(), os.path.join(self.cachedir, TREE_FOLDER)

    def __repr__(self) -> str:
        return f"<DiskStore {self.cachedir}>"
