"""What an upload will store, worked out (and checked) before any byte is written.

``collect(paths, root)`` accepts one path or many, files or folders (walked recursively,
empty sub-folders kept), and returns the common root, ``relpath -> absolute path`` of
every file and the relpaths of empty folders. It refuses, naming the path: a missing
path, a special file, a symlink out of the root or to a folder, a path that is not
clean under the root, a name that is not valid UTF-8, the same file twice.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from provkit.core.errors import InvalidKeyError

__all__ = ["check_relpath", "collect", "as_path_list"]


def check_relpath(relpath: str) -> str:
    """A clean POSIX relative path, or InvalidKeyError (absolute, '..', empty parts)."""
    if not isinstance(relpath, str) or not relpath:
        raise InvalidKeyError(f"invalid relative path {relpath!r}", key=str(relpath))
    posix = relpath.replace(os.sep, "/")
    parts = posix.split("/")
    if posix.startswith("/") or os.path.isabs(relpath) or any(p in ("", ".", "..") for p in parts):
        raise InvalidKeyError(f"relative path {relpath!r} escapes its root or is not normalized", key=relpath)
    return posix


def as_path_list(local_paths: Any) -> list[str]:
    """One path (str, bytes, PathLike) or an iterable of them, as a list of str paths."""
    if isinstance(local_paths, (str, bytes, os.PathLike)):
        local_paths = [local_paths]
    elif not isinstance(local_paths, Iterable):
        raise TypeError(f"upload takes a path or a list of paths, got {type(local_paths).__name__}")
    paths = []
    for item in local_paths:
        if not isinstance(item, (str, bytes, os.PathLike)):
            raise TypeError(f"upload takes paths (str or os.PathLike), got {item!r}")
        paths.append(os.fsdecode(os.fspath(item)))
    if not paths:
        raise ValueError("upload needs at least one file or folder")
    return paths


def _utf8_name(rel: str, path: str) -> str:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKeyError(
            f"upload: the file name {os.fsencode(path)!r} is not valid UTF-8; rename it (e.g. with convmv)",
            key=repr(os.fsencode(rel)),
        ) from None
    return rel


def _walk(folder: str) -> tuple[list[str], list[str]]:
    """(files, empty sub-folders) under ``folder``, sorted; symlinked folders refused."""
    files, empty = [], []

    def refuse(exc: OSError) -> None:
        raise exc

    for dirpath, dirnames, filenames in os.walk(folder, onerror=refuse):
        for d in dirnames:
            if os.path.islink(os.path.join(dirpath, d)):
                raise InvalidKeyError(
                    f"upload: {os.path.join(dirpath, d)!r} is a symbolic link to a folder; upload its target instead",
                    key=d,
                )
        files.extend(os.path.join(dirpath, f) for f in filenames)
        if not dirnames and not filenames and dirpath != folder:
            empty.append(dirpath)
    return sorted(files), sorted(empty)


def collect(paths: list[str], root: str | None) -> tuple[str, dict[str, str], list[str]]:
    """(root, {relpath: file path}, [empty folder relpaths]); raises before anything is stored."""
    absolute = [os.path.abspath(p) for p in paths]
    for given, path in zip(paths, absolute):
        if not os.path.lexists(path):
            raise FileNotFoundError(f"upload: no file or folder at {given!r}")
    if root is None:
        root = os.path.commonpath([p if os.path.isdir(p) else os.path.dirname(p) for p in absolute])
    root = os.path.abspath(root)
    real_root = os.path.realpath(root)
    files: list[str] = []
    folders: list[str] = []
    for path in absolute:
        if os.path.isdir(path):
            inside, empty = _walk(path)
            if not inside and not empty:
                raise ValueError(f"upload: the folder {path!r} holds no files")
            files.extend(inside)
            folders.extend(empty)
        else:
            files.append(path)
    by_rel: dict[str, str] = {}
    for path in files:
        if not os.path.isfile(path):
            what = "a broken symbolic link" if os.path.islink(path) else "not a regular file"
            raise FileNotFoundError(f"upload: {path!r} is {what}")
        real = os.path.realpath(path)
        if os.path.commonpath([real, real_root]) != real_root:
            raise InvalidKeyError(f"{path!r} resolves outside {root!r} (a symlink out of the tree?)", key=path)
        rel = check_relpath(_utf8_name(os.path.relpath(path, root), path))
        if rel in by_rel:
            raise InvalidKeyError(f"the same relative path appears twice: {rel!r}", key=rel)
        by_rel[rel] = path
    empty_rels = sorted({check_relpath(_utf8_name(os.path.relpath(f, root), f)) for f in folders})
    return root, dict(sorted(by_rel.items())), empty_rels
