"""Repositories, found by config type name through a lazy registry."""

from __future__ import annotations

import importlib

from ..errors import ConfigError
from .base import Repository, default_location

__all__ = ["Repository", "REPO_TYPES", "repo_class", "default_location"]

#: type name -> "module:Class"; None marks a documented type not built yet.
REPO_TYPES: dict[str, str | None] = {
    "memory": "provkit.repos.memory:MemoryRepo",
    "sqlite": "provkit.repos.sql.repo:SqlRepo",
    "postgres": "provkit.repos.sql.postgres:PostgresRepo",
    "chained": "provkit.repos.chained:ChainedRepo",
}


def repo_class(type_name: str) -> type[Repository]:
    """The Repository class for a config ``type``; a clear error for unknown types."""
    try:
        target = REPO_TYPES[type_name]
    except KeyError:
        known = ", ".join(sorted(REPO_TYPES))
        raise ConfigError(f"unknown artifact repo type {type_name!r} (known: {known})") from None
    if target is None:
        raise ConfigError(f"artifact repo type {type_name!r} is reserved but not available in this version of provkit")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)
