"""Argument handling for tracked calls: binding, JSON summaries, stored form.

``bind`` maps a call onto ``{'kargs': {...}, 'varargs': (...)}`` (fast for plain
signatures). ``summarize`` turns inputs into small JSON for the metadata row: scalars
as they are, big or opaque values as ``{hash, type, shape...}`` so a 100 MB array costs
a few hundred bytes. ``storable`` replaces proxies with references for the inputs blob.
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import Callable
from typing import Any

from provkit.core.artifacts import ArtifactRef
from provkit.core.hashing import hash as hash_value
from provkit.core.hashing import is_proxy

_P = inspect.Parameter
_MAX_ITEMS = 64
_MAX_STR = 1024


class Binder:
    """Binds call arguments to parameter names the way Python would, but faster."""

    def __init__(self, fn: Callable) -> None:
        self.signature = inspect.signature(fn)
        params = list(self.signature.parameters.values())
        self.names = [p.name for p in params]
        self.simple = all(p.kind is _P.POSITIONAL_OR_KEYWORD for p in params)
        self.defaults = {p.name: p.default for p in params if p.default is not _P.empty}

    def bind(self, args: tuple, kwargs: dict) -> tuple[dict, tuple]:
        """(kargs, varargs); raises TypeError exactly where a call would."""
        if self.simple and len(args) <= len(self.names):
            kargs = dict(zip(self.names, args))
            if kwargs:
                for key in kwargs:
                    if key in kargs or key not in self.names:
                        return self._slow(args, kwargs)
                kargs.update(kwargs)
            if len(kargs) < len(self.names):
                for key in self.names:
                    if key not in kargs:
                        if key not in self.defaults:
                            return self._slow(args, kwargs)
                        kargs[key] = self.defaults[key]
            return kargs, ()
        return self._slow(args, kwargs)

    def _slow(self, args: tuple, kwargs: dict) -> tuple[dict, tuple]:
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        kargs: dict[str, Any] = {}
        varargs: tuple = ()
        for name, value in bound.arguments.items():
            kind = self.signature.parameters[name].kind
            if kind is _P.VAR_POSITIONAL:
                varargs = tuple(value)
            elif kind is _P.VAR_KEYWORD:
                kargs.update(value)
            else:
                kargs[name] = value
        return kargs, varargs

    def call(self, fn: Callable, kargs: dict, varargs: tuple) -> Any:
        """Call ``fn`` with bound inputs (after merge_defaults may have changed them)."""
        if self.simple:
            return fn(**kargs)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        params = self.signature.parameters
        for name, value in kargs.items():
            param = params.get(name)
            if (param is not None and param.kind is _P.POSITIONAL_ONLY) or (
                param is not None and param.kind is _P.POSITIONAL_OR_KEYWORD and varargs
            ):
                args.append(value)
            else:
                kwargs[name] = value
        return fn(*args, *varargs, **kwargs)


def summarize(value: Any, depth: int = 0, known_hash: str | None = None) -> Any:
    """A small JSON-able description of an input value (``known_hash``: its hash, if computed)."""
    t = type(value)
    if value is None or t is bool or t is int:
        return value
    if t is float:
        return value if math.isfinite(value) else repr(value)
    if type(value) is str:
        return value if len(value) <= _MAX_STR else {"__str__": len(value), "hash": hash_value(value)}
    if is_proxy(value):
        a = value.artifact
        return {"id": a.id, "name": a.name, "value_id": a.value_id}
    if getattr(t, "_provkit_record", False) is True:  # a registry dataset / execution
        return {"id": value.id, "name": value.name, "kind": value.kind, "version": getattr(value, "version", None)}
    if type(value) in (list, tuple) and len(value) <= _MAX_ITEMS and depth < 4:
        return [summarize(v, depth + 1) for v in value]
    if type(value) is dict and len(value) <= _MAX_ITEMS and depth < 4 and all(type(k) is str for k in value):
        return {k: summarize(v, depth + 1) for k, v in value.items()}
    info: dict[str, Any] = {
        "__type__": f"{type(value).__module__}.{type(value).__qualname__}",
        "hash": hash_value(value),
    }
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        info["shape"] = list(shape)
    dtype = getattr(value, "dtype", None)
    if dtype is not None and not callable(dtype):
        info["dtype"] = str(dtype)
    elif hasattr(value, "__len__"):
        with contextlib.suppress(TypeError):
            info["len"] = len(value)
    return info


def summarize_inputs(kargs: dict, varargs: tuple, hashes: dict | None = None) -> dict:
    """JSON summary of all inputs; ``hashes`` (name -> hash) avoids hashing big values twice."""
    hashes = hashes or {}
    out = {k: summarize(v, 0, hashes.get(k)) for k, v in kargs.items()}
    out["__varargs"] = [summarize(v) for v in varargs]
    return out


def storable(value: Any) -> Any:
    """Inputs with proxies (inside builtin containers) replaced by ArtifactRefs."""
    t = type(value)
    if is_proxy(value):
        return ArtifactRef(value.artifact.id)
    if t is list:
        return [storable(v) for v in value]
    if t is tuple:
        return tuple(storable(v) for v in value)
    if t is dict:
        return {k: storable(v) for k, v in value.items()}
    return value
