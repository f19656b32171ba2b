"""What features plug into repositories, so that storage never imports a feature.

The query language registers how a Mongo-style dict becomes a ``CompiledQuery``; the
dataset registry declares the id prefixes of its records; file artifacts ask for their
values to come back wrapped. Features keep their own tables through ``Repository.feature``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from provkit.core.errors import RepoError

if TYPE_CHECKING:
    from provkit.core.artifacts import Artifact
    from provkit.storage.repos.base import Repository

__all__ = [
    "CompiledQuery", "compiled", "is_feature_record", "load_checks", "register_feature_prefixes",
    "register_load_check", "register_value_wrapper", "use_query_compiler", "value_wrapper",
]  # fmt: skip


class CompiledQuery(Protocol):
    """An artifact query compiled by the query language (``provkit.services.search``)."""

    def matches(self, artifact: Artifact) -> bool:
        """Whether ``artifact`` is an answer (repositories that evaluate in Python)."""

    def sql_where(self, dialect: str) -> Any:
        """A SQLAlchemy condition on the artifacts table (SQL repositories)."""


_hooks: dict[str, Any] = {"compile_query": None, "prefixes": (), "wrappers": {}, "load_checks": ()}


def use_query_compiler(compile_query: Callable[[Any], CompiledQuery]) -> None:
    """Set how ``Repository.find`` turns a Mongo-style dict into a CompiledQuery."""
    _hooks["compile_query"] = compile_query


def compiled(query: Any) -> CompiledQuery:
    """``query`` compiled (a CompiledQuery passes through)."""
    if hasattr(query, "matches") and hasattr(query, "sql_where"):
        return query
    compile_query = _hooks["compile_query"]
    if compile_query is None:
        raise RepoError("no query compiler is registered: import provkit first")
    return compile_query(query)


def register_feature_prefixes(*prefixes: str) -> None:
    """Declare ids with these prefixes as a feature's records (not artifacts) in lineage."""
    _hooks["prefixes"] = tuple(dict.fromkeys((*_hooks["prefixes"], *prefixes)))


def is_feature_record(record_id: str) -> bool:
    """Whether ``record_id`` names a feature's record (e.g. a registry dataset)."""
    return record_id.startswith(_hooks["prefixes"])


def register_value_wrapper(kind: str, wrap: Callable[[Any, Repository, Artifact], Any]) -> None:
    """Have values of artifacts of ``kind`` come back as ``wrap(value, repo, artifact)``."""
    _hooks["wrappers"][kind] = wrap


def value_wrapper(kind: str) -> Callable[[Any, Repository, Artifact], Any] | None:
    """How values of artifacts of ``kind`` are wrapped (None: returned as they are)."""
    return _hooks["wrappers"].get(kind)


def register_load_check(check: Callable[[Repository, Artifact], None]) -> None:
    """Have ``check(repo, artifact)`` run before a value is loaded (it may warn or raise)."""
    _hooks["load_checks"] = (*_hooks["load_checks"], check)


def load_checks() -> tuple:
    """The checks registered with ``register_load_check``."""
    return _hooks["load_checks"]
