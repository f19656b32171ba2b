"""``alias`` in dataset queries: the datasets a current alias leads to (chains followed).

Aliases live in their own table and may name other aliases, so a query's ``alias``
conditions are answered first, over the (small) alias catalog, and become ``id``
conditions that every backend runs the same way. ``alias`` behaves as an array field
(a dataset may have several aliases): ``{"alias": "latest"}`` matches a dataset that
"latest" leads to, ``{"alias": {"$ne": "latest"}}`` one it does not,
``{"alias": {"$exists": true}}`` one that has any alias.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from provkit.services.query import Fields, matcher

if TYPE_CHECKING:
    from provkit.services.registry.registry import Registry

__all__ = ["expand_aliases", "alias_names"]

_ALIAS_KEYS = ("alias", "aliases")
_LOGIC = ("$and", "$or", "$nor")
_FIELDS = Fields(arrays={"aliases": lambda condition: None}, aliases={"alias": "aliases"})
_NONE = Fields(columns={"aliases": None}, aliases={"alias": "aliases"})  # a dataset with no alias


def alias_names(areas: list[Registry]) -> dict[str, list[str]]:
    """``{dataset id: [current alias names leading to it]}`` over registry areas (an
    alias chain that leads nowhere names no dataset)."""
    from provkit.core.errors import RegistryError

    out: dict[str, list[str]] = {}
    for registry in areas:
        for alias in registry.catalog.aliases():
            if alias.superseded_by is not None:
                continue
            try:
                target = registry._chain(alias)[-1].dataset_id
            except RegistryError:
                continue
            if target is not None:
                out.setdefault(target, []).append(alias.alias)
    return out


def expand_aliases(query: Any, areas: list[Registry]) -> Any:
    """``query`` with each ``alias`` condition replaced by the ids it selects (the
    catalogs of ``areas`` are read only when the query names ``alias``)."""
    names: dict[str, list[str]] | None = None

    def lookup() -> dict[str, list[str]]:
        nonlocal names
        if names is None:
            names = alias_names(areas)
        return names

    return _expand(query, lookup)


def _expand(query: Any, names: Callable[[], dict[str, list[str]]]) -> Any:
    if not isinstance(query, dict) or not any(k in _ALIAS_KEYS or k in _LOGIC for k in query):
        return query
    rest: dict[str, Any] = {}
    replaced: list[dict] = []
    for key, value in query.items():
        if key in _LOGIC and isinstance(value, (list, tuple)):
            rest[key] = [_expand(sub, names) for sub in value]
        elif key in _ALIAS_KEYS:
            replaced.append(_ids_for(value, names()))
        else:
            rest[key] = value
    if not replaced:
        return rest
    return {"$and": ([rest] if rest else []) + replaced}


def _ids_for(condition: Any, names: dict[str, list[str]]) -> dict:
    """An ``id`` condition selecting the datasets whose aliases satisfy ``condition``."""
    test = matcher({"aliases": condition}, _FIELDS)  # a malformed condition fails here
    if matcher({"aliases": condition}, _NONE)({}):  # true of datasets with no alias: exclude the misses
        return {"id": {"$nin": sorted(d for d, n in names.items() if not test({"aliases": n}))}}
    return {"id": {"$in": sorted(d for d, n in names.items() if test({"aliases": n}))}}
