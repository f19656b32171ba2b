"""Blob stores, found by type name through a lazy registry (fsspec style)."""

from __future__ import annotations

from typing import Any

from provkit.core.plugins import load_class
from provkit.storage.blobstores.base import BlobStore, check_key

__all__ = ["BlobStore", "check_key", "store_class", "STORE_TYPES"]

#: type name -> "module:Class"; None marks a documented type not built yet.
STORE_TYPES: dict[str, str | None] = {
    "memory": "provkit.storage.blobstores.memory:MemoryStore",
    "disk": "provkit.storage.blobstores.disk:DiskStore",
    "s3": "provkit.storage.blobstores.remote:S3Store",
    "sftp": "provkit.storage.blobstores.remote:SFTPStore",
    "gs": "provkit.storage.blobstores.remote:GSStore",
    "chained": "provkit.storage.blobstores.chained:ChainedStore",
}


def store_class(type_name: str) -> type[BlobStore]:
    """The BlobStore class for a config ``type``; a clear error for unknown types."""
    return load_class(STORE_TYPES, type_name, "blobstore")


def __getattr__(name: str) -> Any:  # lazy: DiskStore / MemoryStore without importing both up front
    if name in ("DiskStore", "MemoryStore"):
        return store_class("disk" if name == "DiskStore" else "memory")
    raise AttributeError(name)
