"""How a call's inputs are stored: pickled, with large buffers as their own content-
addressed blobs, and artifacts inside as references loaded back as proxies."""

from __future__ import annotations

import io
import pickle
from typing import TYPE_CHECKING, Any

from provkit.core.artifacts import ArtifactRef
from provkit.core.errors import ArtifactNotFoundError, BlobMissingError
from provkit.core.hashing import hash as hash_value
from provkit.storage.repos import values

if TYPE_CHECKING:
    from provkit.storage.repos.base import Repository

__all__ = ["LARGE_INPUT_BYTES", "dump_inputs", "estimated_nbytes", "load_inputs_pickle"]


def estimated_nbytes(value: Any) -> int:
    """Cheap size estimate for values that should stream straight to a file."""
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    module = type(value).__module__
    if module.startswith("pandas"):
        try:
            return int(value.memory_usage(index=True, deep=False).sum())
        except (AttributeError, TypeError):
            return 0
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return 0


#: Input values bigger than this are stored as their own content-addressed blobs.
LARGE_INPUT_BYTES = 1 << 20


class _InputsPickler(pickle.Pickler):
    """Pickles inputs, sending large buffers to the blob store (deduplicated by hash)."""

    def __init__(self, file: io.BytesIO, repo: Repository) -> None:
        super().__init__(file, protocol=5)
        self._repo = repo
        self._store = repo.store

    def persistent_id(self, obj: Any) -> Any:
        if self._store is None or type(obj) in _SMALL_TYPES or estimated_nbytes(obj) <= LARGE_INPUT_BYTES:
            return None
        return values.store_input_blob(self._repo, self._store, hash_value(obj), obj)


_SMALL_TYPES = frozenset({int, float, str, bool, type(None), list, tuple, dict})


class _InputsUnpickler(pickle.Unpickler):
    """Unpickles stored inputs, turning ArtifactRefs into proxies from ``repo``."""

    def __init__(self, data: bytes, repo: Repository) -> None:
        super().__init__(io.BytesIO(data))
        self._repo = repo

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or len(pid) < 2 or pid[0] != "blob" or self._repo.store is None:
            raise pickle.UnpicklingError(f"unknown stored input reference {pid!r}")
        return values.load_input_blob(self._repo, pid)

    def find_class(self, module: str, name: str) -> Any:
        if module in ("provkit.artifacts", "provkit.core.artifacts") and name == "ArtifactRef":
            return self._ref
        return super().find_class(module, name)

    def _ref(self, artifact_id: str) -> Any:
        try:
            return self._repo.proxy(artifact_id)
        except (ArtifactNotFoundError, BlobMissingError):
            return ArtifactRef(artifact_id)


def dump_inputs(inputs: Any, repo: Repository) -> bytes:
    """Pickle inputs; large arrays/frames inside go to the store once, by content."""
    buf = io.BytesIO()
    _InputsPickler(buf, repo).dump(inputs)
    return buf.getvalue()


def load_inputs_pickle(data: bytes, repo: Repository) -> Any:
    """Unpickle stored inputs, artifacts among them as proxies from ``repo``."""
    return _InputsUnpickler(data, repo).load()
