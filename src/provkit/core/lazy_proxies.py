"""Lazy artifact proxies: what a pickled ``ArtifactProxy`` becomes when unpickled.

Unpickling reads the artifact's record; the value is loaded from the repository when the
proxy is first touched (wrapt calls ``__wrapped_get__`` on the first use of a proxy made
with ``None`` and a ``__wrapped_factory__``). Until then the proxy answers from what the
reference carried: its artifact, its shape (the special methods Python looks up on the
type: ``__call__``, ``__fspath__``, ``__next__``) and its value's class, by name, for
``isinstance``; Dask's "is this a collection?" probe gets no; ``repr`` says "(not loaded)".
"""

from __future__ import annotations

from typing import Any

import wrapt

from provkit.core.artifacts import _SHAPES, Artifact, ArtifactProxy, load_artifact, use_unpickler

__all__ = ["lazy_proxy", "proxy_is_loaded", "unpickle_proxy"]

_UNLOADED: Any = object()


class _Lazy:
    """Mixed into a proxy class: the value is loaded on first use."""

    def __init__(self, artifact: Artifact, shape: str | None, kind: str | None) -> None:
        import threading

        self._self_artifact = artifact
        self._self_kind = (shape, kind)
        self._self_lock = threading.Lock()
        self._self_value = _UNLOADED
        wrapt.ObjectProxy.__init__(self, None)  # nothing loaded yet

    def __wrapped_factory__(self) -> Any:
        return self._self_artifact._require_repo().proxy_value(self._self_artifact)

    def __wrapped_get__(self) -> Any:
        with self._self_lock:
            if self._self_value is _UNLOADED:
                value = self.__wrapped_factory__()
                self.__wrapped__ = self._self_value = value
            return self._self_value

    def _provkit_kind(self) -> tuple[str | None, str | None]:
        return self._self_kind if self._self_value is _UNLOADED else ArtifactProxy._provkit_kind(self)

    def __repr__(self) -> str:
        if self._self_value is _UNLOADED:
            return f"<provkit.ArtifactProxy({self._self_artifact.id}) (not loaded) >"
        return ArtifactProxy.__repr__(self)

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        """The value's class, without loading the value when that class can be imported
        (``isinstance(proxy, SomeClass)`` is asked of every Dask task argument)."""
        if self._self_value is _UNLOADED:
            found = _importable_class(self._self_kind[1])
            if found is not None:
                return found
        return self.__wrapped__.__class__

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_self_") or (name.startswith("__dask_") and self._self_value is _UNLOADED):
            raise AttributeError(name)  # Dask asks every argument whether it is a collection
        return getattr(self.__wrapped__, name)


_LAZY: dict[str | None, type] = {
    shape: type(f"_Lazy{cls.__name__.lstrip('_')}", (_Lazy, cls), {"__slots__": ()}) for shape, cls in _SHAPES.items()
}


def _importable_class(kind: str | None) -> type | None:
    """The class named ``"module:qualname"`` if importing it finds exactly that, else None
    (``__main__`` and local classes are never trusted: another process's differ)."""
    if not kind:
        return None
    module_name, _, qualname = kind.partition(":")
    if module_name == "__main__" or "<" in qualname:
        return None
    import importlib

    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found if isinstance(found, type) else None


def lazy_proxy(artifact: Artifact, shape: str | None = None, kind: str | None = None) -> ArtifactProxy:
    """A proxy of ``artifact`` whose value is loaded when first touched. ``shape`` names the
    special methods it needs before that (``"callable"``, ``"path"``, ``"iterator"`` or
    None); ``kind`` (``"module:qualname"``) the value's class, answered by ``__class__``
    without loading when it can be imported."""
    if shape not in _LAZY:
        raise ValueError(f"unknown proxy shape {shape!r}: expected one of {sorted(map(str, _SHAPES))}")
    proxy = wrapt.ObjectProxy.__new__(_LAZY[shape])
    _Lazy.__init__(proxy, artifact, shape, kind)
    return proxy


def proxy_is_loaded(proxy: ArtifactProxy) -> bool:
    """Whether ``proxy``'s value is in memory (False for a lazy proxy not touched yet)."""
    return not isinstance(proxy, _Lazy) or proxy._self_value is not _UNLOADED


def unpickle_proxy(artifact_id: str, repo_name: str | None, shape: str | None, kind: str | None) -> ArtifactProxy:
    """What a pickled proxy becomes: its artifact record now, its value when first touched."""
    return lazy_proxy(load_artifact(artifact_id, repo_name), shape, kind)


use_unpickler(unpickle_proxy)
