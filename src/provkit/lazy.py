"""Dictionaries whose values are computed (or loaded) on first access."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

__all__ = ["LazyDict", "lazy_dict", "lazy_proxy_dict"]

_MISSING: Any = object()


class LazyDict(Mapping):
    """A read-only mapping of thunks; each thunk runs once, when its key is read."""

    def __init__(self, thunks: Mapping[Any, Callable[[], Any]]) -> None:
        self._thunks = dict(thunks)
        self._values: dict[Any, Any] = {}

    def __getitem__(self, key: Any) -> Any:
        value = self._values.get(key, _MISSING)
        if value is _MISSING:
            value = self._values[key] = self._thunks[key]()
        return value

    def __iter__(self) -> Iterator[Any]:
        return iter(self._thunks)

    def __len__(self) -> int:
        return len(self._thunks)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k!r}: {self._values[k]!r}" if k in self._values else f"{k!r}: <lazy>" for k in self._thunks
        )
        return f"lazy_dict({{{shown}}})"


def lazy_dict(thunks: Mapping[Any, Callable[[], Any]]) -> LazyDict:
    """A dict whose values are zero-argument functions evaluated on first access."""
    return LazyDict(thunks)


def lazy_proxy_dict(artifacts_or_ids: Iterable[Any], group_artifacts_of_same_name: bool = False) -> LazyDict:
    """Artifacts (or ids) keyed by artifact name, loaded into proxies on access.

    Two artifacts with the same name raise ValueError unless
    ``group_artifacts_of_same_name`` is True, in which case the value is a list.
    """
    from .artifacts import Artifact, load_artifact

    artifacts = [a if isinstance(a, Artifact) else load_artifact(a) for a in artifacts_or_ids]
    by_name: dict[str, list[Artifact]] = {}
    for artifact in artifacts:
        by_name.setdefault(artifact.name, []).append(artifact)
    thunks: dict[str, Callable[[], Any]] = {}
    for name, group in by_name.items():
        if len(group) > 1 and not group_artifacts_of_same_name:
            ids = ", ".join(a.id for a in group)
            raise ValueError(f"artifacts {ids} share the name {name!r}; pass group_artifacts_of_same_name=True")
        if group_artifacts_of_same_name:
            thunks[name] = lambda group=group: [a.proxy() for a in group]
        else:
            thunks[name] = group[0].proxy
    return LazyDict(thunks)
