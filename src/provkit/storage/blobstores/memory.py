"""An in-process blob store, for tests and throwaway sessions."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from typing import IO, Any

from provkit.storage.blobstores.base import BlobStore


class MemoryStore(BlobStore):
    """Blobs in a dict; thread-safe; gone when the process ends."""

    type_name = "memory"

    def __init__(self, **flags: Any) -> None:
        super().__init__(**flags)
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._tree_root: str | None = None

    def _exists(self, key: str) -> bool:
        return key in self._blobs

    def _write_file(self, key: str, path: str, *, move: bool) -> None:
        with open(path, "rb") as fh:
            self._write_bytes(key, fh.read())

    def _write_bytes(self, key: str, data: bytes) -> None:
        with self._lock:
            self._blobs[key] = bytes(data)

    def _source(self, key: str) -> IO[bytes]:
        try:
            return io.BytesIO(self._blobs[key])
        except KeyError:
            raise self.missing(key) from None

    def _delete(self, key: str) -> None:
        with self._lock:
            if self._blobs.pop(key, None) is None:
                raise self.missing(key)

    def _keys(self) -> Iterator[str]:
        return iter(list(self._blobs))

    def tree(self) -> tuple[Any, str]:
        from fsspec.implementations.memory import MemoryFileSystem

        if self._tree_root is None:
            self._tree_root = f"/provkit-{uuid.uuid4().hex}"
        return MemoryFileSystem(), self._tree_root

    def __repr__(self) -> str:
        return f"<MemoryStore {len(self._blobs)} blobs>"
