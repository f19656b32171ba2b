"""provkit: function-level caching, provenance and artifact registries.

A drop-in successor of the ``provenance`` library: ``import provkit as p`` and use
``@p.provenance()``. With no configuration, artifacts go to an embedded SQLite + disk
repository under ``$PROVKIT_HOME`` (default ``~/.local/share/provkit``).
"""

from provkit import _aliases  # noqa: F401 - first: old module paths keep working (provkit.repos ...)
from provkit.core.artifacts import Artifact, ArtifactProxy, load_artifact, load_proxy
from provkit.core.errors import (
    ArtifactGoneError,
    ArtifactNotFoundError,
    BlobCorruptError,
    BlobExistsError,
    BlobMissingError,
    ConfigError,
    DatasetCopyError,
    DatasetInUseError,
    HashingError,
    ImpureFunctionError,
    InvalidKeyError,
    MissingProvenanceError,
    MutatedArtifactValueError,
    NotProxyError,
    PermissionDeniedError,
    ProvkitError,
    RecordNotFoundError,
    RegistryError,
    RelpathTakenError,
    RepoError,
    SchemaVersionError,
    SerializationError,
    SetNotFoundError,
    SingleFlightTimeoutError,
    StoreError,
    UnknownSerializerError,
    UntrustedValueError,
    VersionExistsError,
)
from provkit.core.files import ArchivedFile
from provkit.core.hashing import hash, is_proxy  # noqa: A004 - the documented name
from provkit.core.lazy import lazy_dict, lazy_proxy_dict
from provkit.core.lazy_proxies import lazy_proxy as _lazy_proxy  # noqa: F401 - imported: pickled proxies come back lazy
from provkit.core.runs import as_user, get_run_info_fn, set_run_info_fn
from provkit.core.serializers import register_serializer
from provkit.core.source_check import SourceChangedWarning
from provkit.interfaces import display as _display
from provkit.services.archiving import archive_file
from provkit.services.decorator import ensure_proxies, provenance
from provkit.services.filesets import Files, FileSet, Labels, run_files
from provkit.services.lifecycle import (
    Explanation,
    GcReport,
    LineageDiff,
    Taint,
    TaintedArtifactError,
    TaintedWarning,
    VerifyReport,
    diff,
    du,
    explain,
    explain_artifact,
    gc,
    get_on_tainted,
    pin,
    pins,
    reset_stats,
    retract,
    retracted,
    set_on_tainted,
    stats,
    taint_of,
    tainted,
    unpin,
    unretract,
    verify,
)
from provkit.services.promote import promote
from provkit.services.query import QueryError
from provkit.services.registry import Dataset, Execution, Registry, register_handler
from provkit.services.search import find, find_artifacts
from provkit.services.sets import (
    ArtifactSet,
    capture_set,
    create_set,
    load_set_by_id,
    load_set_by_labels,
    load_set_by_name,
    provenance_set,
)
from provkit.services.single_flight import get_single_flight, set_single_flight
from provkit.storage.batching import batch
from provkit.storage.config import Config, from_config
from provkit.storage.migrations import upgrade_db
from provkit.storage.settings import (
    current_config,
    get_check_mutations,
    get_default_repo,
    get_read_only,
    get_repo_by_name,
    get_use_cache,
    load_config,
    load_yaml_config,
    set_check_mutations,
    set_default_repo,
    set_read_only,
    set_use_cache,
    using_repo,
)

_display.install()  # Jupyter reprs of artifacts, sets and registry records

__version__ = "0.1.0"

#: Submodules reachable as ``p.<name>`` right after ``import provkit as p`` (imported on
#: first use, so the import stays cheap): ``p.lineage.ancestors(...)``, ``p.vis...``.
_SUBMODULES = frozenset({
    "archiving", "artifacts", "blobstores", "capture", "cli", "config", "decorator", "display", "errors", "files",
    "filesets", "hashing", "inputs", "lazy", "lineage", "migrations", "query", "query_sql", "registry", "repos",
    "runs", "search", "serializers", "sets", "settings", "vis", "single_flight",
})  # fmt: skip


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "diff",
    "LineageDiff",
    "stats",
    "reset_stats",
    "explain_artifact",
    "explain",
    "Explanation",
    "unretract",
    "tainted",
    "taint_of",
    "set_on_tainted",
    "retracted",
    "retract",
    "get_on_tainted",
    "TaintedWarning",
    "TaintedArtifactError",
    "Taint",
    "Artifact",
    "ArtifactGoneError",
    "ArtifactNotFoundError",
    "ArtifactProxy",
    "ArtifactSet",
    "ArchivedFile",
    "BlobCorruptError",
    "BlobExistsError",
    "BlobMissingError",
    "Config",
    "Dataset",
    "DatasetCopyError",
    "DatasetInUseError",
    "Execution",
    "FileSet",
    "GcReport",
    "Files",
    "ConfigError",
    "HashingError",
    "ImpureFunctionError",
    "InvalidKeyError",
    "Labels",
    "MissingProvenanceError",
    "MutatedArtifactValueError",
    "NotProxyError",
    "PermissionDeniedError",
    "QueryError",
    "ProvkitError",
    "RecordNotFoundError",
    "Registry",
    "RegistryError",
    "RelpathTakenError",
    "RepoError",
    "SchemaVersionError",
    "SerializationError",
    "SetNotFoundError",
    "SingleFlightTimeoutError",
    "StoreError",
    "UnknownSerializerError",
    "SourceChangedWarning",
    "UntrustedValueError",
    "VerifyReport",
    "VersionExistsError",
    "archive_file",
    "batch",
    "as_user",
    "capture_set",
    "create_set",
    "current_config",
    "du",
    "ensure_proxies",
    "find",
    "find_artifacts",
    "from_config",
    "gc",
    "get_check_mutations",
    "get_default_repo",
    "get_read_only",
    "get_single_flight",
    "get_repo_by_name",
    "get_run_info_fn",
    "get_use_cache",
    "hash",
    "is_proxy",
    "lazy_dict",
    "lazy_proxy_dict",
    "load_artifact",
    "load_config",
    "load_proxy",
    "load_set_by_id",
    "load_set_by_labels",
    "load_set_by_name",
    "load_yaml_config",
    "promote",
    "pin",
    "pins",
    "provenance",
    "provenance_set",
    "register_handler",
    "register_serializer",
    "run_files",
    "set_check_mutations",
    "set_default_repo",
    "set_read_only",
    "set_single_flight",
    "set_run_info_fn",
    "set_use_cache",
    "unpin",
    "upgrade_db",
    "using_repo",
    "verify",
]
