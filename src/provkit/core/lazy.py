"""Dictionaries whose values are computed (or loaded) on first access."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from provkit.core.artifacts import Artifact, coerce_to_artifact

__all__ = ["LazyDict", "lazy_dict", "lazy_proxy_dict"]

_MISSING: Any = object()


class LazyDict(MutableMapping):
    """A mapping of thunks; each thunk runs once, when its key is read.

    It hashes (``p.hash``) like the plain dict of its values, before and after any
    value was read, and supports item assignment and ``del`` like the provenance
    library's ``lazy_dict``.
    """

    #: hashing treats it as the dict of its values (see hashing._canon)
    _provkit_mapping = True

    def __init__(self, thunks: Mapping[Any, Callable[[], Any]]) -> None:
        self._thunks = dict(thunks)
        self._values: dict[Any, Any] = {}

    def __getitem__(self, key: Any) -> Any:
        value = self._values.get(key, _MISSING)
        if value is _MISSING:
            value = self._values[key] = self._thunks[key]()
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        self._thunks[key] = lambda: value
        self._values[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._thunks[key]
        self._values.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._thunks

    def __iter__(self) -> Iterator[Any]:
        return iter(self._thunks)

    def __len__(self) -> int:
        return len(self._thunks)

    def __reduce__(self) -> tuple:
        return (LazyDict, (dict(self._thunks),))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k!r}: {self._values[k]!r}" if k in self._values else f"{k!r}: <lazy>" for k in self._thunks
        )
        return f"lazy_dict({{{shown}}})"


def lazy_dict(thunks: Mapping[Any, Callable[[], Any]]) -> LazyDict:
    """A dict whose values are zero-argument functions evaluated on first access."""
    return LazyDict(thunks)


def lazy_proxy_dict(
    artifacts_or_ids: Iterable[Any] | Mapping[Any, Any], group_artifacts_of_same_name: bool = False
) -> LazyDict:
    """Artifacts (or ids, or proxies) as proxies loaded on access.

    A mapping ``{key: artifact or id}`` gives a lazy dict with the same keys. Any other
    collection is keyed by artifact name: a name shared by several artifacts raises
    ValueError unless ``group_artifacts_of_same_name`` is True, in which case that name
    maps to a list of proxies (names held by one artifact still map to one proxy).
    """
    if isinstance(artifacts_or_ids, Mapping):
        chosen = {key: coerce_to_artifact(item) for key, item in artifacts_or_ids.items()}
        return LazyDict({key: artifact.proxy for key, artifact in chosen.items()})
    by_name: dict[str, list[Artifact]] = {}
    for item in artifacts_or_ids:
        artifact = coerce_to_artifact(item)
        by_name.setdefault(artifact.name, []).append(artifact)
    thunks: dict[str, Callable[[], Any]] = {}
    shared = {name: len(group) for name, group in by_name.items() if len(group) > 1}
    if shared and not group_artifacts_of_same_name:
        raise ValueError(
            f"artifacts share the name(s) {shared} (name: count); pass group_artifacts_of_same_name=True "
            "to get a list of proxies under each shared name"
        )
    for name, group in by_name.items():
        if len(group) > 1:
            thunks[name] = lambda group=group: [a.proxy() for a in group]
        else:
            thunks[name] = group[0].proxy
    return LazyDict(thunks)
