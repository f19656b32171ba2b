"""Free-form metadata (file labels' ``infos``) turned into plain JSON before anything is stored.

Conversions, so a value comes back from every repository exactly as stored:

* ``datetime`` -> ISO-8601 string with its zone (a naive datetime is read as local time);
  ``date`` -> ``YYYY-MM-DD``; ``time`` -> ISO-8601 string
* numpy scalars -> Python ``int`` / ``float`` / ``bool`` / ``str``; numpy arrays -> lists
* ``pathlib`` paths (any ``os.PathLike``) -> strings
* tuples -> lists

Refused with a ``ValueError`` naming the key: NaN and infinities (JSON has neither), mapping
keys that are not strings, strings holding NUL characters or lone surrogates (no UTF-8
database can store them), and any other type (sets, bytes, objects).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["to_json", "check_text"]


def check_text(text: str, where: str) -> str:
    """``text`` if a UTF-8 database can store it; ValueError naming ``where`` otherwise."""
    if "\x00" in text:
        raise ValueError(f"{where} holds a NUL character, which cannot be stored: {text!r}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{where} is not valid Unicode (a lone surrogate, e.g. an undecodable name): {text!r}"
        ) from None
    return text


def to_json(value: Any, where: str) -> Any:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None); see the module doc."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return check_text(str(value), where)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value!r}: JSON cannot hold NaN or infinity")
        return float(value)
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.astimezone()
        return aware.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        if isinstance(path, bytes):
            raise ValueError(f"{where} is a bytes path: give it as a string")
        return check_text(path, where)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} has a key {key!r} ({type(key).__name__}): JSON object keys are strings")
            out[check_text(key, f"a key of {where}")] = to_json(item, f"{where}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [to_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    numpy_value = _from_numpy(value)
    if numpy_value is not _NOT_NUMPY:
        return to_json(numpy_value, where)
    raise ValueError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which JSON cannot hold; "
        "use str, int, float, bool, None, a list or a dict (datetimes, numpy scalars, paths and tuples are converted)"
    )


_NOT_NUMPY = object()


def _from_numpy(value: Any) -> Any:
    """A numpy scalar or array as Python data; ``_NOT_NUMPY`` for anything else."""
    module = type(value).__module__
    if not module.startswith("numpy"):
        return _NOT_NUMPY
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64):
            return _NOT_NUMPY  # no zone, no fixed resolution: ask for a datetime instead
        return value.item()
    return _NOT_NUMPY
