"""A chain of blob stores: reads try each in order, writes go to every writable one.

With ``read_through_write`` (the default) a blob found in a later store is copied into
the earlier writable stores on the way back, so the next read is local (the seed's
disk-in-front-of-SFTP setup). ``stores_with(key)`` lets a repository verify each copy
and fall through to the next store when one is corrupt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import IO, Any

from provkit.core.errors import ConfigError, StoreError
from provkit.storage.blobstores.base import BlobStore


class ChainedStore(BlobStore):
    """Reads through ``stores`` in order; writes to each store with ``write`` enabled."""

    type_name = "chained"

    def __init__(self, stores: list[BlobStore], **flags: Any) -> None:
        super().__init__(**flags)
        if not stores or not all(isinstance(s, BlobStore) for s in stores):
            raise ConfigError("a chained store needs a non-empty list of blob stores")
        self.stores = list(stores)
        self._overwriting = False

    def _should_write(self, key: str, overwrite: bool = False) -> bool:
        self._overwriting = overwrite  # passed on to every store of the chain
        return super()._should_write(key, overwrite)

    def _exists(self, key: str) -> bool:
        return any(s.read and s._exists(key) for s in self.stores)

    def _writable(self) -> list[BlobStore]:
        return [s for s in self.stores if s.write]

    def _write_file(self, key: str, path: str, *, move: bool) -> None:
        targets = self._writable()
        if not targets:
            raise StoreError(f"no store in {self!r} accepts writes", key=key)
        for store in targets:
            if self._overwriting or self.on_duplicate_key == "overwrite" or not store._exists(key):
                store._write_file(key, path, move=False)
        if move:
            import os

            os.unlink(path)

    def _write_bytes(self, key: str, data: bytes) -> None:
        targets = self._writable()
        if not targets:
            raise StoreError(f"no store in {self!r} accepts writes", key=key)
        for store in targets:
            if self._overwriting or self.on_duplicate_key == "overwrite" or not store._exists(key):
                store._write_bytes(key, data)

    def stores_with(self, key: str) -> Iterator[BlobStore]:
        """The readable stores holding ``key``, in chain order."""
        for store in self.stores:
            if store.read and store._exists(key):
                yield store

    def copy_back(self, key: str, found_in: BlobStore) -> None:
        """Copy a blob from ``found_in`` into the earlier writable stores that lack it."""
        if not self.read_through_write:
            return
        for store in self.stores:
            if store is found_in:
                return
            if store.write and not store._exists(key):
                store.copy_from(found_in, key)

    def replace_bad_copy(self, key: str, bad: BlobStore, good: BlobStore) -> None:
        """Overwrite a corrupt copy with a verified one (when the bad store is writable)."""
        if bad.write:
            with contextlib.suppress(StoreError, OSError):
                bad.copy_from(good, key, overwrite=True)

    def _source(self, key: str) -> str | IO[bytes]:
        for store in self.stores_with(key):
            source = store._source(key)
            self.copy_back(key, store)
            return source
        raise self.missing(key)

    def _delete(self, key: str) -> None:
        deleted = False
        for store in self.stores:
            if store.delete_enabled and store._exists(key):
                store._delete(key)
                deleted = True
        if not deleted:
            raise self.missing(key)

    def _keys(self) -> Iterator[str]:
        seen: set[str] = set()
        for store in self.stores:
            if store.read:
                for key in store._keys():
                    if key not in seen:
                        seen.add(key)
                        yield key

    def url(self, key: str) -> str:
        """The address in the first store that holds ``key``."""
        for store in self.stores:
            if store.exists(key):
                return store.url(key)
        raise self.missing(key)

    def tree(self) -> tuple[Any, str]:
        """The first writable store's tree: registry files are not copied along the chain."""
        targets = self._writable() or self.stores
        return targets[0].tree()

    def __repr__(self) -> str:
        return f"<ChainedStore {self.stores!r}>"
