"""The BlobStore base class: keys to bytes, with the read/write/delete switches.

Subclasses implement six small methods (``_exists``, ``_write_file``, ``_write_bytes``,
``_source``, ``_delete``, ``_keys``); everything shared (flags, duplicate handling,
key checks, staging for atomic writes) lives here once.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import IO, Any, Literal

from provkit.core.errors import BlobExistsError, BlobMissingError, ConfigError, InvalidKeyError, PermissionDeniedError
from provkit.core.file_cache import provkit_home

OnDuplicate = Literal["skip", "overwrite", "raise"]
#: Folder (beside the blobs) holding the registry's datasets by owner and relpath.
TREE_FOLDER = "datasets"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
#: Staging files older than this were left by a killed writer: removed when a store opens for writing.
STALE_STAGING_SECONDS = 3600.0


def remove_stale(folder: str, max_age: float | None = None) -> int:
    """Remove files in ``folder`` not modified for ``max_age`` seconds; returns how many."""
    limit = time.time() - (STALE_STAGING_SECONDS if max_age is None else max_age)
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < limit:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def staging_dir() -> str:
    """Where stores without a local folder of their own stage writes (under the provkit home)."""
    return os.path.join(provkit_home(), "staging")


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe single path segment, else raise InvalidKeyError."""
    if not isinstance(key, str) or not _KEY.match(key) or ".." in key:
        raise InvalidKeyError(f"invalid blob key {key!r}: use letters, digits, '.', '_' and '-' only", key=str(key))
    return key


class BlobStore(ABC):
    """Stores immutable blobs under string keys (content-addressed by the caller)."""

    #: short type name used in configs and reprs
    type_name = "abstract"

    def __init__(
        self,
        *,
        read: bool = True,
        write: bool = True,
        delete: bool = False,
        read_through_write: bool = True,
        on_duplicate_key: OnDuplicate = "skip",
    ) -> None:
        if on_duplicate_key not in ("skip", "overwrite", "raise"):
            raise ConfigError(f"on_duplicate_key must be 'skip', 'overwrite' or 'raise', not {on_duplicate_key!r}")
        self.read = bool(read)
        self.write = bool(write)
        self.delete_enabled = bool(delete)
        self.read_through_write = bool(read_through_write)
        self.on_duplicate_key: OnDuplicate = on_duplicate_key
        if self.write and type(self)._staging_path is BlobStore._staging_path:
            remove_stale(staging_dir())

    # ---- to implement -------------------------------------------------------------
    @abstractmethod
    def _exists(self, key: str) -> bool: ...

    @abstractmethod
    def _write_file(self, key: str, path: str, *, move: bool) -> None:
        """Store the file at ``path`` under ``key`` atomically (readers never see a partial blob)."""

    @abstractmethod
    def _write_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def _source(self, key: str) -> str | IO[bytes]:
        """A local path or an open binary file with the blob; BlobMissingError if absent."""

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    @abstractmethod
    def _keys(self) -> Iterator[str]: ...

    # ---- public API -----------------------------------------------------------------
    def _check(self, flag: bool, action: str, key: str | None = None) -> None:
        if not flag:
            raise PermissionDeniedError(f"{action} is disabled on {self!r}", key=key)

    def exists(self, key: str) -> bool:
        """True if a blob is stored under ``key`` (False if reading is disabled)."""
        return self.read and self._exists(check_key(key))

    def _should_write(self, key: str, overwrite: bool = False) -> bool:
        self._check(self.write, "writing", key)
        check_key(key)
        if overwrite or self.on_duplicate_key == "overwrite" or not self._exists(key):
            return True
        if self.on_duplicate_key == "raise":
            raise BlobExistsError(f"blob {key!r} already exists in {self!r}", key=key)
        return False

    def put_bytes(self, key: str, data: bytes, *, overwrite: bool = False) -> bool:
        """Store ``data``; returns False when an existing blob was kept (``skip``).

        ``overwrite`` replaces an existing blob whatever the policy (repairs)."""
        if not self._should_write(key, overwrite):
            return False
        self._write_bytes(key, data)
        return True

    def put_file(self, key: str, path: str | os.PathLike, *, move: bool = False, overwrite: bool = False) -> bool:
        """Store a local file's content; with ``move`` the file may be consumed."""
        if not self._should_write(key, overwrite):
            if move:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            return False
        self._write_file(key, os.fspath(path), move=move)
        return True

    @contextlib.contextmanager
    def staged(self, key: str, *, overwrite: bool = False) -> Iterator[str]:
        """A temporary local path to write; on a clean exit it becomes blob ``key``.

        If the block raises, nothing is stored and the temporary file is removed.
        """
        self._check(self.write, "writing", key)
        check_key(key)
        path = self._staging_path()
        try:
            yield path
            self.put_file(key, path, move=True, overwrite=overwrite)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def _staging_path(self) -> str:
        folder = staging_dir()
        os.makedirs(folder, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix="provkit-", dir=folder)
        os.close(fd)
        return path

    def source(self, key: str) -> str | IO[bytes]:
        """A local path (fast, mmap-able) or a binary file object holding the blob."""
        self._check(self.read, "reading", key)
        return self._source(check_key(key))

    def get_bytes(self, key: str) -> bytes:
        src = self.source(key)
        if isinstance(src, str):
            with open(src, "rb") as fh:
                return fh.read()
        with src:
            return src.read()

    def open(self, key: str) -> IO[bytes]:
        src = self.source(key)
        return open(src, "rb") if isinstance(src, str) else src

    def get_file(self, key: str, dest: str | os.PathLike) -> None:
        """Copy the blob to a local file ``dest``."""
        with self.open(key) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)

    def copy_from(self, other: BlobStore, key: str, *, overwrite: bool = False) -> bool:
        """Copy blob ``key`` from another store (by path when it has one, else by bytes)."""
        source = other.source(key)
        if isinstance(source, str):
            return self.put_file(key, source, overwrite=overwrite)
        with source:
            return self.put_bytes(key, source.read(), overwrite=overwrite)

    def url(self, key: str) -> str:
        """Where blob ``key`` can be read directly by fsspec-aware code (a path or a URL)."""
        raise ConfigError(f"{self!r} has no address its blobs can be read from")

    def tree(self) -> tuple[Any, str]:
        """An fsspec filesystem and a root folder for path-shaped data (the dataset
        registry's files), beside the blobs and never listed among them."""
        raise ConfigError(f"{self!r} cannot hold registry datasets (no file tree)")

    def delete(self, key: str) -> None:
        self._check(self.delete_enabled, "deleting", key)
        self._delete(check_key(key))

    def keys(self) -> Iterator[str]:
        self._check(self.read, "reading")
        return self._keys()

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and self.exists(key)

    def missing(self, key: str) -> BlobMissingError:
        return BlobMissingError(f"no blob {key!r} in {self!r}", key=key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
