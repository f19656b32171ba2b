"""The registry's records (executions and datasets) and the rules for their fields.

Ids carry their kind: ``ex_...`` for executions, ``ds_...`` for datasets, so one
lineage graph can hold them next to artifact ids (``x1...``).
"""

from __future__ import annotations

import posixpath
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from provkit.core.errors import InvalidKeyError, RegistryError
from provkit.core.status import status_note

__all__ = [
    "Dataset", "Execution", "OWNER_TYPES", "BUMPS", "STATUSES", "parse_version", "bump_version",
    "new_id", "record_kind", "check_relpath", "check_owner_type", "Alias", "LOCATION_TYPES", "MUTABLE_FIELDS",
]  # fmt: skip

OWNER_TYPES = ("user", "group", "project", "production")
BUMPS = ("major", "minor", "patch")
#: pending: files being copied (invisible); valid: live; replaced / deleted: history.
STATUSES = ("pending", "valid", "replaced", "deleted")
DATA_ORGS = ("file", "directory")
#: dataregistry: files copied into (or indexed in) the registry; external: elsewhere, found by
#: ``url`` / ``contact_email``; dummy: tests and dry runs (left out of queries unless asked);
#: meta_only: a record with no files.
LOCATION_TYPES = ("dataregistry", "external", "dummy", "meta_only")
#: What ``modify_dataset`` may change; name, version, owner, relpath and content never change.
MUTABLE_FIELDS = ("description", "url", "contact_email", "access_api", "access_api_configuration",
                  "is_overwritable", "keywords", "creation_date")  # fmt: skip
#: Characters a relpath may not hold (as in dataregistry): whitespace and shell/glob specials.
_FORBIDDEN = re.compile(r"[\s$*&?!'\"`|;<>{}\[\]#%~^,=@+]")

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_PREFIX = {"execution": "ex_", "dataset": "ds_", "alias": "al_"}


def new_id(kind: str) -> str:
    """A fresh id for a registry record of ``kind`` ('execution' or 'dataset')."""
    return _PREFIX[kind] + uuid.uuid4().hex[:20]


def record_kind(record_id: str) -> str:
    """'execution', 'dataset' or 'artifact', read from the id's prefix."""
    if record_id.startswith("ex_"):
        return "execution"
    if record_id.startswith("ds_"):
        return "dataset"
    return "artifact"


def parse_version(version: str) -> tuple[int, int, int]:
    """``'1.2.3'`` -> ``(1, 2, 3)``; anything but plain semver X.Y.Z is refused."""
    match = _SEMVER.match(version) if isinstance(version, str) else None
    if match is None:
        raise RegistryError(
            f"version must be semver 'X.Y.Z' (or one of {', '.join(BUMPS)} to bump the latest), got {version!r}"
        )
    return int(match[1]), int(match[2]), int(match[3])


def bump_version(latest: tuple[int, int, int] | None, bump: str) -> str:
    """The version after ``latest`` for a ``major`` / ``minor`` / ``patch`` bump."""
    major, minor, patch = latest or (0, 0, 0)
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def check_owner_type(owner_type: str) -> str:
    if owner_type not in OWNER_TYPES:
        raise RegistryError(f"owner_type must be one of {', '.join(OWNER_TYPES)}, got {owner_type!r}")
    return owner_type


def check_relpath(relpath: str) -> str:
    """A clean relative POSIX path inside the owner's area; escapes and oddities refused."""
    if not isinstance(relpath, str) or not relpath.strip("/ "):
        raise InvalidKeyError(f"relpath must be a non-empty relative path, got {relpath!r}", key=str(relpath))
    clean = posixpath.normpath(relpath.strip())
    parts = clean.split("/")
    if relpath.startswith("/") or "\\" in relpath or any(p in ("..", "") for p in parts) or clean == ".":
        raise InvalidKeyError(
            f"relpath {relpath!r} must stay inside its owner's area (no leading '/', no '..')", key=relpath
        )
    if any(p.startswith(".") for p in parts):
        raise InvalidKeyError(f"relpath {relpath!r}: path parts may not start with '.'", key=relpath)
    bad = sorted(set(_FORBIDDEN.findall(clean)))
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise InvalidKeyError(f"relpath {relpath!r} holds characters a relpath may not: {shown}", key=relpath)
    return clean


def _short(record_id: str) -> str:
    return record_id[:14]


class _Record:
    """What executions and datasets share: a dict form, and being a lineage parent when
    passed to a decorated function (their Jupyter reprs come from the interfaces layer)."""

    _provkit_record = True
    id: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass
class Execution(_Record):
    """One stage of a pipeline: what ran, where, how it was configured, and by whom."""

    id: str
    name: str
    description: str | None = None
    site: str | None = None
    configuration: str | None = None
    start_time: datetime | None = None
    creator: str | None = None
    created_at: datetime | None = None
    run_id: str | None = None
    input_ids: list[str] = field(default_factory=list)

    kind = "execution"

    def __repr__(self) -> str:
        return f"<Execution {self.name!r} {_short(self.id)}>"


@dataclass
class Dataset(_Record):
    """A registered dataset: a file or a directory copied into the registry's storage."""

    id: str
    name: str
    version: str
    relpath: str
    owner: str
    owner_type: str
    description: str | None = None
    keywords: list[str] = field(default_factory=list)
    data_org: str = "file"
    nfiles: int = 0
    total_size: int = 0
    content_hash: str | None = None
    is_overwritable: bool = False
    status: str = "valid"
    execution_id: str | None = None
    location: str | None = None
    replace_iteration: int = 0
    creator: str | None = None
    created_at: datetime | None = None
    status_changed_at: datetime | None = None
    status_changed_by: str | None = None
    replaced_by: str | None = None
    spec: str | None = None
    provenance: dict = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    parent_ids: list[str] = field(default_factory=list)
    run_id: str | None = None
    location_type: str = "dataregistry"
    url: str | None = None
    contact_email: str | None = None
    access_api: str | None = None
    access_api_configuration: str | None = None
    creation_date: datetime | None = None
    #: every modification: {"by", "at", "field", "old", "new"}
    history: list[dict] = field(default_factory=list)

    kind = "dataset"

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        return parse_version(self.version)

    def __repr__(self) -> str:
        note = status_note(self)  # the default repository's retractions
        return f"<Dataset {self.name!r} {self.version} {self.status} {_short(self.id)}{' ' + note if note else ''}>"


@dataclass
class Alias:
    """A name for a dataset (``dataset_id``) or for another alias (``ref_alias_id``).

    Registering an alias name again supersedes the current one (``superseded_by``); the
    old row stays, so the history of what "latest" meant is kept."""

    id: str
    alias: str
    dataset_id: str | None = None
    ref_alias_id: str | None = None
    superseded_by: str | None = None
    creator: str | None = None
    created_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __repr__(self) -> str:
        target = self.dataset_id or f"alias {self.ref_alias_id}"
        return f"<Alias {self.alias!r} -> {target}{' (superseded)' if self.superseded_by else ''}>"
