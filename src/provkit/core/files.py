"""Archived files: a file's bytes stored as an artifact value, addressed by content.

``archive_file(path)`` (and ``@provenance(archive_file=True)``) copy or move a file into
the repository; the artifact's value is an ``ArchivedFile`` that behaves like a path
(``os.fspath``, ``open``, ``read_bytes``) and hashes by content, so it can be passed to
other decorated functions and lineage follows it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import IO, Any

import xxhash

from provkit.core.file_cache import copy_file_verified, verify_bytes, verify_file
from provkit.core.hashing import ALGORITHM_ID
from provkit.core.serializers import register_serializer

__all__ = ["ArchivedFile", "file_value_id", "file_extension", "FILE_SERIALIZER"]

FILE_SERIALIZER = "file"
_CHUNK = 8 << 20


def file_value_id(path: str | os.PathLike, preserve_ext: bool = False) -> str:
    """Content key of a file (streamed, constant memory), plus its extension if asked."""
    hasher = xxhash.xxh3_128(b"file:")
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            hasher.update(chunk)
    key = ALGORITHM_ID + hasher.hexdigest()
    return key + file_extension(path) if preserve_ext else key


#: Extensions spelled two ways, written the short way (as the provenance library did).
_EXT_ALIASES = {"mpeg": "mpg", "jpeg": "jpg"}


def file_extension(path: str | os.PathLike) -> str:
    """The extension kept by ``preserve_ext``: lower case, canonical (``.JPEG`` -> ``.jpg``);
    empty when there is none or it is not a plain word."""
    ext = os.path.splitext(os.fspath(path))[1].strip().lower()[1:]
    if not ext or not ext.replace("_", "").isalnum():
        return ""
    return "." + _EXT_ALIASES.get(ext, ext)


class ArchivedFile(os.PathLike):
    """A stored file: a local path to its bytes (downloaded on demand by the store)."""

    def __init__(self, path: str, value_id: str | None = None, original_name: str | None = None) -> None:
        self.path = path
        self._value_id = value_id
        self.original_name = original_name

    @property
    def value_id(self) -> str:
        """Content key; hashed from the file only when not already known."""
        if self._value_id is None:
            self._value_id = file_value_id(self.path)
        return self._value_id

    def __fspath__(self) -> str:
        return self.path

    @property
    def _label(self) -> str:
        """How errors name the file: its original name (or its artifact's) and its path."""
        name = self.original_name or getattr(self, "_artifact_name", None)
        return f"{name} ({self.path})" if name else self.path

    def open(self, mode: str = "rb") -> IO[Any]:
        """Open for reading, after checking the content against its value id."""
        if any(flag in mode for flag in "wax+"):
            raise ValueError("archived files are read-only")
        if self._value_id is not None:
            verify_file(self.path, self._value_id, self._label)
        return open(self.path, mode)

    def read_bytes(self) -> bytes:
        """The content, checked against its value id (BlobCorruptError if altered)."""
        with open(self.path, "rb") as fh:
            data = fh.read()
        return verify_bytes(data, self._value_id, self._label) if self._value_id is not None else data

    def copy_to(self, dest: str | os.PathLike) -> str:
        """Copy to ``dest``, checked on the way; returns ``dest``."""
        if self._value_id is None:
            shutil.copyfile(self.path, dest)
            return os.fspath(dest)
        return copy_file_verified(self.path, os.fspath(dest), self._value_id, self._label)

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def __provkit_hash__(self) -> str:
        return self.value_id

    def __reduce__(self) -> tuple:
        return (ArchivedFile, (self.path, self.value_id, self.original_name))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArchivedFile) and other.value_id == self.value_id

    def __hash__(self) -> int:
        return hash(self.value_id)

    def __str__(self) -> str:
        """The absolute path of the stored copy (``open(str(f))``, ``pd.read_csv(str(f))``)."""
        return os.path.abspath(self.path)

    def __repr__(self) -> str:
        return f"ArchivedFile({self.path!r})"


def _dump_file(value: Any, dest: Any, **kwargs: Any) -> None:
    src = os.fspath(value)
    if isinstance(dest, (str, os.PathLike)):
        shutil.copyfile(src, dest)
    else:
        with open(src, "rb") as fh:
            shutil.copyfileobj(fh, dest, _CHUNK)


def _load_file(source: Any, **kwargs: Any) -> ArchivedFile:
    if isinstance(source, (str, os.PathLike)):
        return ArchivedFile(os.fspath(source))
    # a store without local paths: materialize the bytes once in a temp file
    fd, path = tempfile.mkstemp(prefix="provkit-file-")
    with os.fdopen(fd, "wb") as out, source:
        shutil.copyfileobj(source, out, _CHUNK)
    return ArchivedFile(path)


register_serializer(FILE_SERIALIZER, _dump_file, _load_file, "application/octet-stream", file_objects=True)
