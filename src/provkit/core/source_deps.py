"""The functions a decorated function calls in the user's own code, found statically.

``callee_sources(fn)`` parses ``fn``'s source (``ast``), takes the names its body reads
(``helper``, ``helpers.clean``, ``Model``), resolves them through the function's globals
and closure, and keeps the functions and classes that live in the same code as ``fn``:

* in the same top-level package (``mypkg.a.f`` tracks ``mypkg.b.g``, not ``numpy.sum``);
* for a script (``__main__``) or a top-level module: modules whose file is in the same
  folder (the script and the helper modules beside it).

It recurses into what it keeps (their own globals), so a helper's helper counts too.
Limits (what static inspection cannot see): methods reached through an instance
(``self.step()``, ``obj.run()``) other than those in a referenced class's own source,
functions passed in as arguments or looked up by string (``getattr``, registries), module
constants and data files, code in other packages (their versions are in the run info),
and any function defined inside ``exec``. A class counts with its whole source, not its
base classes. The result is read once per decorated function and process.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import marshal
import os
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["callee_sources", "own_source"]


def own_source(obj: Any) -> str | None:
    """The source text of a function or class, None when it has none (REPL, exec)."""
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return None


def _module_file(name: str) -> str | None:
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    return os.path.dirname(os.path.abspath(path)) if path else None


class _Scope:
    """Which modules count as the user's code of one decorated function."""

    def __init__(self, module: str) -> None:
        self.module = module
        top = module.partition(".")[0]
        is_package = "." in module or hasattr(sys.modules.get(module), "__path__")
        self.top = top if is_package and module != "__main__" else None
        self.folder = None if self.top else _module_file(module)
        self._seen: dict[str, bool] = {}

    def __contains__(self, module: Any) -> bool:
        if not isinstance(module, str):
            return False
        known = self._seen.get(module)
        if known is None:
            if module == self.module:
                known = True
            elif self.top is not None:
                known = module.partition(".")[0] == self.top
            else:
                known = "." not in module and self.folder is not None and _module_file(module) == self.folder
            self._seen[module] = known
        return known


def _unwrap(obj: Any) -> Any:
    """The function behind a decorated function (a @provenance wrapper, functools.wraps);
    anything else as it is (no attribute of an arbitrary object is read)."""
    if not isinstance(obj, types.FunctionType):
        return obj
    tracked = obj.__dict__.get("_provkit")  # a @provenance wrapper: its function
    if tracked is not None and isinstance(getattr(tracked, "fn", None), types.FunctionType):
        obj = tracked.fn
    with contextlib.suppress(ValueError):  # a __wrapped__ cycle: keep the function
        obj = inspect.unwrap(obj)
    return obj


def _read_names(source: str | None, code: types.CodeType | None) -> Iterator[tuple[str, ...]]:
    """Dotted names read in the source (``a``, ``a.b.c``); from code objects without source."""
    if source is not None:
        try:
            tree = ast.parse(textwrap.dedent(source))
        except SyntaxError:
            tree = None
        if tree is not None:
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    yield (node.id,)
                elif isinstance(node, ast.Attribute):
                    parts = [node.attr]
                    base = node.value
                    while isinstance(base, ast.Attribute):
                        parts.append(base.attr)
                        base = base.value
                    if isinstance(base, ast.Name):
                        yield (base.id, *reversed(parts))
            return
    stack = [code] if code is not None else []
    while stack:  # no source: every name the code object (and nested ones) loads
        each = stack.pop()
        yield from ((n,) for n in each.co_names)
        stack.extend(c for c in each.co_consts if isinstance(c, types.CodeType))


def _namespace(obj: Any) -> dict:
    """Names visible to a function (globals, then closure cells) or a class (its module)."""
    if isinstance(obj, types.FunctionType):
        names = dict(obj.__globals__)
        for var, cell in zip(obj.__code__.co_freevars, obj.__closure__ or ()):
            try:
                names[var] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
        return names
    return dict(getattr(sys.modules.get(getattr(obj, "__module__", "")), "__dict__", {}))


def _resolve(path: tuple[str, ...], names: dict, scope: _Scope) -> Any:
    """The function or class a dotted name reaches (through in-scope modules only)."""
    if path[0] not in names:
        return None
    obj = names[path[0]]
    for attr in path[1:]:
        if isinstance(obj, types.ModuleType) and obj.__name__ in scope:
            obj = getattr(obj, attr, None)
        else:
            break
    obj = _unwrap(obj)
    if isinstance(obj, (types.FunctionType, type)) and getattr(obj, "__module__", None) in scope:
        return obj
    return None


def callee_sources(fn: Callable) -> list[tuple[str, str]]:
    """(qualified name, source) of the functions and classes ``fn`` reaches in its own code,
    sorted by name; ``fn`` itself is not included."""
    root = _unwrap(fn)
    scope = _Scope(getattr(root, "__module__", None) or "__main__")
    found: dict[str, str] = {}
    visited = {id(root)}
    stack = [(root, own_source(root))]
    while stack:
        obj, source = stack.pop()
        names = _namespace(obj)
        for path in _read_names(source, getattr(obj, "__code__", None)):
            target = _resolve(path, names, scope)
            if target is None or id(target) in visited:
                continue
            visited.add(id(target))
            text = own_source(target)
            key = f"{target.__module__}.{target.__qualname__}"
            if text is None and isinstance(target, types.FunctionType):
                found[key] = marshal.dumps(target.__code__).hex()
            else:
                found[key] = text or ""
            stack.append((target, text))
    return sorted(found.items())
