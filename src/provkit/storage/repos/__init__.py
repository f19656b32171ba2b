"""Repositories, found by config type name through a lazy registry."""

from __future__ import annotations

from provkit.core.plugins import load_class
from provkit.storage.repos.base import Repository, default_location

__all__ = ["Repository", "REPO_TYPES", "repo_class", "default_location"]

#: type name -> "module:Class"; None marks a documented type not built yet.
REPO_TYPES: dict[str, str | None] = {
    "memory": "provkit.storage.repos.memory:MemoryRepo",
    "sqlite": "provkit.storage.repos.sql.repo:SqlRepo",
    "postgres": "provkit.storage.repos.sql.postgres:PostgresRepo",
    "chained": "provkit.storage.repos.chained:ChainedRepo",
}


def repo_class(type_name: str) -> type[Repository]:
    """The Repository class for a config ``type``; a clear error for unknown types."""
    return load_class(REPO_TYPES, type_name, "artifact repo")
