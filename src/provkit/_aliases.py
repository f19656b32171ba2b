"""Old module paths (``provkit.repos``, ``provkit.vis``, ...) kept working after the layering.

Each old path imports as the very module that now lives in a layer, so documented paths,
``provkit.cli:main`` entry points of older installs and pickles naming old classes all
keep working, and there is one module object per module.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

#: old path (below ``provkit.``) -> where it lives now
MOVED = {
    "errors": "core.errors", "hashing": "core.hashing", "serializers": "core.serializers",
    "artifacts": "core.artifacts", "runs": "core.runs", "capture": "core.capture", "jsonsafe": "core.jsonsafe",
    "masking": "core.masking", "lazy": "core.lazy", "integrity": "core.integrity", "file_cache": "core.file_cache",
    "files": "core.files", "source_check": "core.source_check", "_registry": "core.plugins",
    "config_keys": "core.config_keys", "upload_paths": "core.upload_paths",
    "blobstores": "storage.blobstores", "repos": "storage.repos", "repos.promote": "services.promote",
    "migrations": "storage.migrations", "config": "storage.config", "settings": "storage.settings",
    "batching": "storage.batching",
    "decorator": "services.decorator", "inputs": "services.inputs", "archiving": "services.archiving",
    "sets": "services.sets", "filesets": "services.filesets", "query": "services.query",
    "query_eval": "services.query_eval", "query_regex": "services.query_regex", "query_sql": "services.query_sql",
    "search": "services.search", "lineage": "services.lineage", "registry": "services.registry",
    "cli": "interfaces.cli", "vis": "interfaces.vis", "display": "interfaces.display",
    "single_flight": "services.single_flight", "dask": "interfaces.dask",
}  # fmt: skip


def current_name(fullname: str) -> str | None:
    """Where the module once named ``fullname`` lives now (None if it did not move)."""
    if not fullname.startswith("provkit."):
        return None
    old = fullname[len("provkit.") :]
    for n in range(old.count(".") + 1, 0, -1):
        head = ".".join(old.split(".")[:n])
        if head in MOVED:
            rest = old[len(head) :]
            return f"provkit.{MOVED[head]}{rest}"
    return None


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds old names and hands back the module at the new name."""

    def __init__(self) -> None:
        self._real_specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> object:
        new = current_name(fullname)
        return None if new is None else importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(current_name(spec.name))
        self._real_specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # the import machinery stamped the alias's spec on the module: give it back its own
        module.__spec__ = self._real_specs.pop(module.__name__, module.__spec__)


def install() -> None:
    """Put the alias finder first on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Alias())


install()
