"""Production and working areas: a working registry that reads a production one.

A collaboration keeps its blessed datasets in a *production* area (its own repository,
or its own Postgres schema) and works in a *working* area. A working registry
registers, modifies and deletes only in its own area, but finds, reads and builds on
the production area's datasets too: an execution may take production datasets as
inputs, and lineage walks cross the two areas.

Two ways to link them, with the same result:

* ``Registry(working_repo, production=production_repo)`` in Python;
* a chained repository ``[working, production]`` whose production member has
  ``write: false`` (in a config file: ``type: chained``, ``repos: [working, production]``),
  used as the default repository, so the CLI (``provkit show/lineage/ls --datasets``)
  and ``p.lineage.ancestors(...)`` cross the areas as well.

Queries take ``query_mode``: ``both`` (the default), ``working`` or ``production``,
as the DESC data registry's do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from provkit.core.errors import RegistryError

if TYPE_CHECKING:
    from provkit.services.registry.records import Dataset, Execution
    from provkit.services.registry.registry import Registry
    from provkit.storage.repos.base import Repository

__all__ = ["QUERY_MODES", "linked_view", "AreaLinks"]

QUERY_MODES = ("both", "working", "production")


def linked_view(working: Repository, production: Any) -> Repository:
    """A read view over ``working`` then ``production`` (a repository, a configured repo
    name or a ``Registry``): lookups and lineage cross both; nothing is written through it."""
    from provkit.storage.repos.chained import ChainedRepo
    from provkit.storage.settings import get_repo_by_name

    if isinstance(production, str):
        production = get_repo_by_name(production)
    production = getattr(production, "lineage_repo", production)  # a Registry
    if production.feature_home() is working.feature_home():
        raise RegistryError("the production area must be another repository (or schema) than the working one")
    view = ChainedRepo([working, production], read_through_write=False)
    view.write = False
    return view


class AreaLinks:
    """What ``Registry`` does across areas: the working area first, then production."""

    repo: Repository
    lineage_repo: Repository
    owner: str
    owner_type: str

    def _production(self) -> list[Registry]:
        """A registry for each production area (made once, used only to read)."""
        found = self.__dict__.get("_production_registries")
        if found is None:
            make = type(self)  # the Registry class this is mixed into
            homes = self.lineage_repo.feature_homes()[1:]
            found = [make(home, owner=self.owner, owner_type=self.owner_type) for home in homes]  # type: ignore[call-arg]
            self.__dict__["_production_registries"] = found
        return found

    def _areas(self, query_mode: str) -> list[Registry]:
        if query_mode not in QUERY_MODES:
            raise RegistryError(f"query_mode must be one of {', '.join(QUERY_MODES)}, got {query_mode!r}")
        if query_mode == "production" and not self._production():
            raise RegistryError(f"{self!r} has no production area (see provkit.services.registry.areas)")
        own: list[Registry] = [self]  # type: ignore[list-item]
        return {"both": own + self._production(), "working": own, "production": self._production()}[query_mode]

    def _locate(self, dataset: str | Dataset) -> tuple[Registry, Dataset]:
        """(the registry whose area holds ``dataset``, the dataset): this one, or a
        production one; one look-up per area at most, none for a Dataset with one area."""
        from provkit.services.registry.tables import not_found

        areas = self._areas("both")
        if not isinstance(dataset, str):
            if len(areas) > 1:
                for registry in areas:
                    if registry.tables.fetch_dataset(dataset.id) is not None:
                        return registry, dataset
            return self, dataset  # type: ignore[return-value]
        for registry in areas:
            found = registry.tables.fetch_dataset(dataset)
            if found is not None:
                return registry, found
        raise not_found("dataset", dataset)

    def _lookup(self, kind: str, record_id: str) -> Dataset | Execution | None:
        for registry in self._areas("both"):
            tables = registry.tables
            found = tables.fetch_dataset(record_id) if kind == "dataset" else tables.fetch_execution(record_id)
            if found is not None:
                return found
        return None

    def _own_dataset(self, dataset_id: str, action: str) -> Dataset:
        """A dataset of this registry's own area (production ones are refused by name)."""
        from provkit.services.registry.tables import not_found

        found = self.tables.fetch_dataset(dataset_id)  # type: ignore[attr-defined]
        if found is not None:
            return found
        if self._lookup("dataset", dataset_id) is not None:
            raise RegistryError(
                f"cannot {action} dataset {dataset_id}: it belongs to the production area; "
                f"{action} it through a registry on that repository"
            )
        raise not_found("dataset", dataset_id)

    def _alias_area(self, name: str) -> Registry | None:
        """The area whose catalog has a current alias ``name`` (working first)."""
        for registry in self._areas("both"):
            if registry.catalog.current_alias(name) is not None:
                return registry
        return None
