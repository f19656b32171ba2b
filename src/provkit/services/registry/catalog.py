"""The registry's catalog: the keyword vocabulary and dataset aliases, in memory or SQL.

Like the dataset tables, the catalog is a repository feature (``catalog_for(repo)``): the
memory repository keeps dicts, SQL repositories the ``registry_keywords`` and
``dataset_aliases`` tables (``sql_schema.py``, created by migration 0009).
"""

from __future__ import annotations

import copy
import threading
from abc import ABC, abstractmethod
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from provkit.core.errors import RegistryError
from provkit.services.registry.records import Alias

if TYPE_CHECKING:
    from provkit.storage.repos.base import Repository

__all__ = ["CatalogTables", "MemoryCatalog", "catalog_for"]

_ALIAS_FIELDS = [f.name for f in dataclass_fields(Alias)]


class CatalogTables(ABC):
    """Keywords users added, and aliases (current and superseded)."""

    @abstractmethod
    def keywords(self) -> dict[str, bool]:
        """Stored keywords -> whether each is a system keyword."""

    @abstractmethod
    def add_keyword(self, keyword: str, *, system: bool, creator: str | None, at: datetime) -> bool:
        """Store a keyword; False when it is there already."""

    @abstractmethod
    def insert_alias(self, alias: Alias) -> Alias:
        """Store ``alias`` as the current holder of its name, superseding the previous one."""

    @abstractmethod
    def fetch_alias(self, alias_id: str) -> Alias | None: ...

    @abstractmethod
    def current_alias(self, name: str) -> Alias | None:
        """The alias that holds ``name`` now (None: no such alias)."""

    @abstractmethod
    def aliases(self, name: str | None = None) -> list[Alias]:
        """Every alias row (of ``name``), superseded ones included, oldest first."""


class MemoryCatalog(CatalogTables):
    def __init__(self) -> None:
        self._keywords: dict[str, bool] = {}
        self._aliases: dict[str, Alias] = {}
        self._current: dict[str, str] = {}
        self._lock = threading.Lock()

    def keywords(self) -> dict[str, bool]:
        return dict(self._keywords)

    def add_keyword(self, keyword: str, *, system: bool, creator: str | None, at: datetime) -> bool:
        with self._lock:
            if keyword in self._keywords:
                return False
            self._keywords[keyword] = system
            return True

    def insert_alias(self, alias: Alias) -> Alias:
        with self._lock:
            previous = self._current.get(alias.alias)
            if previous is not None:
                self._aliases[previous] = replace(self._aliases[previous], superseded_by=alias.id)
            self._aliases[alias.id] = copy.copy(alias)
            self._current[alias.alias] = alias.id
            return copy.copy(alias)

    def fetch_alias(self, alias_id: str) -> Alias | None:
        found = self._aliases.get(alias_id)
        return copy.copy(found) if found is not None else None

    def current_alias(self, name: str) -> Alias | None:
        alias_id = self._current.get(name)
        return self.fetch_alias(alias_id) if alias_id is not None else None

    def aliases(self, name: str | None = None) -> list[Alias]:
        found = [a for a in self._aliases.values() if name is None or a.alias == name]
        return [copy.copy(a) for a in sorted(found, key=lambda a: (a.created_at, a.id))]


class SqlCatalog(CatalogTables):
    def __init__(self, engine: Any) -> None:
        import sqlalchemy as sa

        from provkit.services.registry import sql_schema

        self._sa, self._engine = sa, engine
        self._kw, self._al = sql_schema.registry_keywords, sql_schema.dataset_aliases

    def keywords(self) -> dict[str, bool]:
        with self._engine.connect() as conn:
            return {k: bool(s) for k, s in conn.execute(self._sa.select(self._kw.c.keyword, self._kw.c.system))}

    def add_keyword(self, keyword: str, *, system: bool, creator: str | None, at: datetime) -> bool:
        sa = self._sa
        try:
            with self._engine.begin() as conn:
                row = {"keyword": keyword, "system": system, "creator": creator, "created_at": at}
                conn.execute(sa.insert(self._kw), row)
        except sa.exc.IntegrityError:
            return False
        return True

    def insert_alias(self, alias: Alias) -> Alias:
        sa, t = self._sa, self._al
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    sa.update(t).where(t.c.live_alias == alias.alias).values(live_alias=None, superseded_by=alias.id)
                )
                conn.execute(sa.insert(t), {**alias.to_dict(), "live_alias": alias.alias})
        except sa.exc.IntegrityError as exc:  # another process set the same name at this very moment
            raise RegistryError(f"alias {alias.alias!r} was set by someone else at the same time; try again") from exc
        return alias

    def _select(self, *where: Any) -> list[Alias]:
        t = self._al
        stmt = self._sa.select(*(t.c[name] for name in _ALIAS_FIELDS)).where(*where).order_by(t.c.created_at, t.c.id)
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).all()
        from provkit.storage.repos.sql.rows import utc

        return [Alias(**{**row._mapping, "created_at": utc(row.created_at)}) for row in rows]

    def fetch_alias(self, alias_id: str) -> Alias | None:
        found = self._select(self._al.c.id == alias_id)
        return found[0] if found else None

    def current_alias(self, name: str) -> Alias | None:
        found = self._select(self._al.c.live_alias == name)
        return found[0] if found else None

    def aliases(self, name: str | None = None) -> list[Alias]:
        return self._select(*(() if name is None else (self._al.c.alias == name,)))


def catalog_for(repo: Repository) -> CatalogTables:
    """The registry catalog in ``repo`` (in its feature home), made on first use."""
    return repo.feature("registry.catalog", _make_catalog)


def _make_catalog(home: Repository) -> CatalogTables:
    if home.backend == "memory":
        return MemoryCatalog()
    if home.backend == "sql":
        return SqlCatalog(home.engine)
    raise RegistryError(f"{home!r} cannot hold a dataset registry")
