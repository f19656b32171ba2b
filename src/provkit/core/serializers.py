"""Serializers: named (writer, reader) pairs, chosen by name or by the value's type.

A serializer writes a value to a file path and reads it back; ``dump_kwargs`` and
``load_kwargs`` are passed through and stored with the artifact so a value is always
read the way it was written. ``dumps``/``loads`` work on bytes, for values small
enough to live inline in the metadata row.

Built in: ``joblib`` (the default; numpy-aware), ``cloudpickle`` (lambdas, closures),
``npy`` (plain .npy files; chosen automatically for numeric numpy arrays: written at
disk speed, memory-mappable with ``load_kwargs={'mmap_mode': 'r'}``),
``pd_df_parquet`` / ``pd_series_parquet`` (pandas via pyarrow, exact round-trip, index
included; chosen automatically for DataFrame / Series) and ``json``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from provkit.core.errors import SerializationError, UnknownSerializerError

__all__ = ["Serializer", "register_serializer", "get_serializer", "serializer_for", "serializers"]

DumpFn = Callable[..., None]
LoadFn = Callable[..., Any]


@dataclass(frozen=True)
class Serializer:
    """A named writer/reader pair. ``dump(value, path, **kw)``, ``load(path, **kw)``."""

    name: str
    dump: DumpFn
    load: LoadFn
    content_type: str | None = None
    classes: tuple[type, ...] = ()
    dumps: Callable[..., bytes] | None = field(default=None, compare=False)
    loads: Callable[..., Any] | None = field(default=None, compare=False)
    #: True when a read gives back a value with the same hash, so loads can be verified
    exact: bool = False

    def to_bytes(self, value: Any, **kwargs: Any) -> bytes:
        """Serialize to bytes (through a temporary file when no in-memory writer exists)."""
        if self.dumps is not None:
            return self.dumps(value, **kwargs)
        buf = io.BytesIO()
        self.dump(value, buf, **kwargs)
        return buf.getvalue()

    def from_bytes(self, data: bytes, **kwargs: Any) -> Any:
        if self.loads is not None:
            return self.loads(data, **kwargs)
        return self.load(io.BytesIO(data), **kwargs)


_REGISTRY: dict[str, Serializer] = {}
_BY_CLASS: list[tuple[type, str]] = []


def register_serializer(
    name: str,
    dump: DumpFn,
    load: LoadFn,
    content_type: str | None = None,
    content_encoding: str | None = None,
    content_disposition: str | None = None,
    classes: list[type] | tuple[type, ...] | None = None,
    *,
    dumps: Callable[..., bytes] | None = None,
    loads: Callable[..., Any] | None = None,
    exact: bool = False,
    file_objects: bool = False,
) -> Serializer:
    """Register a serializer; with ``classes`` it becomes the default for those types.

    The arguments before ``*`` are those of the provenance library, in its order.
    ``dump(obj, filename, **dump_kwargs)`` and ``load(filename, **load_kwargs)`` get a
    real file path, also for values small enough to live inline in the metadata row
    (written to / read from a temporary file). provkit-only options: ``file_objects=True``
    says dump/load also accept an open binary file (no temporary file needed);
    ``dumps``/``loads`` work on bytes directly; ``exact=True`` promises that reading
    gives back a value that hashes like the one written, so every read is checked
    against its value id. Registering a name again replaces it.
    """
    if not isinstance(name, str) or not name:
        raise SerializationError("a serializer needs a non-empty string name")
    if not callable(dump) or not callable(load):
        raise SerializationError(f"serializer {name!r}: dump and load must be callable", serializer=name)
    if not file_objects:
        dump, load = _through_paths(dump, load)
    ser = Serializer(name, dump, load, content_type, tuple(classes or ()), dumps, loads, exact)
    _REGISTRY[name] = ser
    _BY_CLASS[:] = [(c, n) for c, n in _BY_CLASS if n != name]
    _BY_CLASS.extend((cls, name) for cls in ser.classes)
    return ser


def _through_paths(dump: DumpFn, load: LoadFn) -> tuple[DumpFn, LoadFn]:
    """Wrap a path-only writer/reader so it also serves in-memory buffers and streams."""

    def dump_to(value: Any, dest: Any, **kwargs: Any) -> None:
        if isinstance(dest, (str, os.PathLike)):
            dump(value, os.fspath(dest), **kwargs)
            return
        with _temporary_path() as path:
            dump(value, path, **kwargs)
            with open(path, "rb") as fh:
                shutil.copyfileobj(fh, dest)

    def load_from(source: Any, **kwargs: Any) -> Any:
        if isinstance(source, (str, os.PathLike)):
            return load(os.fspath(source), **kwargs)
        with _temporary_path() as path:
            with open(path, "wb") as out:
                shutil.copyfileobj(source, out)
            return load(path, **kwargs)

    return dump_to, load_from


class _temporary_path:
    """A fresh file path in the temporary folder, removed on exit."""

    def __enter__(self) -> str:
        fd, self.path = tempfile.mkstemp(prefix="provkit-ser-")
        os.close(fd)
        return self.path

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)


def get_serializer(name: str) -> Serializer:
    """The serializer registered under ``name``; a clear error lists the known ones."""
    found = _REGISTRY.get(name)
    if found is not None:  # registered already (builtins never replace a registration)
        return found
    _ensure_builtins()
    if name.startswith("pd_"):
        _ensure_pandas()
    elif name == "npy":
        _ensure_numpy()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownSerializerError(f"unknown serializer {name!r} (known: {known})", serializer=name) from None


def serializers() -> dict[str, Serializer]:
    """All registered serializers by name."""
    _ensure_builtins()
    return dict(_REGISTRY)


def serializer_for(value: Any) -> str:
    """Name of the serializer registered for the value's type, else ``'joblib'``."""
    _ensure_builtins()
    module = type(value).__module__
    if module.startswith("pandas"):
        _ensure_pandas()
    elif module == "numpy":
        _ensure_numpy()
    for cls, name in _BY_CLASS:
        if isinstance(value, cls):
            return name
    return "joblib"


# ---- built-ins ---------------------------------------------------------------------


def _joblib_dump(value: Any, path: Any, **kwargs: Any) -> None:
    import joblib

    joblib.dump(value, path, **kwargs)


def _joblib_load(path: Any, **kwargs: Any) -> Any:
    import joblib

    return joblib.load(path, **kwargs)


def _pickle_dumps(value: Any, **kwargs: Any) -> bytes:
    # Inline values are small: plain pickle (numpy arrays in-band) reads 10x faster than
    # joblib's wrapper format and needs no file.
    return pickle.dumps(value, protocol=5)


def _pickle_loads(data: bytes, **kwargs: Any) -> Any:
    return pickle.loads(data)


def _cloudpickle_dump(value: Any, path: Any, **kwargs: Any) -> None:
    import cloudpickle

    if isinstance(path, (str, os.PathLike)):
        with open(path, "wb") as fh:
            cloudpickle.dump(value, fh, **kwargs)
    else:
        cloudpickle.dump(value, path, **kwargs)


def _cloudpickle_dumps(value: Any, **kwargs: Any) -> bytes:
    import cloudpickle

    return cloudpickle.dumps(value, **kwargs)


def _pickle_load(path: Any, **kwargs: Any) -> Any:
    if isinstance(path, (str, os.PathLike)):
        with open(path, "rb") as fh:
            return pickle.load(fh, **kwargs)
    return pickle.load(path, **kwargs)


def _json_dump(value: Any, path: Any, **kwargs: Any) -> None:
    text = json.dumps(value, **kwargs).encode()
    if isinstance(path, (str, os.PathLike)):
        with open(path, "wb") as fh:
            fh.write(text)
    else:
        path.write(text)


def _json_load(path: Any, **kwargs: Any) -> Any:
    if isinstance(path, (str, os.PathLike)):
        with open(path, "rb") as fh:
            return json.loads(fh.read(), **kwargs)
    return json.loads(path.read(), **kwargs)


_SERIES_COLUMN = "__provkit_series__"


_FREQ_KEY = b"provkit.index_freq"


def _write_parquet(frame: Any, path: Any, extra: dict[bytes, bytes], **kwargs: Any) -> None:
    """Write with the index; keep what parquet drops (a DatetimeIndex's freq)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=True)
    meta = dict(table.schema.metadata or {})
    meta.update(extra)
    freq = getattr(frame.index, "freqstr", None)
    if freq:
        meta[_FREQ_KEY] = freq.encode()
    pq.write_table(table.replace_schema_metadata(meta), path, **kwargs)


def _read_parquet(path: Any, **kwargs: Any) -> tuple[Any, dict]:
    import pyarrow.parquet as pq

    table = pq.read_table(path, **kwargs)
    meta = table.schema.metadata or {}
    frame = table.to_pandas()
    freq = meta.get(_FREQ_KEY)
    if freq:
        frame.index = type(frame.index)(frame.index, freq=freq.decode())
    return frame, meta


def _df_dump(value: Any, path: Any, **kwargs: Any) -> None:
    if not all(isinstance(c, str) for c in value.columns) or not value.columns.is_unique:
        raise SerializationError("parquet needs unique string column names", serializer="pd_df_parquet")
    _write_parquet(value, path, {}, **kwargs)


def _df_load(path: Any, **kwargs: Any) -> Any:
    return _read_parquet(path, **kwargs)[0]


def _series_dump(value: Any, path: Any, **kwargs: Any) -> None:
    name = json.dumps({"name": value.name}).encode()  # TypeError for names JSON cannot hold
    _write_parquet(value.to_frame(name=_SERIES_COLUMN), path, {b"provkit.series_name": name}, **kwargs)


def _series_load(path: Any, **kwargs: Any) -> Any:
    frame, meta = _read_parquet(path, **kwargs)
    series = frame[_SERIES_COLUMN]
    raw = meta.get(b"provkit.series_name")
    series.name = json.loads(raw)["name"] if raw else None
    return series


def _npy_dump(value: Any, path: Any, **kwargs: Any) -> None:
    import numpy as np

    if value.dtype.hasobject:
        raise SerializationError("npy stores numeric arrays only; object arrays need joblib", serializer="npy")
    if isinstance(path, (str, os.PathLike)):  # np.save would append ".npy" to a path
        with open(path, "wb") as fh:
            np.save(fh, value, allow_pickle=False, **kwargs)
    else:
        np.save(path, value, allow_pickle=False, **kwargs)


def _npy_load(path: Any, **kwargs: Any) -> Any:
    import numpy as np

    if kwargs.get("mmap_mode") and not isinstance(path, (str, os.PathLike)):
        kwargs = {k: v for k, v in kwargs.items() if k != "mmap_mode"}  # a stream cannot be mapped: read it
    return np.load(path, allow_pickle=False, **kwargs)


_builtins_done = False
_pandas_done = False
_numpy_done = False


def _ensure_builtins() -> None:
    global _builtins_done
    if _builtins_done:
        return
    _builtins_done = True
    for name, ser in {
        "joblib": (_joblib_dump, _joblib_load, _pickle_dumps, _pickle_loads, True),
        "cloudpickle": (_cloudpickle_dump, _pickle_load, _cloudpickle_dumps, _pickle_loads, False),
        "json": (_json_dump, _json_load, None, None, False),
    }.items():
        if name not in _REGISTRY:
            dump, load, dumps, loads, exact = ser
            register_serializer(name, dump, load, dumps=dumps, loads=loads, exact=exact, file_objects=True)


def _ensure_numpy() -> None:
    """Register the ``npy`` serializer (plain .npy files) once numpy arrays show up."""
    global _numpy_done
    if _numpy_done:
        return
    _numpy_done = True
    import numpy as np

    if "npy" not in _REGISTRY:
        register_serializer(
            "npy", _npy_dump, _npy_load, "application/x-npy", classes=[np.ndarray], exact=True, file_objects=True
        )


def _ensure_pandas() -> None:
    """Register the parquet serializers once pandas values show up (keeps imports lazy)."""
    global _pandas_done
    if _pandas_done:
        return
    _pandas_done = True
    import pandas as pd

    if "pd_df_parquet" not in _REGISTRY:
        register_serializer(
            "pd_df_parquet", _df_dump, _df_load, "application/parquet", classes=[pd.DataFrame], exact=True,
            file_objects=True,
        )  # fmt: skip
    if "pd_series_parquet" not in _REGISTRY:
        register_serializer(
            "pd_series_parquet", _series_dump, _series_load, "application/parquet", classes=[pd.Series],
            exact=True, file_objects=True,
        )  # fmt: skip
