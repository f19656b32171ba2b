"""Writer/handler pairs for derived data, and the provenance fields they enforce.

A pair is registered once under a spec name: the writer puts data into a local path,
the handler (reader) gets it back from that path. ``save_derived`` writes through the
pair, registers the result as a dataset (files copied and verified like any other),
and refuses to do so without the provenance a reader of the data will need:

* where it came from: ``parents`` (ids of datasets / artifacts) or ``source_files``;
* the code that made it: ``code_name``, ``code_version`` (version or commit) and ``code_url``.

``allow_missing=[...]`` (or ``True``) is the explicit opt-out; what was waived is
recorded with the dataset.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from provkit.core.errors import MissingProvenanceError, RegistryError

if TYPE_CHECKING:
    from provkit.services.registry.records import Dataset
    from provkit.services.registry.registry import Registry

__all__ = ["Handler", "register_handler", "get_handler", "save_derived", "load_derived", "PROVENANCE_FIELDS"]

PROVENANCE_FIELDS = ("parents|source_files", "code_name", "code_version", "code_url")


@dataclass(frozen=True)
class Handler:
    """A writer/reader pair: ``writer(data, path)`` then ``reader(path) -> data``.

    ``data_org`` says whether ``path`` is a file or a directory; ``suffix`` is added
    to the file name the writer gets (``.npy``, ``.parquet``)."""

    spec: str
    writer: Callable[[Any, str], Any]
    reader: Callable[[str], Any]
    data_org: str = "file"
    suffix: str = ""


_handlers: dict[str, Handler] = {}
_lock = threading.Lock()


def register_handler(
    spec: str,
    writer: Callable[[Any, str], Any],
    reader: Callable[[str], Any],
    *,
    data_org: str = "file",
    suffix: str = "",
) -> Handler:
    """Register a writer with the reader that gets its output back, under ``spec``."""
    if not isinstance(spec, str) or not spec.strip():
        raise RegistryError(f"a handler needs a spec name, got {spec!r}")
    if not callable(writer) or not callable(reader):
        raise RegistryError(f"handler {spec!r} needs a callable writer and a callable reader")
    if data_org not in ("file", "directory"):
        raise RegistryError(f"data_org must be 'file' or 'directory', got {data_org!r}")
    handler = Handler(spec, writer, reader, data_org, suffix)
    with _lock:
        _handlers[spec] = handler
    return handler


def get_handler(spec: str) -> Handler:
    try:
        return _handlers[spec]
    except KeyError:
        known = ", ".join(sorted(_handlers)) or "none"
        raise RegistryError(f"no handler registered for spec {spec!r} (registered: {known}); "
                            "call provkit.register_handler first") from None  # fmt: skip


def _missing(parents: list[str], source_files: list[str], code: dict[str, Any]) -> list[str]:
    missing = [] if parents or source_files else ["parents or source_files"]
    missing += [name for name in ("code_name", "code_version", "code_url") if not code.get(name)]
    return missing


def _waived(missing: list[str], allow_missing: bool | Iterable[str]) -> list[str]:
    """The missing fields the caller explicitly waived (error for the rest)."""
    if allow_missing is True:
        return missing
    allowed = set(allow_missing or ())
    unknown = allowed - {"parents", "source_files", "parents or source_files", "code_name", "code_version", "code_url"}
    if unknown:
        raise RegistryError(f"allow_missing names unknown field(s) {sorted(unknown)}")
    if {"parents", "source_files"} & allowed:
        allowed.add("parents or source_files")
    left = [m for m in missing if m not in allowed]
    if left:
        raise MissingProvenanceError(
            f"refusing to store derived data without provenance: missing {', '.join(left)} "
            "(pass them, or allow_missing=[...] to waive explicitly)",
            missing=left,
        )
    return missing


def save_derived(
    registry: Registry,
    data: Any,
    spec: str,
    relpath: str,
    version: str = "patch",
    *,
    parents: Iterable[Any] = (),
    source_files: Iterable[str | os.PathLike] = (),
    code_name: str | None = None,
    code_version: str | None = None,
    code_url: str | None = None,
    allow_missing: bool | Iterable[str] = (),
    **dataset_options: Any,
) -> Dataset:
    """Write ``data`` with the ``spec`` writer and register it as a dataset."""
    from provkit.core.artifacts import record_id_of

    handler = get_handler(spec)
    parent_ids = [record_id_of(p) for p in parents]
    files = [os.fspath(f) for f in source_files]
    code = {"code_name": code_name, "code_version": code_version, "code_url": code_url}
    waived = _waived(_missing(parent_ids, files, code), allow_missing)
    provenance = {
        "writer": spec, "source_files": [_describe_file(f) for f in files],
        "code": {"name": code_name, "version": code_version, "url": code_url}, "waived": waived,
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="provkit-derived-") as tmp:
        target = os.path.join(tmp, os.path.basename(relpath.rstrip("/")) + handler.suffix)
        if handler.data_org == "directory":
            os.makedirs(target)
        handler.writer(data, target)
        if not os.path.exists(target):
            raise RegistryError(f"writer {spec!r} wrote nothing at the path it was given ({target})")
        return registry.register_dataset(
            relpath, version, old_location=target, parents=parent_ids, spec=spec, provenance=provenance,
            **dataset_options,
        )  # fmt: skip


def load_derived(registry: Registry, dataset: str | Dataset) -> Any:
    """Read a dataset back with the reader of the pair that wrote it."""
    ds = dataset if not isinstance(dataset, str) else registry.get_dataset(dataset)
    if not ds.spec:
        raise RegistryError(f"dataset {ds.id} was not written through a handler (no spec): use its files")
    return get_handler(ds.spec).reader(registry.local_path(ds))


def _describe_file(path: str) -> dict[str, Any]:
    """A source file's absolute path, plus its size and content hash when readable."""
    from provkit.core.files import file_value_id

    full = os.path.abspath(path)
    if not os.path.isfile(full):
        return {"path": full}
    return {"path": full, "size": os.path.getsize(full), "hash": file_value_id(full)}
