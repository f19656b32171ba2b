"""Stored files handed to users: verified, read-only, and cached in one bounded folder.

File artifacts (archived files, uploaded file sets) are content addressed: their key
is ``file_value_id`` of their bytes. Every read through provkit (``read_bytes``,
``read_text``, ``open``, ``download``, ``provkit get``) checks the bytes against that
key; an altered file is a ``BlobCorruptError`` naming it. Copies of files from stores
without local paths (remote, memory) go to ``<provkit home>/file-cache``, written
read-only, verified before they are published, and trimmed oldest-first beyond
``PROVKIT_FILE_CACHE_BYTES`` (default 10 GiB).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from typing import IO

import xxhash

from provkit.core.errors import BlobCorruptError
from provkit.core.hashing import ALGORITHM_ID

__all__ = [
    "provkit_home", "cache_dir", "fetch", "verify_file", "verify_bytes", "copy_verified", "copy_file_verified",
    "read_only_mode", "current_umask", "trim", "max_bytes",
]  # fmt: skip

DEFAULT_MAX_BYTES = 10 << 30
_CHUNK = 8 << 20
_PART = ".part-"


def provkit_home() -> str:
    """``$PROVKIT_HOME``, else ``$XDG_DATA_HOME/provkit`` (``~/.local/share/provkit``)."""
    home = os.environ.get("PROVKIT_HOME")
    if home:
        return os.path.abspath(os.path.expanduser(home))
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "provkit")


def cache_dir() -> str:
    return os.path.join(provkit_home(), "file-cache")


def max_bytes() -> int:
    raw = os.environ.get("PROVKIT_FILE_CACHE_BYTES")
    return int(raw) if raw else DEFAULT_MAX_BYTES


def current_umask() -> int:
    """The process umask (read without changing it, where /proc allows)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_only_mode() -> int:
    """Read-only for whoever the umask lets read (0444 under umask 022 or 002)."""
    return 0o444 & ~current_umask()


def _content_key(value_id: str) -> str:
    """The content part of a file value id (without a preserved extension)."""
    return value_id.split(".", 1)[0]


def _corrupt(name: str, value_id: str) -> BlobCorruptError:
    return BlobCorruptError(
        f"file {name} is corrupt: its content no longer matches its recorded hash {value_id}", key=value_id
    )


def _hasher() -> xxhash.xxh3_128:
    return xxhash.xxh3_128(b"file:")


def verify_bytes(data: bytes, value_id: str, name: str) -> bytes:
    """``data`` if it is the file ``value_id`` names, else BlobCorruptError naming ``name``."""
    hasher = _hasher()
    hasher.update(data)
    if ALGORITHM_ID + hasher.hexdigest() != _content_key(value_id):
        raise _corrupt(name, value_id)
    return data


def verify_file(path: str, value_id: str, name: str | None = None) -> str:
    """``path`` if its content is the file ``value_id`` names, else BlobCorruptError."""
    hasher = _hasher()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                hasher.update(chunk)
    except FileNotFoundError:
        raise BlobCorruptError(f"file {name or path} is gone from {path}", key=value_id) from None
    if ALGORITHM_ID + hasher.hexdigest() != _content_key(value_id):
        raise _corrupt(f"{name} ({path})" if name else path, value_id)
    return path


def copy_verified(source: IO[bytes], dest: str, value_id: str, name: str) -> str:
    """Copy ``source`` to ``dest`` through a temp file beside it, hashing on the way;
    ``dest`` appears only if the bytes are the file ``value_id`` names."""
    folder = os.path.dirname(os.path.abspath(dest)) or "."
    fd, tmp = tempfile.mkstemp(prefix=_PART, dir=folder)
    hasher = _hasher()
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(_CHUNK):
                hasher.update(chunk)
                out.write(chunk)
        if ALGORITHM_ID + hasher.hexdigest() != _content_key(value_id):
            raise _corrupt(name, value_id)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return dest


def fetch(key: str, source: IO[bytes], name: str) -> str:
    """A verified, read-only local copy of stored file ``key`` in the managed cache."""
    folder = cache_dir()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, key)
    if os.path.exists(path):
        source.close()
        os.utime(path)  # recently used: trimmed last
        return path
    with source:
        copy_verified(source, path, key, name)
    os.chmod(path, read_only_mode())
    trim(folder, max_bytes(), keep=path)
    return path


def trim(folder: str, limit: int, keep: str | None = None) -> None:
    """Remove the least recently used copies until the folder holds at most ``limit`` bytes."""
    entries = []
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False) and not entry.name.startswith(_PART):
            st = entry.stat(follow_symlinks=False)
            entries.append((st.st_mtime, entry.path, st.st_size))
    total = sum(size for _, _, size in entries)
    for _, path, size in sorted(entries):
        if total <= limit:
            break
        if path == keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
            os.unlink(path)
        total -= size


def copy_file_verified(path: str, dest: str, value_id: str, name: str) -> str:
    with open(path, "rb") as src:
        return copy_verified(src, dest, value_id, name)
