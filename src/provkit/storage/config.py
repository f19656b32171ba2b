"""Configuration: dicts / YAML in the ``provenance`` format, turned into objects.

    blobstores:
      disk: {type: disk, cachedir: /data/artifacts, read: true, write: true, delete: true}
    artifact_repos:
      local: {type: sqlite, db: "sqlite:////data/provkit.db", store: disk}
    default_repo: local

Everything is checked when the config is loaded: unknown keys or types, missing keys
and unknown store names raise ConfigError naming the place (``artifact_repos.local.db``).
Nothing is read at import time.
"""

from __future__ import annotations

import copy
import inspect
import os
from collections.abc import Callable, Mapping
from typing import Any

from provkit.core.config_keys import check_types
from provkit.core.errors import ConfigError
from provkit.storage.blobstores import BlobStore, store_class
from provkit.storage.repos import Repository, default_location, repo_class

__all__ = ["Config", "from_config", "load_yaml", "embedded_config"]

_TOP_LEVEL = {"blobstores", "artifact_repos", "default_repo", "use_cache", "check_mutations", "read_only"}
_TOP_LEVEL |= {"single_flight", "single_flight_ttl", "single_flight_poll", "single_flight_timeout"}
_TOP_LEVEL |= {"single_flight_min_seconds"}
_STORE_FLAGS = {"read", "write", "delete", "read_through_write", "on_duplicate_key"}
_REPO_FLAGS = {"read", "write", "delete", "read_through_write", "inline_max_bytes", "verify", "sign_key_env"}


class Config(Mapping):
    """Blob stores and repositories built from one config dict, by name.

    Reads like the config dict it was built from (``config["default_repo"]``), as the
    provenance library's config object did; ``raw`` is that dict.
    """

    def __init__(
        self,
        raw: dict,
        blobstores: dict[str, BlobStore],
        repos: dict[str, Repository],
        default_repo: str | None,
    ) -> None:
        self.raw = raw
        self.blobstores = blobstores
        self.repos = repos
        self.default_repo = default_repo

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __iter__(self) -> Any:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def repo(self, name: str) -> Repository:
        try:
            return self.repos[name]
        except KeyError:
            known = ", ".join(sorted(self.repos)) or "none"
            raise ConfigError(f"no artifact repo named {name!r} (configured: {known})") from None

    def __repr__(self) -> str:
        return f"<provkit.Config repos={sorted(self.repos)} default={self.default_repo!r}>"


def _params(cls: type) -> tuple[set[str], set[str]]:
    """(all keyword names, required names) of a class constructor."""
    names, required = set(), set()
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        names.add(p.name)
        if p.default is p.empty:
            required.add(p.name)
    return names, required


def _check_keys(spec: Mapping, allowed: set[str], required: set[str], where: str) -> None:
    unknown = sorted(set(spec) - allowed - {"type"})
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(allowed))}", path=where
        )
    missing = sorted(required - set(spec))
    if missing:
        raise ConfigError(f"missing required key(s) {', '.join(map(repr, missing))}", path=where)


def _build_in_order(section: str, list_key: str, specs: Mapping, build: Callable[[str, Any, dict], Any]) -> dict:
    """Build every entry of a config section; a ``chained`` entry after those it lists."""
    built: dict[str, Any] = {}
    pending = dict(specs)
    while pending:
        progress = False
        for name, spec in list(pending.items()):
            chained = isinstance(spec, Mapping) and spec.get("type") == "chained"
            wanted = spec.get(list_key, []) if chained else []
            if not isinstance(wanted, list):
                raise ConfigError(f"'{list_key}' must be a list of names", path=f"{section}.{name}")
            unknown = [w for w in wanted if w not in specs]
            if unknown:
                raise ConfigError(f"{list_key} {unknown} are not configured in '{section}'", path=f"{section}.{name}")
            if all(w in built for w in wanted):
                built[name] = build(name, spec, built)
                del pending[name]
                progress = True
        if not progress:
            raise ConfigError(f"chained entries of '{section}' refer to each other in a cycle: {sorted(pending)}")
    return built


def _options(where: str, spec: Any, load: Callable[[str], type], flags: set[str], list_key: str,
             built: dict) -> tuple[type, dict]:  # fmt: skip
    """The class for a spec's ``type`` and its checked keyword options (chained lists resolved)."""
    if not isinstance(spec, Mapping) or "type" not in spec:
        raise ConfigError("each entry needs a mapping with a 'type'", path=where)
    cls = load(spec["type"])
    names, required = _params(cls)
    _check_keys(spec, names | flags, required, where)
    check_types(spec, where)
    options = {k: v for k, v in spec.items() if k != "type"}
    if spec["type"] == "chained":
        options[list_key] = [built[n] for n in options[list_key]]
    return cls, options


def _build_store(name: str, spec: Any, built: dict[str, BlobStore]) -> BlobStore:
    where = f"blobstores.{name}"
    cls, options = _options(where, spec, store_class, _STORE_FLAGS, "stores", built)
    try:
        return cls(**options)
    except ConfigError as exc:
        raise ConfigError(str(exc), path=where) from exc


def _build_repo(name: str, spec: Any, stores: dict[str, BlobStore], built: dict[str, Repository]) -> Repository:
    where = f"artifact_repos.{name}"
    cls, options = _options(where, spec, repo_class, _REPO_FLAGS, "repos", built)
    has_store = "store" in options
    store_name = options.pop("store", None)
    if has_store and store_name is None:
        options["store"] = None  # explicitly no blob store: values live inline
    elif store_name is not None:
        if store_name not in stores:
            known = ", ".join(sorted(stores)) or "none"
            raise ConfigError(f"store {store_name!r} is not a configured blobstore (configured: {known})", path=where)
        options["store"] = stores[store_name]
    try:
        return cls(**options, name=name)
    except ConfigError as exc:
        raise ConfigError(str(exc), path=where) from exc


def from_config(config: Mapping) -> Config:
    """Build (and validate) the stores and repos of a config dict, without installing it."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"a config must be a mapping, got {type(config).__name__}")
    raw = copy.deepcopy(dict(config))
    unknown = sorted(set(raw) - _TOP_LEVEL)
    if unknown:
        raise ConfigError(
            f"unknown top-level key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(_TOP_LEVEL))}"
        )
    check_types({k: v for k, v in raw.items() if k not in ("blobstores", "artifact_repos")}, None)
    store_specs = raw.get("blobstores") or {}
    repo_specs = raw.get("artifact_repos") or {}
    if not isinstance(store_specs, Mapping) or not isinstance(repo_specs, Mapping):
        raise ConfigError("'blobstores' and 'artifact_repos' must be mappings of name -> settings")
    stores = _build_in_order("blobstores", "stores", store_specs, _build_store)
    repos = _build_in_order(
        "artifact_repos", "repos", repo_specs, lambda name, spec, built: _build_repo(name, spec, stores, built)
    )
    default = raw.get("default_repo")
    if default is None and len(repos) == 1:
        default = next(iter(repos))
    if default is not None and default not in repos:
        known = ", ".join(sorted(repos)) or "none"
        raise ConfigError(f"default_repo {default!r} is not a configured artifact repo (configured: {known})")
    return Config(raw, stores, repos, default)


def load_yaml(filename: str | os.PathLike, origin: str | None = None) -> dict:
    """Read a YAML config file into a dict (validated later by from_config).

    ``origin`` names where the file name came from (e.g. ``PROVKIT_CONFIG``) in errors."""
    import yaml

    name = os.fspath(filename)
    where = f"{name} (from {origin})" if origin else name
    try:
        with open(name, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {where} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {where}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {where} is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a provkit config must be a YAML mapping")
    return data


def embedded_config(location: str | None = None) -> dict:
    """The zero-config default: SQLite + a disk blob store under ``location``."""
    root = location or default_location()
    return {
        "blobstores": {"local": {"type": "disk", "cachedir": os.path.join(root, "blobs"), "delete": True}},
        "artifact_repos": {
            "local": {
                "type": "sqlite",
                "db": "sqlite:///" + os.path.join(root, "provkit.db"),
                "store": "local",
                "delete": True,
            }
        },
        "default_repo": "local",
    }
