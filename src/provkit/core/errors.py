"""Every exception provkit raises on purpose.

    ProvkitError
    ├── ConfigError                 a config dict/YAML is wrong (unknown key or type, missing key)
    ├── HashingError                a value cannot be hashed (unpicklable, cyclic)
    ├── SerializationError          a value cannot be written or read by its serializer
    │   └── UnknownSerializerError  no serializer registered under that name (also a ValueError)
    ├── ImpureFunctionError         a decorated function mutated one of its arguments
    ├── MutatedArtifactValueError   a proxy's value changed after it was returned
    ├── NotProxyError               ensure_proxies() got a plain value (a ValueError, as in provenance)
    ├── InvalidKeyError             a blob key or path that is malformed or escapes its root
    ├── StoreError                  a blob store failure
    │   ├── BlobMissingError        no blob under that key
    │   ├── BlobCorruptError        stored bytes no longer match their recorded digest / id
    │   │   └── UntrustedValueError a signed repository met bytes with a missing or wrong MAC
    │   ├── BlobExistsError         a write with on_duplicate_key='raise' met an existing key
    │   └── PermissionDeniedError   read/write/delete disabled on that store or repo
    └── RepoError                   a repository failure
        ├── ArtifactNotFoundError   no artifact with that id
        ├── ArtifactGoneError       an artifact in use was deleted meanwhile (e.g. by gc)
        ├── SetNotFoundError        no artifact set with that id / name / labels
        ├── SchemaVersionError      the database schema is older/newer than this code
        ├── SingleFlightTimeoutError waited past single_flight_timeout for another computing process
        └── RegistryError           a dataset registry rule was broken
            ├── RecordNotFoundError         no dataset / execution with that id
            ├── RelpathTakenError           a live dataset already owns that relpath
            ├── VersionExistsError          that version of the dataset is registered already
            ├── DatasetInUseError           other records depend on the dataset
            ├── DatasetCopyError            copying or verifying the dataset's files failed
            └── MissingProvenanceError      a derived dataset lacks enforced provenance fields

Each error keeps the object it failed on in an attribute (``key``, ``artifact_id``,
``argument`` ...) so callers can react without parsing messages.
"""

from __future__ import annotations

from typing import Any


class ProvkitError(Exception):
    """Base class of every provkit error."""


class ConfigError(ProvkitError, ValueError):
    """A configuration is invalid; the message names the offending key."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class HashingError(ProvkitError, TypeError):
    """A value could not be hashed."""

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class SerializationError(ProvkitError):
    """A serializer failed to write or read a value."""

    def __init__(self, message: str, *, serializer: str | None = None) -> None:
        super().__init__(message)
        self.serializer = serializer


class UnknownSerializerError(SerializationError, ValueError):
    """No serializer is registered under the name asked for."""


class ImpureFunctionError(ProvkitError):
    """A decorated function modified its arguments."""

    def __init__(self, message: str, *, arguments: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.arguments = arguments


class MutatedArtifactValueError(ProvkitError):
    """An ArtifactProxy's value was mutated before being passed on."""

    def __init__(self, message: str, *, artifact_id: str | None = None) -> None:
        super().__init__(message)
        self.artifact_id = artifact_id


class NotProxyError(ProvkitError, ValueError, TypeError):
    """A parameter guarded by ensure_proxies() received a plain value."""

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class QueryError(ProvkitError, ValueError):
    """A query that is malformed, uses an unknown operator or field, or a wrong value type."""

    def __init__(self, message: str, *, part: Any = None) -> None:
        super().__init__(message.replace("\n", " "))
        self.part = part


class InvalidKeyError(ProvkitError, ValueError):
    """A blob key or relative path is malformed or escapes its root."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class StoreError(ProvkitError):
    """A blob store failed."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class BlobMissingError(StoreError, KeyError):
    """No blob is stored under the key."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class BlobCorruptError(StoreError):
    """Stored bytes no longer match what their record names (digest, value id or file
    hash); nothing was deserialized from them."""


class UntrustedValueError(BlobCorruptError):
    """A signed repository refused bytes whose MAC is missing or wrong (never deserialized)."""


class BlobExistsError(StoreError):
    """A blob already exists and the store is set to on_duplicate_key='raise'."""


class PermissionDeniedError(StoreError, PermissionError):
    """The operation is disabled on this store or repository (read/write/delete flags)."""


class RepoError(ProvkitError):
    """A repository failed."""


class ArtifactNotFoundError(RepoError, KeyError):
    """No artifact with the id exists in the repository."""

    def __init__(self, message: str, *, artifact_id: str | None = None) -> None:
        super().__init__(message)
        self.artifact_id = artifact_id

    def __str__(self) -> str:
        return str(self.args[0])


class ArtifactGoneError(RepoError):
    """An artifact was deleted (e.g. by gc) while a record of it was in use."""

    def __init__(self, message: str, *, artifact_id: str | None = None) -> None:
        super().__init__(message)
        self.artifact_id = artifact_id


class SetNotFoundError(RepoError, KeyError):
    """No artifact set matches the id, name or labels."""

    def __str__(self) -> str:
        return str(self.args[0])


class SchemaVersionError(RepoError):
    """The database schema does not match this version of provkit."""

    def __init__(self, message: str, *, current: str | None, expected: str) -> None:
        super().__init__(message)
        self.current = current
        self.expected = expected


class RegistryError(RepoError):
    """A rule of the dataset registry was broken (bad version, owner type, relpath ...)."""


class RecordNotFoundError(RegistryError, KeyError):
    """No dataset or execution with the id exists in the registry."""

    def __init__(self, message: str, *, record_id: str | None = None) -> None:
        super().__init__(message)
        self.record_id = record_id

    def __str__(self) -> str:
        return str(self.args[0])


class RelpathTakenError(RegistryError):
    """A live dataset of the same owner already owns the relpath."""

    def __init__(self, message: str, *, relpath: str, holder: str | None = None) -> None:
        super().__init__(message)
        self.relpath = relpath
        self.holder = holder


class VersionExistsError(RegistryError):
    """The explicit version given for a dataset is registered already."""


class DatasetInUseError(RegistryError):
    """The dataset cannot be deleted or replaced: other records were built from it."""

    def __init__(self, message: str, *, dataset_id: str, dependents: list[str]) -> None:
        super().__init__(message)
        self.dataset_id = dataset_id
        self.dependents = dependents


class DatasetCopyError(RegistryError):
    """Copying a dataset's files into the registry failed or did not verify."""


class MissingProvenanceError(RegistryError):
    """Derived data was stored without the provenance fields the registry enforces."""

    def __init__(self, message: str, *, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = missing


class SingleFlightTimeoutError(RepoError):
    """Waited longer than ``single_flight_timeout`` for another process computing the same artifact."""

    def __init__(self, message: str, *, artifact_id: str, holder: str | None) -> None:
        super().__init__(message)
        self.artifact_id = artifact_id
        self.holder = holder
