"""Canonical forms of numpy arrays and pandas objects for ``hashing``: buffers by digest,
dtypes with everything that tells them apart, columns by their logical values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import xxhash

from provkit.core.hash_markers import _buffer, _objarray, _pandas

__all__ = ["reduce_numpy", "reduce_pandas"]

_digest = xxhash.xxh3_128_digest


def _buffer_digest(arr: Any) -> bytes:
    """Digest of a numpy array's raw bytes; no copy when it is C-contiguous."""
    import numpy as np

    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    return _digest(arr.reshape(-1).view(np.uint8).data) if arr.size else _digest(b"")


def _dtype_key(dtype: Any) -> Any:
    """Everything that tells two dtypes apart: ``dtype.str`` for plain dtypes (kind,
    byte order, size, datetime unit); for structured and subarray dtypes also field
    names, titles, offsets, alignment and subarray shapes (``.str`` is just ``|V<n>``)."""
    if dtype.fields is None and dtype.subdtype is None:
        return dtype.str
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        return ("subarray", _dtype_key(base), shape)
    fields = []
    for name in dtype.names:
        spec = dtype.fields[name]
        fields.append((name, _dtype_key(spec[0]), spec[1], spec[2] if len(spec) > 2 else None))
    return ("struct", dtype.itemsize, dtype.isalignedstruct, tuple(fields))


def _array_kind(obj: Any, np: Any) -> str:
    """'ndarray' for arrays and memmaps (as the old library did); subclasses by name."""
    t = type(obj)
    if t is np.ndarray or t is np.memmap:
        return "ndarray"
    return f"{t.__module__}.{t.__qualname__}"


def reduce_numpy(obj: Any, canon: Callable[[Any, list], Any]) -> tuple | None:
    """A numpy array or scalar as a marker and its canonical parts (None: not numpy)."""
    import numpy as np

    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            return (_objarray, (_dtype_key(obj.dtype), obj.shape, canon(obj.tolist(), [])))
        return (_buffer, (_array_kind(obj, np), _dtype_key(obj.dtype), obj.shape, _buffer_digest(obj)))
    if isinstance(obj, np.generic) and not obj.dtype.hasobject:
        return (_buffer, ("scalar", _dtype_key(obj.dtype), (), _digest(obj.tobytes())))
    return None


def _column(values: Any) -> tuple:
    """A pandas column/index as (dtype name, canonical values).

    Datetimes, timedeltas and periods hash as their int64 ticks (tz objects differ
    between equal values), categoricals as (categories, codes); the rest as numpy.
    """
    import numpy as np

    dtype = str(values.dtype)
    asi8 = getattr(values, "asi8", None)
    if asi8 is not None:
        return (dtype, asi8)
    codes = getattr(values, "codes", None)
    if codes is not None and hasattr(values, "categories"):
        ordered = bool(values.ordered)
        return (dtype, ("categorical", ordered, _column(values.categories), np.asarray(codes)))
    arr = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)
    return (dtype, arr)


def reduce_pandas(obj: Any) -> tuple | None:
    """A pandas object as a marker and its canonical parts (None: not one we know)."""
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        cols = [_column(obj.iloc[:, i].array) for i in range(obj.shape[1])]
        return (_pandas, ("DataFrame", obj.index, obj.columns, cols))
    if isinstance(obj, pd.Series):
        return (_pandas, ("Series", obj.name, obj.index, _column(obj.array)))
    if isinstance(obj, pd.RangeIndex):
        return (_pandas, ("RangeIndex", obj.name, obj.start, obj.stop, obj.step))
    if isinstance(obj, pd.MultiIndex):
        codes = [c.tolist() for c in obj.codes]
        return (_pandas, ("MultiIndex", list(obj.names), list(obj.levels), codes))
    if isinstance(obj, pd.Index):
        return (_pandas, ("Index", type(obj).__name__, obj.name, _column(obj)))
    return None
