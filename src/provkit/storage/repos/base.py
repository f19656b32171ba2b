"""The Repository base class: metadata records plus a blob store for the values.

Subclasses implement the metadata half in a handful of methods (``_fetch``,
``_insert``, ``_delete_record``, ``_fetch_run``, ``_insert_run``, ``_ids``,
``_value_id_in_use``); writing and reading values (inline or through the blob store,
blob first, metadata last) is shared here.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from provkit.core.artifacts import Artifact, ArtifactProxy, repo_named
from provkit.core.errors import (
    ArtifactNotFoundError,
    PermissionDeniedError,
    QueryError,
    SetNotFoundError,
)
from provkit.core.files import file_value_id
from provkit.core.hashing import hash as hash_value
from provkit.core.integrity import signer_from_env
from provkit.core.lazy import LazyDict
from provkit.core.serializers import Serializer
from provkit.core.sets import ArtifactSet
from provkit.storage.blobstores.base import BlobStore
from provkit.storage.repos import values
from provkit.storage.repos.extensions import compiled, is_feature_record, load_checks, value_wrapper
from provkit.storage.repos.graph import walk
from provkit.storage.repos.stored_inputs import dump_inputs, estimated_nbytes, load_inputs_pickle

T = TypeVar("T")


#: Serialized values (and inputs) up to this size live in the metadata row itself.
DEFAULT_INLINE_MAX_BYTES = 8192


class Repository(ABC):
    """Where artifacts live: records here, values in ``store`` (or inline when small)."""

    type_name = "abstract"

    def __init__(
        self,
        store: BlobStore | None,
        *,
        read: bool = True,
        write: bool = True,
        delete: bool = False,
        read_through_write: bool = True,
        inline_max_bytes: int = DEFAULT_INLINE_MAX_BYTES,
        verify: bool = True,
        name: str | None = None,
        sign_key_env: str | None = None,
    ) -> None:
        self.store = store
        self.read = bool(read)
        self.write = bool(write)
        self.delete_enabled = bool(delete)
        #: in a chained repo: copy artifacts found in later members into this one
        self.read_through_write = bool(read_through_write)
        self.inline_max_bytes = int(inline_max_bytes)
        self.verify = bool(verify)
        self.name = name
        #: keyed MACs over every stored value and inputs, with the key in $``sign_key_env``
        self.sign_key_env = sign_key_env
        self.signer = signer_from_env(sign_key_env)
        self._known_runs: set[str] = set()
        self._runs_lock = threading.Lock()
        self._features: dict[str, Any] = {}

    # ---- metadata half: implemented per backend -------------------------------------
    @abstractmethod
    def _fetch(self, artifact_id: str) -> Artifact | None: ...

    @abstractmethod
    def _insert(self, artifact: Artifact, *, replace: bool) -> bool:
        """Insert the record in one transaction; False if it existed (and not replaced)."""

    @abstractmethod
    def _delete_record(self, artifact_id: str) -> None: ...

    @abstractmethod
    def _fetch_run(self, run_id: str) -> dict | None: ...

    @abstractmethod
    def _insert_run(self, run_info: dict) -> None: ...

    @abstractmethod
    def _ids(self) -> Iterator[str]: ...

    @abstractmethod
    def _value_id_in_use(self, value_id: str) -> bool: ...

    @abstractmethod
    def _insert_set(self, artifact_set: ArtifactSet) -> None:
        """Store a set (ignore it if the same id exists)."""

    @abstractmethod
    def _fetch_set(self, set_id: str) -> ArtifactSet | None: ...

    @abstractmethod
    def _sets_named(self, name: str | None) -> list[ArtifactSet]:
        """Sets whose labels name is ``name`` (all sets for None), newest first."""

    # ---- features (the registry ...) keep their own records here ---------------------
    #: "memory", "sql": which kind of storage features build their tables on
    backend = "abstract"

    def feature_home(self) -> Repository:
        """The repository that holds features' records (itself; a chain picks a member)."""
        return self

    def feature_homes(self) -> list[Repository]:
        """Every repository whose features' records this one reads: the feature home
        first (a chain adds its other readable members, e.g. a production area)."""
        return [self.feature_home()]

    def feature(self, name: str, make: Callable[[Repository], T]) -> T:
        """What feature ``name`` keeps in this repository, made once by ``make(home)``.

        Features own their schema and SQL; the repository provides engine, transactions and
        migrations. A feature object may offer ``parents_of``/``children_of`` to add its
        records to lineage.
        """
        home = self.feature_home()
        found = home._features.get(name)
        if found is None:
            with home._runs_lock:
                found = home._features.get(name)
                if found is None:
                    found = home._features[name] = make(home)
        return found

    # ---- lineage edges ------------------------------------------------------------
    def parents_of(self, ids: list[str]) -> dict[str, list[str]]:
        """Direct parents of each record (artifact inputs / based_on; features add theirs)."""
        out: dict[str, list[str]] = {}
        foreign = []
        for record_id in ids:
            if is_feature_record(record_id):
                foreign.append(record_id)
                continue
            artifact = self.lookup(record_id)
            out[record_id] = list(artifact.input_artifact_ids) if artifact is not None else []
        if foreign:
            out.update({i: [] for i in foreign})
            for edges in self._edge_features():
                for record_id, parents in edges.parents_of(foreign).items():
                    out[record_id].extend(parents)
        return out

    def children_of(self, ids: list[str]) -> dict[str, list[str]]:
        """Direct children of each record (this default scans every artifact)."""
        wanted = set(ids)
        out: dict[str, list[str]] = {i: [] for i in ids}
        for artifact_id in self.artifact_ids():
            artifact = self.lookup(artifact_id)
            for parent in artifact.input_artifact_ids if artifact is not None else []:
                if parent in wanted:
                    out[parent].append(artifact_id)
        self._add_feature_children(ids, out)
        return out

    def ancestors(self, record_id: str, depth: int | None = None) -> dict[str, int]:
        """``{id: distance}`` of everything ``record_id`` was made from."""
        return walk(record_id, self.parents_of, depth)

    def descendants(self, record_id: str, depth: int | None = None) -> dict[str, int]:
        """``{id: distance}`` of everything made from ``record_id``."""
        return walk(record_id, self.children_of, depth)

    def _edge_features(self) -> list[Any]:
        return [f for f in self.feature_home()._features.values() if hasattr(f, "children_of")]

    def _add_feature_children(self, ids: list[str], out: dict[str, list[str]]) -> None:
        for edges in self._edge_features():
            for parent, children in edges.children_of(ids).items():
                out[parent].extend(children)

    # ---- queries ------------------------------------------------------------------
    def find(self, query: Any, limit: int | None = None) -> Iterator[Artifact]:
        """Artifacts matching a query (a Mongo-style dict or a CompiledQuery), newest
        first (evaluated in Python here; SQL repositories run it as SQL)."""
        plan = compiled(query)
        check_limit(limit)
        if not self.read:
            return iter(())
        artifacts = [self.get_artifact(i) for i in self.artifact_ids()]
        artifacts.sort(key=_newest_first)
        found = [a for a in artifacts if plan.matches(a)]
        return iter(found if limit is None else found[:limit])

    # ---- sets ---------------------------------------------------------------------
    def save_set(self, artifact_set: ArtifactSet) -> None:
        self._require(self.write, "writing")
        self._insert_set(artifact_set)

    def get_set(self, set_id: str) -> ArtifactSet:
        found = self._fetch_set(set_id) if self.read else None
        if found is None:
            raise SetNotFoundError(f"no artifact set {set_id!r} in {self!r}")
        return found

    def latest_set(self, labels: dict) -> ArtifactSet:
        """The newest set whose labels equal ``labels``."""
        if self.read:
            for candidate in self._sets_named(labels.get("name")):
                if candidate.labels == labels:
                    return candidate
        raise SetNotFoundError(f"no artifact set labelled {labels!r} in {self!r}")

    # ---- reading ------------------------------------------------------------------
    def lookup(self, artifact_id: str) -> Artifact | None:
        """The artifact, or None when absent (or reading is disabled)."""
        if not self.read:
            return None
        return self._fetch(artifact_id)

    def get_artifact(self, artifact_id: str) -> Artifact:
        artifact = self.lookup(artifact_id)
        if artifact is None:
            raise ArtifactNotFoundError(f"no artifact {artifact_id!r} in {self!r}", artifact_id=artifact_id)
        return artifact

    def __contains__(self, artifact_id: object) -> bool:
        return isinstance(artifact_id, str) and self.lookup(artifact_id) is not None

    def artifact_ids(self) -> Iterator[str]:
        return self._ids()

    def get_run(self, run_id: str) -> dict | None:
        return self._fetch_run(run_id)

    def load_value(self, artifact: Artifact) -> Any:
        """Deserialize the artifact's value (inline bytes or the blob under value_id);
        values of some kinds come back wrapped (file artifacts: a FileSet bound here).

        The stored bytes are checked against the recorded digest (and MAC, in a signed
        repository) before they are deserialized; a corrupt copy in a chained store is
        skipped (and repaired from a good one). Damage is a BlobCorruptError.
        """
        for check in load_checks():  # e.g. retraction: a tainted value warns or raises
            check(self, artifact)
        value = values.load_value(self, artifact)
        wrap = value_wrapper(artifact.kind)
        return value if wrap is None else wrap(value, self, artifact)

    def _matches(self, value: Any, artifact: Artifact, serializer: Serializer) -> bool:
        """Whether a value read back is the one its value id names (when checkable)."""
        if serializer.name == "file":
            ext = "." + artifact.value_id.rsplit(".", 1)[1] if "." in artifact.value_id else ""
            value._value_id = artifact.value_id
            return file_value_id(value.path) + ext == artifact.value_id
        if not (self.verify and serializer.exact):
            return True
        return hash_value(value) == artifact.value_id

    def load_inputs(self, artifact: Artifact) -> dict:
        """The recorded inputs, artifacts among them as proxies from this repository."""
        data = values.inputs_bytes(self, artifact)
        if data is None:
            return {"kargs": {}, "varargs": ()}
        what = f"stored inputs of artifact {artifact.id} ({artifact.name})"
        return values.deserialize(lambda: load_inputs_pickle(data, self), what, artifact.id)

    def proxy(self, artifact_id: str) -> ArtifactProxy:
        return self.get_artifact(artifact_id).proxy()

    def proxy_value(self, artifact: Artifact) -> Any:
        """What a proxy of ``artifact`` wraps: its value, or for a composite a lazy dict
        of its members' proxies."""
        if not artifact.composite:
            return self.load_value(artifact)
        members = self.load_value(artifact)
        return LazyDict({key: (lambda i=member_id: self.proxy(i)) for key, member_id in members.items()})

    # ---- writing ------------------------------------------------------------------
    def _require(self, flag: bool, action: str) -> None:
        if not flag:
            raise PermissionDeniedError(f"{action} is disabled on {self!r}")

    def ensure_run(self, run_info: dict) -> None:
        """Record the run once per repository and process."""
        run_id = run_info["id"]
        if run_id in self._known_runs:
            return
        with self._runs_lock:
            if run_id not in self._known_runs:
                self._insert_run(run_info)
                self._known_runs.add(run_id)

    def save(
        self,
        artifact: Artifact,
        value: Any,
        *,
        inputs: Any = None,
        run_info: dict | None = None,
        replace: bool = False,
        value_path: str | None = None,
        repair: bool = False,
    ) -> Artifact:
        """Store value (blob first), then inputs, then the record in one transaction.

        ``value_path`` stores a file's bytes as the value instead of serializing
        ``value`` (archived files); ``repair`` rewrites a blob even if one exists (it
        was found missing or corrupt). Returns the artifact attached to this repository.
        """
        self._require(self.write, "writing")
        if value_path is not None:
            self._store_file(artifact, value_path, repair)
        else:
            self._store_value(artifact, value, repair)
        payload = None
        if inputs is not None:
            payload = self._dump_inputs(inputs)
            values.seal_inputs(self, artifact, payload)
            if len(payload) <= self.inline_max_bytes or self.store is None:
                artifact._inputs_bytes = payload
            else:
                self.store.put_bytes(
                    artifact.id, payload, overwrite=True
                )  # the row about to be written seals these bytes
        if run_info is not None:
            self.ensure_run(run_info)
            artifact.run_id = run_info["id"]
        artifact.repo = self
        self._insert(artifact, replace=replace)
        self._ensure_blobs(artifact, value, value_path, payload)
        return artifact

    def _ensure_blobs(self, artifact: Artifact, value: Any, value_path: str | None, payload: bytes | None) -> None:
        """After the row is committed, put back a blob it names that is gone: a garbage
        collection running meanwhile may have taken a blob this write reused."""
        store = self.store
        if store is None or not store.write:
            return
        if artifact._value_bytes is None and artifact.value_id and not store.exists(artifact.value_id):
            if value_path is not None:
                self._store_file(artifact, value_path, True)
            else:
                self._store_value(artifact, value, True)
            self._insert(artifact, replace=True)  # the rewritten bytes' seal
        if payload is not None and artifact._inputs_bytes is None and not store.exists(artifact.id):
            store.put_bytes(artifact.id, payload, overwrite=True)

    def save_batch(self, items: list[tuple[Artifact, Any]], *, run_info: dict | None = None) -> int:
        """Store many artifacts (values serialized as for ``save``); returns how many were new.

        SQL repositories write the whole batch in one transaction; this default saves one
        by one.
        """
        new = 0
        for artifact, value in items:
            before = self.lookup(artifact.id) is not None
            self.save(artifact, value, run_info=run_info)
            new += not before
        return new

    def _dump_inputs(self, inputs: Any) -> bytes:
        return dump_inputs(inputs, self)

    def _store_file(self, artifact: Artifact, path: str, repair: bool = False) -> None:
        values.store_file(self, artifact, path, repair)

    def _store_value(self, artifact: Artifact, value: Any, repair: bool = False) -> None:
        values.store_value(self, artifact, value, estimated_nbytes(value), repair)

    def delete(self, artifact_id: str) -> None:
        """Delete the record; its value blob too unless another artifact shares it."""
        self._require(self.delete_enabled, "deleting")
        artifact = self.get_artifact(artifact_id)
        self._delete_record(artifact_id)
        store = self.store
        if store is None or not store.delete_enabled:
            return
        for key in (artifact.id, artifact.value_id):
            if key == artifact.value_id and self._value_id_in_use(key):
                continue
            if store.exists(key):
                store.delete(key)

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<{type(self).__name__}{label}>"

    def __reduce__(self) -> tuple:
        """Pickle by name: the receiving process uses its own configured repository of
        that name (connections and locks never travel)."""
        if not self.name:
            raise TypeError(
                f"cannot pickle {self!r}: only configured (named) repositories pickle, as a reference by name; "
                "configure it with load_config or pass its name (repo='name')"
            )
        return (repo_named, (self.name,))


def check_limit(limit: int | None) -> None:
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise QueryError(f"limit must be a non-negative int or None, got {limit!r}", part=limit)


def newest_first(when: Any, record_id: str) -> tuple:
    """Sort key: newest first, undated last, then id for a stable order."""
    return (when is None, -when.timestamp() if when is not None else 0.0, record_id)


def _newest_first(artifact: Artifact) -> tuple:
    return newest_first(artifact.computed_at, artifact.id)


def default_location() -> str:
    """Where the zero-config repository lives: ``$PROVKIT_HOME`` or the user data dir."""
    home = os.environ.get("PROVKIT_HOME")
    if home:
        return os.path.abspath(os.path.expanduser(home))
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "provkit")
