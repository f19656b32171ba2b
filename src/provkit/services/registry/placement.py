"""How the registry plugs into a repository: its tables are a repository *feature*.

The repository knows nothing of datasets: it hands the registry its engine (SQL) or
nothing (memory) through ``Repository.feature``, and lineage walks include registry
records because the registry declares their id prefixes.
"""

from __future__ import annotations

from provkit.core.errors import RegistryError
from provkit.services.registry.tables import MemoryRegistryTables, RegistryTables
from provkit.storage.repos.base import Repository
from provkit.storage.repos.extensions import register_feature_prefixes

__all__ = ["tables_for"]

register_feature_prefixes("ds_", "ex_")  # datasets and executions are lineage nodes too


def tables_for(repo: Repository) -> RegistryTables:
    """The registry's tables in ``repo`` (in its feature home), made on first use."""
    return repo.feature("registry", _make_tables)


def _make_tables(home: Repository) -> RegistryTables:
    if home.backend == "memory":
        return MemoryRegistryTables()
    if home.backend == "sql":
        from provkit.services.registry.sql_tables import SqlRegistryTables  # SQLAlchemy only when needed

        return SqlRegistryTables(home.engine)
    raise RegistryError(f"{home!r} cannot hold a dataset registry")
