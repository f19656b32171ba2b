"""Process-wide settings: the installed config, default repo and global switches."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from provkit.core import artifacts
from provkit.storage.config import Config, embedded_config, from_config, load_yaml
from provkit.storage.repos import Repository, default_location

__all__ = [
    "load_config", "load_yaml_config", "current_config", "get_config", "get_repo_by_name", "top_level_settings",
    "set_default_repo", "get_default_repo", "using_repo", "get_use_cache", "set_use_cache",
    "get_check_mutations", "set_check_mutations", "get_read_only", "set_read_only",
]  # fmt: skip

log = logging.getLogger("provkit")

_lock = threading.RLock()
_config: Config | None = None
_default_repo: Repository | None = None


class _Overrides(threading.local):
    stack: list | None = None  # per-thread stack of using_repo() overrides (a default: no raise inside getattr)


_local = _Overrides()
_flags = {"use_cache": True, "check_mutations": False, "read_only": False}


def load_config(config: Mapping) -> Config:
    """Validate and install ``config``; its default repo becomes the default."""
    global _config, _default_repo
    built = from_config(config)
    with _lock:
        _config = built
        _default_repo = built.repos[built.default_repo] if built.default_repo else None
        for flag in _flags:
            if flag in built.raw:
                _flags[flag] = built.raw[flag]
    return built


def load_yaml_config(filename: str) -> Config:
    """Load a YAML config file (same format as load_config)."""
    return load_config(load_yaml(filename))


def get_config() -> Config:
    """The installed config, found in this order on first use:

    1. one installed explicitly (``load_config`` / ``load_yaml_config``);
    2. the YAML file named by ``$PROVKIT_CONFIG`` (a missing file is a ConfigError);
    3. the embedded default (SQLite + disk) under ``$PROVKIT_HOME``.

    A repository installed with ``set_default_repo`` before that stays the default.
    """
    global _default_repo
    with _lock:
        if _config is None:
            chosen = _default_repo
            env_file = os.environ.get("PROVKIT_CONFIG")
            if env_file:
                load_config(load_yaml(env_file, origin="PROVKIT_CONFIG"))
                log.info("provkit: using the config in $PROVKIT_CONFIG (%s)", env_file)
            else:
                location = default_location()
                load_config(embedded_config(location))
                log.info("provkit: no config loaded, using the embedded repository at %s", location)
            if chosen is not None:  # set_default_repo(repo) came first: it still wins
                _default_repo = chosen
        assert _config is not None
        return _config


def top_level_settings() -> Mapping[str, Any]:
    """The installed config's top-level keys, for feature settings read on a call path.

    With no config loaded and no ``$PROVKIT_CONFIG`` this is empty (the embedded config
    sets none) and builds nothing: code that uses a repository of its own
    (``using_repo``, ``@provenance(repo=...)``) never opens the embedded default."""
    with _lock:
        if _config is not None:
            return _config.raw
    if os.environ.get("PROVKIT_CONFIG"):
        return get_config().raw
    return {}


def current_config() -> Config:
    """The installed config: the very object ``load_config`` returned (it reads like the
    config dict; ``.raw`` is the dict itself)."""
    return get_config()


def get_repo_by_name(repo_name: str) -> Repository:
    return get_config().repo(repo_name)


def set_default_repo(repo_or_name: Repository | str) -> None:
    global _default_repo
    repo = get_repo_by_name(repo_or_name) if isinstance(repo_or_name, str) else repo_or_name
    if not isinstance(repo, Repository):
        raise TypeError(f"set_default_repo needs a Repository or a repo name, got {type(repo).__name__}")
    with _lock:
        _default_repo = repo


def get_default_repo() -> Repository:
    """The repository used when none is named (using_repo() overrides win)."""
    stack = getattr(_local, "stack", None)
    if stack:
        return stack[-1]
    repo = _default_repo
    if repo is not None:
        return repo
    config = get_config()
    with _lock:
        if _default_repo is None:
            from provkit.core.errors import ConfigError

            raise ConfigError(f"the config has no default_repo; set one of {sorted(config.repos)}")
        return _default_repo


@contextlib.contextmanager
def using_repo(repo_or_name: Repository | str) -> Iterator[Repository]:
    """Make a repo the default inside a ``with`` block (this thread only)."""
    repo = get_repo_by_name(repo_or_name) if isinstance(repo_or_name, str) else repo_or_name
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    stack.append(repo)
    try:
        yield repo
    finally:
        stack.pop()


def _set_flag(name: str, setting: Any) -> None:
    if not isinstance(setting, bool):
        raise TypeError(f"{name} must be True or False, got {setting!r}")
    _flags[name] = setting


def get_use_cache() -> bool:
    return _flags["use_cache"]


def set_use_cache(setting: bool) -> None:
    """False: always recompute (still recording provenance)."""
    _set_flag("use_cache", setting)


def get_check_mutations() -> bool:
    return _flags["check_mutations"]


def set_check_mutations(setting: bool) -> None:
    """True: re-hash proxies passed to decorated functions; raise if their value changed."""
    _set_flag("check_mutations", setting)


def get_read_only() -> bool:
    return _flags["read_only"]


def set_read_only(setting: bool) -> None:
    """True: use cached artifacts but never write new ones."""
    _set_flag("read_only", setting)


def _reset_for_tests() -> None:
    """Forget the installed config and restore default switches."""
    global _config, _default_repo
    with _lock:
        _config = None
        _default_repo = None
        _flags.update(use_cache=True, check_mutations=False, read_only=False)
    _local.stack = []


artifacts.use_default_repo(get_default_repo)
artifacts.use_repo_resolver(get_repo_by_name)
