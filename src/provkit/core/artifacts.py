"""Artifact records and the transparent ArtifactProxy that carries them.

An ``Artifact`` is the metadata of one computed (or archived) value: ids, function,
inputs, run, timings. An ``ArtifactProxy`` behaves like the value itself (wrapt) and
adds ``.artifact``. Both pickle by reference (their id) and come back as proxies
loaded from the default repository.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import wrapt

from provkit.core.capture import note_artifact
from provkit.core.status import status_note

if TYPE_CHECKING:
    from provkit.storage.repos.base import Repository

__all__ = [
    "Artifact",
    "ArtifactProxy",
    "ArtifactRef",
    "coerce_to_artifact",
    "load_artifact",
    "load_proxy",
    "record_id_of",
]

_UNSET: Any = object()


class Artifact:
    """Provenance record of one value. Attributes follow the ``provenance`` library."""

    __slots__ = (
        "_inputs",
        "_inputs_bytes",
        "_pending",
        "_run_info",
        "_seal",
        "_value_bytes",
        "added_at",
        "composite",
        "compute_duration",
        "computed_at",
        "custom_fields",
        "dump_kwargs",
        "fn_module",
        "fn_name",
        "hash_duration",
        "id",
        "input_artifact_ids",
        "inputs_json",
        "kind",
        "load_kwargs",
        "name",
        "persisted",
        "repo",
        "run_id",
        "serializer",
        "task_key",
        "user",
        "value_id",
        "value_id_duration",
        "version",
    )  # fmt: skip

    def __init__(
        self,
        id: str,  # noqa: A002 - documented attribute name
        value_id: str,
        name: str,
        *,
        version: int = 0,
        fn_module: str | None = None,
        fn_name: str | None = None,
        composite: bool = False,
        inputs_json: Any = None,
        input_artifact_ids: list[str] | None = None,
        run_id: str | None = None,
        custom_fields: dict | None = None,
        serializer: str = "joblib",
        load_kwargs: dict | None = None,
        dump_kwargs: dict | None = None,
        compute_duration: float | None = None,
        hash_duration: float | None = None,
        value_id_duration: float | None = None,
        computed_at: datetime | None = None,
        added_at: datetime | None = None,
        repo: Repository | None = None,
        inputs: Any = _UNSET,
        run_info: Any = _UNSET,
        value_bytes: bytes | None = None,
        inputs_bytes: bytes | None = None,
        persisted: bool = True,
        kind: str = "cached",
        user: str | None = None,
        task_key: str | None = None,
    ) -> None:
        self.id = id
        self.value_id = value_id
        self.name = name
        self.version = version
        self.fn_module = fn_module
        self.fn_name = fn_name
        self.composite = composite
        self.inputs_json = inputs_json if inputs_json is not None else {}
        self.input_artifact_ids = input_artifact_ids if input_artifact_ids is not None else []
        self.run_id = run_id
        self.custom_fields = custom_fields if custom_fields is not None else {}
        self.serializer = serializer
        self.load_kwargs = load_kwargs
        self.dump_kwargs = dump_kwargs
        self.compute_duration = compute_duration
        self.hash_duration = hash_duration
        self.value_id_duration = value_id_duration
        self.computed_at = computed_at
        self.added_at = added_at
        self.repo = repo
        self._inputs = inputs
        self._run_info = run_info
        self._value_bytes = value_bytes
        self._inputs_bytes = inputs_bytes
        self._seal: Any = None  # integrity.Seal: digests / MACs of the stored bytes
        self.persisted = persisted
        self.kind = kind
        self.user = user
        self.task_key = task_key
        self._pending: dict = {}

    @staticmethod
    def from_row(repo: Repository, artifact: Artifact, pending: dict[str, tuple[Callable, Any]]) -> Artifact:
        """Finish an artifact whose stored fields were set on a bare instance; ``pending``
        fields (name -> (decode, raw)) are decoded when first read."""
        artifact.repo = repo
        artifact._inputs = _UNSET
        artifact._run_info = _UNSET
        artifact.persisted = True
        artifact._pending = pending
        return artifact

    def __getattr__(self, name: str) -> Any:
        # only reached for slots not set yet: decode a pending stored field
        try:
            pending = object.__getattribute__(self, "_pending")
            decode, raw = pending.pop(name)
        except (AttributeError, KeyError):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}") from None
        value = decode(raw)
        setattr(self, name, value)
        return value

    # ---- lazily loaded parts ----------------------------------------------------------
    @property
    def tags(self) -> list:
        return list(self.custom_fields.get("tags", []))

    @property
    def inputs(self) -> dict:
        """``{'kargs': {...}, 'varargs': (...)}``; inputs that were artifacts come back as proxies."""
        if self._inputs is _UNSET:
            self._inputs = self._require_repo().load_inputs(self)
        return self._inputs

    @property
    def run_info(self) -> dict | None:
        """The run's record, plus ``dask.key`` when a Dask task made the artifact (the run is
        the worker process's, shared by its tasks; the key is kept with the artifact)."""
        if self._run_info is _UNSET:
            self._run_info = self._require_repo().get_run(self.run_id) if self.run_id else None
        run = self._run_info
        if run is not None and self.task_key is not None and isinstance(run.get("dask"), dict):
            return {**run, "dask": {**run["dask"], "key": self.task_key}}
        return run

    @property
    def value(self) -> Any:
        """The stored value (loaded each time; use ``proxy()`` to keep lineage)."""
        return self._require_repo().load_value(self)

    def proxy(self) -> ArtifactProxy:
        """The value wrapped in an ArtifactProxy carrying this artifact (a composite's
        value is a lazy dict of its members' proxies)."""
        return ArtifactProxy(self._require_repo().proxy_value(self), self)

    def _require_repo(self) -> Repository:
        if self.repo is None:
            from provkit.core.errors import RepoError

            raise RepoError(f"artifact {self.id} is not attached to a repository")
        return self.repo

    @property
    def metadata(self) -> dict[str, Any]:
        """The story's fields at hand: who, where, how it was run, from what, with what."""
        run = self.run_info or {}
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "username": self.user,
            "hostname": (run.get("host") or {}).get("nodename"), "argv": " ".join(run.get("argv") or []),
            "python_packages": dict(run.get("packages") or {}), "creation_time": self.computed_at,
            "run_id": self.run_id, "based_on": list(self.input_artifact_ids),
            "labels": dict(self.custom_fields.get("labels", {})), "git": run.get("git"),
        }  # fmt: skip

    # ---- conversions ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The stored fields as a plain dict (what a repository row holds)."""
        return {
            "id": self.id, "value_id": self.value_id, "name": self.name, "version": self.version,
            "fn_module": self.fn_module, "fn_name": self.fn_name, "composite": self.composite,
            "inputs_json": self.inputs_json, "input_artifact_ids": list(self.input_artifact_ids),
            "run_id": self.run_id, "custom_fields": self.custom_fields, "serializer": self.serializer,
            "load_kwargs": self.load_kwargs, "dump_kwargs": self.dump_kwargs,
            "compute_duration": self.compute_duration, "hash_duration": self.hash_duration,
            "value_id_duration": self.value_id_duration, "computed_at": self.computed_at,
            "added_at": self.added_at,
            "kind": self.kind,
            "user": self.user,
            "task_key": self.task_key,
        }  # fmt: skip

    def __provkit_hash__(self) -> str:
        return self.id

    def __copy__(self) -> Artifact:
        """A detached copy of the record (every stored field decoded)."""
        new = Artifact.__new__(Artifact)
        for name in Artifact.__slots__:
            if name != "_pending":
                setattr(new, name, getattr(self, name))
        new._pending = {}
        return new

    def __reduce__(self) -> tuple:
        return (load_artifact, (self.id, _repo_name(self.repo)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Artifact) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        note = status_note(self, self.repo)
        return f"<provkit.Artifact({self.id}) {note}>" if note else f"<provkit.Artifact({self.id})>"


def _shape_of(value: Any) -> str | None:
    """Which special methods a proxy of ``value`` needs (Python looks them up on the type)."""
    kind = type(value)
    if callable(value):
        return "callable"
    if hasattr(kind, "__fspath__"):
        return "path"
    if hasattr(kind, "__next__"):
        return "iterator"
    return None


# ObjectProxy.__new__ is a Python function calling the C base's; the proxy classes here
# derive from ObjectProxy, so the base's __new__ gives the same object, one frame sooner
_new_proxy = wrapt.BaseObjectProxy.__new__
_init_proxy = wrapt.ObjectProxy.__init__


class ArtifactProxy(wrapt.ObjectProxy):
    """The value of an artifact, behaving exactly like it, plus ``.artifact``.

    A proxy unpickled from a reference (a Dask worker receiving an upstream result, a
    spawned process) is lazy (``core/lazy_proxies.py``): its value is loaded from the
    repository when first touched; hashing, passing it on or pickling it again use only
    its artifact.
    """

    _provkit_proxy = True

    def __new__(cls, value: Any, artifact: Artifact) -> ArtifactProxy:
        if cls is ArtifactProxy:  # special methods Python looks up on the type itself
            kind = type(value)
            found = _PROXY_CLASS.get(kind)
            if found is None:
                found = _SHAPES[_shape_of(value)]
                if len(_PROXY_CLASS) < 4096:  # types are few; a bound all the same
                    _PROXY_CLASS[kind] = found
            cls = found
        return _new_proxy(cls)

    def __init__(self, value: Any, artifact: Artifact) -> None:
        _init_proxy(self, value)
        self._self_artifact = artifact
        # A second reference to the value: numpy reuses the buffer of an operand whose
        # refcount is 1 ("temporary elision"); through the C proxy that would make
        # `proxy * 2` overwrite the proxy's own array.
        self._self_value = value

    @property
    def artifact(self) -> Artifact:
        return self._self_artifact

    def __repr__(self) -> str:
        artifact = self._self_artifact
        note = status_note(artifact, artifact.repo)
        return f"<provkit.ArtifactProxy({artifact.id}) {f'[{note}] ' if note else ''}{self.__wrapped__!r} >"

    def __reduce__(self) -> tuple:
        artifact = self._self_artifact
        if _unpickle_proxy is None:  # lazy_proxies not imported: an eager reference
            return (load_proxy, (artifact.id, _repo_name(artifact.repo)))
        return (_unpickle_proxy, (artifact.id, _repo_name(artifact.repo), *self._provkit_kind()))

    def _provkit_kind(self) -> tuple[str | None, str | None]:
        """(shape, "module:qualname" of the value's class): what a lazy copy needs to
        look like its value before loading it."""
        value = self.__wrapped__
        kind = type(value)
        return _shape_of(value), f"{kind.__module__}:{kind.__qualname__}"

    def __reduce_ex__(self, protocol: int) -> tuple:
        return self.__reduce__()

    def __copy__(self) -> ArtifactProxy:
        """A proxy of a copy of the value, carrying the same artifact."""
        return ArtifactProxy(copy.copy(self.__wrapped__), self._self_artifact)

    def __deepcopy__(self, memo: dict) -> ArtifactProxy:
        return ArtifactProxy(copy.deepcopy(self.__wrapped__, memo), self._self_artifact)


class _CallableArtifactProxy(ArtifactProxy):
    """The proxy of a callable value (a model's predict function, a lambda)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(*args, **kwargs)


class _PathArtifactProxy(ArtifactProxy):
    """The proxy of a path-like value (archived files): usable with open() and os.fspath()."""

    def __fspath__(self) -> Any:
        return self.__wrapped__.__fspath__()


class _IteratorArtifactProxy(ArtifactProxy):
    """The proxy of an iterator: ``next(proxy)`` advances the value."""

    def __next__(self) -> Any:
        return next(self.__wrapped__)


#: the proxy class for each shape (lazy_proxies.py derives the lazy ones)
_SHAPES: dict[str | None, type] = {
    None: ArtifactProxy, "callable": _CallableArtifactProxy, "path": _PathArtifactProxy,
    "iterator": _IteratorArtifactProxy,
}  # fmt: skip
_PROXY_CLASS: dict[type, type] = {}  # the value's type -> its proxy class


class ArtifactRef:
    """Stands for an artifact inside stored inputs; loaded back as a lazy proxy."""

    __slots__ = ("id",)

    def __init__(self, artifact_id: str) -> None:
        self.id = artifact_id

    def __reduce__(self) -> tuple:
        return (ArtifactRef, (self.id,))

    def __repr__(self) -> str:
        return f"ArtifactRef({self.id!r})"


#: Rebuilds a pickled proxy, lazily; set when ``lazy_proxies`` is imported (``use_unpickler``).
_unpickle_proxy: Callable[..., ArtifactProxy] | None = None


def use_unpickler(fn: Callable[..., ArtifactProxy]) -> None:
    """Make pickled proxies come back through ``fn(id, repo_name, shape, kind)``."""
    global _unpickle_proxy
    _unpickle_proxy = fn


#: Returns the default repository; set by the storage layer (``use_default_repo``).
_default_repo: Callable[[], Repository] | None = None


def use_default_repo(getter: Callable[[], Repository]) -> None:
    """Tell the records where "the default repository" is (the storage layer's settings
    call this once), so artifacts pickled by id can be loaded back."""
    global _default_repo
    _default_repo = getter


def default_repo() -> Repository:
    """The default repository, as registered with ``use_default_repo``."""
    if _default_repo is None:
        from provkit.core.errors import RepoError

        raise RepoError("no default repository is set up: import provkit first")
    return _default_repo()


#: Returns the configured repository of a name; set by the storage layer (``use_repo_resolver``).
_repo_by_name: Callable[[str], Repository] | None = None


def use_repo_resolver(resolver: Callable[[str], Repository]) -> None:
    """Tell the records how to find a configured repository by name (the storage layer's
    settings call this once), so references pickled with a repo name load from it."""
    global _repo_by_name
    _repo_by_name = resolver


def repo_named(name: str) -> Repository:
    """The configured repository called ``name`` (what a pickled repository becomes)."""
    if _repo_by_name is None:
        from provkit.core.errors import RepoError

        raise RepoError("no repository resolver is set up: import provkit first")
    return _repo_by_name(name)


def _repo_name(repo: Repository | None) -> str | None:
    return getattr(repo, "name", None)


def load_artifact(artifact_id: str, repo_name: str | None = None) -> Artifact:
    """Load the Artifact with ``artifact_id`` from the default repository, or, when it is
    not there, from the configured repository ``repo_name`` it was pickled from (inside
    ``capture_set`` it joins the set)."""
    repo = default_repo()
    artifact = repo.lookup(artifact_id)
    if artifact is None and repo_name is not None and repo_name != repo.name:
        artifact = repo_named(repo_name).lookup(artifact_id)
    if artifact is None:
        artifact = repo.get_artifact(artifact_id)  # raises ArtifactNotFoundError
    note_artifact(artifact.id)
    return artifact


def coerce_to_artifact(item: Any) -> Artifact:
    """An Artifact from an Artifact, an ArtifactProxy or an artifact id."""
    if isinstance(item, Artifact):
        return item
    if getattr(type(item), "_provkit_proxy", False) is True:
        return item.artifact
    if isinstance(item, str):
        return load_artifact(item)
    raise TypeError(f"expected an Artifact, an ArtifactProxy or an artifact id, got {type(item).__name__}")


def load_proxy(artifact_id: str, repo_name: str | None = None) -> ArtifactProxy:
    """Load the value of ``artifact_id`` as a proxy (from where ``load_artifact`` finds it)."""
    return load_artifact(artifact_id, repo_name).proxy()


def record_id_of(item: Any, context: str = "expected") -> str:
    """The id behind an artifact, proxy, registry record (``_provkit_record``) or id
    string; ``context`` starts the error message for anything else."""
    if getattr(type(item), "_provkit_proxy", False) is True:
        return item.artifact.id
    if isinstance(item, Artifact) or getattr(type(item), "_provkit_record", False) is True:
        return item.id
    if isinstance(item, str):
        return item
    raise TypeError(f"{context} a dataset, execution, artifact, proxy or id, not {type(item).__name__}")
