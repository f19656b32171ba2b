"""Lazy "type name -> module:Class" registries, as fsspec keeps them (nothing imported
until a type is used)."""

from __future__ import annotations

import importlib
from typing import Any

from provkit.core.errors import ConfigError


def load_class(table: dict[str, str | None], type_name: str, what: str) -> Any:
    """The class registered for ``type_name``; a clear error for unknown or reserved names."""
    try:
        target = table[type_name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(table))
        raise ConfigError(f"unknown {what} type {type_name!r} (known: {known})") from None
    if target is None:
        raise ConfigError(f"{what} type {type_name!r} is reserved but not available in this version of provkit")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)
