"""The type of every config key, checked before anything is built.

One table, by key name: a key means the same thing wherever it appears (``read`` on a
store or a repo is a boolean either way). Adding a key is one line here (a boolean:
one name in ``BOOL_KEYS``); ``tests/test_config.py`` checks that every constructor
parameter a config can reach is listed.

Booleans must be YAML/JSON booleans (``true`` / ``false``): strings such as ``"false"``
are refused, never read as true.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from provkit.core.errors import ConfigError

__all__ = ["BOOL_KEYS", "KEY_TYPES", "check_types"]

#: every boolean key of the top level, stores and repos
BOOL_KEYS = frozenset(
    {
        "use_cache", "check_mutations", "read_only", "single_flight",  # top level
        "read", "write", "delete", "read_through_write", "verify",  # stores and repos
        "create_bucket", "create_db", "persistent_connections", "synchronous_commit", "fsync",
    }
)  # fmt: skip


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _is_mapping(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _is_duration(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


#: key -> (check, expected type as the error names it)
KEY_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    **{key: (lambda v: isinstance(v, bool), "true or false (a YAML/JSON boolean, not a string)") for key in BOOL_KEYS},
    "default_repo": (_optional(_is_str), "a repo name (string)"),
    "on_duplicate_key": (_is_str, "one of 'skip', 'overwrite', 'raise'"),
    "cachedir": (_is_path, "a folder path (string)"),
    "basepath": (_is_str, "a string (bucket/prefix or folder)"),
    "bucket": (_is_str, "a bucket name (string)"),
    "project": (_optional(_is_str), "a project name (string)"),
    "endpoint_url": (_optional(_is_str), "a URL (string)"),
    "s3_config": (_optional(_is_mapping), "a mapping of s3fs options"),
    "gcs_config": (_optional(_is_mapping), "a mapping of gcsfs options"),
    "ssh_config": (_is_mapping, "a mapping (hostname, port, username, ...)"),
    "stores": (_is_names, "a list of blobstore names"),
    "repos": (_is_names, "a list of artifact repo names"),
    "db": (_is_str, "a database URL (string)"),
    "store": (_optional(_is_str), "a blobstore name (string) or null"),
    "schema": (_optional(_is_str), "a schema name (string)"),
    "engine_options": (_optional(_is_mapping), "a mapping of SQLAlchemy create_engine options"),
    "inline_max_bytes": (_is_count, "a whole number of bytes >= 0"),
    "mode": (_optional(_is_count), "a permission mode such as 0o440 (an int)"),
    "dir_mode": (_optional(_is_count), "a permission mode such as 0o2770 (an int)"),
    "sign_key_env": (_optional(_is_str), "the name of an environment variable holding the key (string)"),
    **{
        key: (_optional(_is_seconds), "a number of seconds > 0")
        for key in ("single_flight_ttl", "single_flight_poll", "single_flight_timeout")
    },
    "single_flight_min_seconds": (_optional(_is_duration), "a number of seconds >= 0"),
}


def check_types(spec: Mapping, where: str | None) -> None:
    """Raise ConfigError for the first key of ``spec`` whose value has the wrong type."""
    for key, value in spec.items():
        if key == "type" or key not in KEY_TYPES:
            continue
        check, expected = KEY_TYPES[key]
        if not check(value):
            place = f"{where}.{key}" if where else key
            raise ConfigError(f"{place} must be {expected}, got {value!r} ({type(value).__name__})")
