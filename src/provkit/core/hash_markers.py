"""Markers that stand for reduced values in the canonical stream ``hashing`` hashes.

Pickle names each marker by module and name, so those names are part of every key: the
markers say they live in ``provkit.hashing`` (their first home; ``hashing`` registers
itself under that name too), wherever the code moves.
"""

from __future__ import annotations

from typing import Any

#: The module name keys give the markers; never change it (it would change every key).
KEY_MODULE = "provkit.hashing"


def _buffer(kind: str, dtype: str, shape: tuple, digest: bytes) -> None: ...
def _objarray(dtype: str, shape: tuple, items: Any) -> None: ...
def _pandas(kind: str, *parts: Any) -> None: ...
def _code(payload: bytes) -> None: ...
def _hooked(key: str) -> None: ...
def _typeref(module: str, qualname: str) -> None: ...


for _marker in (_buffer, _objarray, _pandas, _code, _hooked, _typeref):
    _marker.__module__ = KEY_MODULE
