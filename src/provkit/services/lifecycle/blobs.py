"""Blob-level helpers for gc, du and verify: sizes, ages, keys, and deleting a blob safely.

Deleting a blob that a concurrent writer may be reusing follows a small protocol: the
blob is first *taken* (renamed aside on disk, read into memory elsewhere), then its
references are checked again, and it is put back if a row now names it. Writers check
after committing a row that its blobs exist (``Repository.save``), so whichever comes
second repairs the race: no committed row is left without its blob.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from provkit.core.errors import BlobMissingError
from provkit.storage.blobstores.base import BlobStore, remove_stale, staging_dir
from provkit.storage.blobstores.chained import ChainedStore
from provkit.storage.blobstores.disk import DiskStore

__all__ = ["blob_mtime", "blob_size", "delete_unreferenced", "iter_keys", "members", "sweep_staging"]


def members(store: BlobStore) -> list[BlobStore]:
    """The leaf stores of ``store`` (a chain's members, recursively)."""
    if isinstance(store, ChainedStore):
        return [leaf for s in store.stores for leaf in members(s)]
    return [store]


def _first_with(store: BlobStore, key: str) -> BlobStore | None:
    for leaf in members(store):
        if leaf.read and leaf._exists(key):
            return leaf
    return None


def blob_size(store: BlobStore, key: str) -> int:
    """Bytes of blob ``key`` (0 when absent)."""
    leaf = _first_with(store, key)
    if leaf is None:
        return 0
    if isinstance(leaf, DiskStore):
        return os.path.getsize(leaf.path(key))
    fs = getattr(leaf, "fs", None)
    if fs is not None and hasattr(leaf, "_path"):
        return int(fs.size(leaf._path(key)))
    src = leaf.source(key)
    if isinstance(src, str):
        return os.path.getsize(src)
    with src:
        src.seek(0, os.SEEK_END)
        return src.tell()


def blob_mtime(store: BlobStore, key: str) -> float | None:
    """When blob ``key`` was last written (seconds since the epoch), where the store tells."""
    times = []
    for leaf in members(store):
        if isinstance(leaf, DiskStore):
            with contextlib.suppress(FileNotFoundError):
                times.append(os.stat(leaf.path(key)).st_mtime)
    return max(times) if times else None


def iter_keys(store: BlobStore) -> Iterator[str]:
    """Every blob key of the store (each once)."""
    yield from store.keys()


def _take(leaf: BlobStore, key: str) -> Any:
    """Remove ``key`` from ``leaf`` and return what restores it (None if it was absent)."""
    if isinstance(leaf, DiskStore):
        os.makedirs(leaf._staging_dir, exist_ok=True)
        aside = os.path.join(leaf._staging_dir, f"gc-{uuid.uuid4().hex}")
        try:
            os.rename(leaf.path(key), aside)
        except FileNotFoundError:
            return None
        return ("path", aside)
    try:
        data = leaf.get_bytes(key)
    except BlobMissingError:
        return None
    try:
        leaf.delete(key)
    except BlobMissingError:
        return None
    return ("bytes", data)


def _restore(leaf: BlobStore, key: str, held: Any) -> None:
    how, what = held
    if how == "path":
        if leaf._exists(key):  # a writer already rewrote it
            os.unlink(what)
        else:
            os.rename(what, leaf.path(key))
    elif not leaf._exists(key):
        leaf._write_bytes(key, what)


def _discard(held: Any) -> None:
    if held[0] == "path":
        with contextlib.suppress(FileNotFoundError):
            os.unlink(held[1])


def delete_unreferenced(store: BlobStore, key: str, referenced: Callable[[str], bool]) -> bool:
    """Delete blob ``key`` from every deletable member unless ``referenced(key)``, checked
    before and again after the blob is taken away (it is put back then). True if deleted."""
    if referenced(key):
        return False
    taken = []
    for leaf in members(store):
        if leaf.delete_enabled and leaf._exists(key):
            held = _take(leaf, key)
            if held is not None:
                taken.append((leaf, held))
    if not taken:
        return False
    if referenced(key):
        for leaf, held in taken:
            _restore(leaf, key, held)
        return False
    for _, held in taken:
        _discard(held)
    return True


def sweep_staging(store: BlobStore, max_age: float) -> int:
    """Remove staging files older than ``max_age`` seconds (left by killed writers)."""
    removed = 0
    folders = {staging_dir()}
    for leaf in members(store):
        if isinstance(leaf, DiskStore):
            folders.add(leaf._staging_dir)
        cache = getattr(leaf, "cache", None)
        if isinstance(cache, DiskStore):
            folders.add(cache._staging_dir)
    for folder in sorted(folders):
        removed += remove_stale(folder, max_age)
    return removed
