"""``@provenance()``: cache a function's results and record where they came from.

A call goes: bind arguments -> (merge defaults, process, remove) -> hash each input
-> artifact id = hash(name, version, input hashes) -> repository lookup. A hit loads
the value; a miss calls the function, checks it did not mutate its arguments, hashes
the value (value id), stores blob then record, and returns an ``ArtifactProxy``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from provkit.core import hashing
from provkit.core.artifacts import Artifact, ArtifactProxy
from provkit.core.capture import capturing, note_artifact
from provkit.core.errors import (
    BlobCorruptError,
    BlobMissingError,
    ConfigError,
    HashingError,
    ImpureFunctionError,
    MutatedArtifactValueError,
    NotProxyError,
)
from provkit.core.files import FILE_SERIALIZER
from provkit.core.runs import current_run_info, current_task_key, current_user
from provkit.core.serializers import get_serializer
from provkit.core.source_check import auto_version, check_source, own_source_hash, source_hash
from provkit.services import single_flight
from provkit.services.archiving import archive_file
from provkit.services.inputs import Binder, storable, summarize_inputs
from provkit.services.lifecycle.stats import note_hit, note_miss
from provkit.services.storing import store_composite, store_file, store_value
from provkit.storage import settings
from provkit.storage.batching import current_batch
from provkit.storage.repos.base import Repository
from provkit.storage.repos.values import seal_of

__all__ = ["provenance", "ensure_proxies", "archive_file", "TrackedFunction"]

_perf = time.perf_counter
_IDS_KEPT = 1024  # artifact ids remembered per decorated function
_BIG = 2**63
_ABSENT, _BROKEN = object(), object()  # what TrackedFunction._cached returns instead of a hit


def _names(value: Iterable[str] | None, what: str, binder: Binder, fn: Callable) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [value]
    names = frozenset(value)
    has_var_kw = any(p.kind is p.VAR_KEYWORD for p in binder.signature.parameters.values())
    unknown = sorted(n for n in names if n not in binder.names)
    if unknown and not has_var_kw:
        raise ConfigError(f"{what} names unknown parameter(s) {unknown} of {fn.__qualname__}{binder.signature}")
    return names


class TrackedFunction:
    """The state behind one decorated function (what the wrapper calls)."""

    def __init__(self, fn: Callable, **options: Any) -> None:
        self.fn = fn
        self._options = options
        self.binder = binder = Binder(fn)
        version = options["version"]
        if version != "auto" and (not isinstance(version, int) or isinstance(version, bool)):
            raise ConfigError(f'version of {fn.__qualname__} must be an int or "auto", got {version!r}')
        self.auto_version = version == "auto"
        # what the artifact id is keyed by: the version, or (auto) the source hash at first use
        self._version: int | None = None if self.auto_version else version
        self._key_version: int | str | None = self._version
        self.fn_module = fn.__module__
        self.fn_name = fn.__name__
        self.name = options["name"] or f"{fn.__module__}.{fn.__qualname__}"
        self.repo = options["repo"]
        self.ignore = _names(options["ignore"], "ignore", binder, fn)
        self.remove = _names(options["remove"], "remove", binder, fn)
        merge = options["merge_defaults"]
        if merge is True:
            merge = [n for n, d in binder.defaults.items() if isinstance(d, dict)]
        self.merge_defaults = _names(merge or None, "merge_defaults", binder, fn)
        for n in self.merge_defaults:
            if not isinstance(binder.defaults.get(n), dict):
                raise ConfigError(f"merge_defaults: parameter {n!r} of {fn.__qualname__} has no dict default")
        self.input_hash_fn = options["input_hash_fn"]
        self.input_process_fn = options["input_process_fn"]
        self.archive_file = bool(options["archive_file"])
        self.delete_original_file = bool(options["delete_original_file"])
        self.preserve_file_ext = bool(options["preserve_file_ext"])
        self.returns_composite = bool(options["returns_composite"])
        custom_fields = dict(options["custom_fields"] or {})
        if options["tags"] is not None:
            tags = options["tags"]
            custom_fields["tags"] = [tags] if isinstance(tags, str) else sorted(tags)
        self.custom_fields = custom_fields
        self.serializer = options["serializer"]
        if self.archive_file and self.serializer not in (None, FILE_SERIALIZER):
            raise ConfigError(f"{fn.__qualname__}: archive_file=True stores files; drop serializer={self.serializer!r}")
        self.load_kwargs = options["load_kwargs"]
        self.dump_kwargs = options["dump_kwargs"]
        _check_serializers(self.name, self.serializer, self.returns_composite)
        self.use_cache = options["use_cache"]
        self.read_only = options["read_only"]
        self.single_flight = options.get("single_flight")
        if self.single_flight is not None and not isinstance(self.single_flight, bool):
            raise ConfigError(f"single_flight of {fn.__qualname__} must be True, False or None")
        self._source_hash: str | None = None
        self._own_hash: str | None = None  # of the function's own source alone (read on a mismatch)
        self._last_compute: float | None = None  # seconds the last computation took (single-flight)
        self._plain_name = type(self.name) is str
        self._plain = not (
            self.merge_defaults or self.input_process_fn or self.remove or self.ignore or self.input_hash_fn
        )
        self._ids: dict[tuple, str] = {}  # (argument hashes, positional hashes) -> artifact id
        # positional calls of plain ints and strs -> artifact id (equal such tuples hash alike)
        plain_call = self._plain and self.input_hash_fn is None and binder.simple and not self.merge_defaults
        self._by_args: dict[tuple, str] | None = {} if plain_call else None

    def __reduce__(self) -> tuple:
        """Pickle as the function and its options (a repository by name), plus the source
        hash taken here: a worker that cannot read the source still records the same one."""
        return (_rebuild_tracked, (self.fn, self._options, self.source_hash))

    # ---- the call path ---------------------------------------------------------------
    def resolve_repo(self) -> Repository:
        repo = self.repo
        if repo is None:
            return settings.get_default_repo()
        if isinstance(repo, str):
            return settings.get_repo_by_name(repo)
        return repo

    def _hash_inputs(self, kargs: dict, varargs: tuple) -> tuple[dict, tuple, list]:
        """Per-argument hashes of the inputs and the proxies found in them."""
        proxies: list = []
        karg_hashes: dict[str, str] = {}
        for name, value in kargs.items():
            try:
                key, found = hashing.hash_with_proxies(value)
            except HashingError as exc:
                raise HashingError(f"argument {name!r} of {self.name}: {exc}", argument=name) from exc
            if found:
                proxies.extend(found)
            if name not in self.ignore:
                karg_hashes[name] = key
        vararg_hashes = []
        for i, value in enumerate(varargs):
            try:
                key, found = hashing.hash_with_proxies(value)
            except HashingError as exc:
                raise HashingError(f"positional argument {i} of {self.name}: {exc}", argument=f"*{i}") from exc
            proxies.extend(found)
            vararg_hashes.append(key)
        return karg_hashes, tuple(vararg_hashes), proxies

    def _check_proxies(self, proxies: list, kargs: dict) -> None:
        for proxy in proxies:
            if not hashing.is_proxy(proxy):
                continue  # a registry record: nothing to mutate
            artifact = proxy.artifact
            if hashing.hash(proxy.__wrapped__) != artifact.value_id:
                names = ",".join(n for n, v in kargs.items() if v is proxy) or "nested"
                raise MutatedArtifactValueError(
                    f"Artifact {artifact.id}, of type {type(proxy.__wrapped__)} was mutated before being "
                    f"passed to {self.name} as arguments ({names})",
                    artifact_id=artifact.id,
                )

    def __call__(self, args: tuple, kwargs: dict) -> Any:
        t0 = _perf()
        by_args = self._by_args
        if by_args is not None and not kwargs and _simple(args):  # a repeat: its id is known
            artifact_id = by_args.get(args)
            if artifact_id is not None and (settings.get_use_cache() if self.use_cache is None else self.use_cache):
                result = self._cached(self.resolve_repo(), artifact_id, t0)
                if result is not _ABSENT and result is not _BROKEN:
                    return result  # else the full path below computes (and repairs)
        return self._call(t0, args, kwargs)

    def _cached(self, repo: Repository, artifact_id: str, t0: float) -> Any:
        """The cached result; ``_ABSENT`` when the repository has no such artifact,
        ``_BROKEN`` when no good copy of its value is left."""
        artifact = repo.lookup(artifact_id)
        if artifact is None:
            return _ABSENT
        try:
            result = self._hit(repo, artifact)
        except (BlobMissingError, BlobCorruptError):
            return _BROKEN
        note_hit(self.name, artifact, _perf() - t0)
        return result

    def bind_inputs(self, args: tuple, kwargs: dict) -> tuple[dict, tuple, dict, tuple]:
        """(kargs, varargs) the function is called with and (kargs, varargs) recorded and
        hashed: defaults merged, ``input_process_fn`` applied, ``remove`` dropped."""
        kargs, varargs = self.binder.bind(args, kwargs)
        for n in self.merge_defaults:
            if isinstance(kargs.get(n), dict):
                kargs[n] = {**self.binder.defaults[n], **kargs[n]}
        if self._plain:
            return kargs, varargs, kargs, varargs
        inputs = {"kargs": kargs, "varargs": varargs}
        if self.input_process_fn is not None:
            inputs = self.input_process_fn({"kargs": dict(kargs), "varargs": tuple(varargs)})
        recorded_kargs = {k: v for k, v in inputs["kargs"].items() if k not in self.remove}
        return kargs, varargs, recorded_kargs, tuple(inputs["varargs"])

    def _call(self, t0: float, args: tuple, kwargs: dict) -> Any:
        kargs, varargs, recorded_kargs, recorded_varargs = self.bind_inputs(args, kwargs)
        karg_hashes, vararg_hashes, proxies = self._hash_inputs(recorded_kargs, recorded_varargs)
        if proxies and settings.get_check_mutations():
            self._check_proxies(proxies, recorded_kargs)
        artifact_id = self.artifact_id(karg_hashes, vararg_hashes)
        if self._by_args is not None and not kwargs and len(args) == len(self.binder.names) and _simple(args):
            if len(self._by_args) >= _IDS_KEPT:
                self._by_args.clear()
            self._by_args[args] = artifact_id
        hash_duration = _perf() - t0

        repo = self.resolve_repo()
        use_cache = settings.get_use_cache() if self.use_cache is None else self.use_cache
        repair = False
        if use_cache:
            result = self._cached(repo, artifact_id, t0)
            if result is _BROKEN:
                repair = True  # no good copy of the value is left: recompute, store again
            elif result is not _ABSENT:
                return result
        if use_cache and not repair and self._single_flight(repo):  # one computation across processes
            result = single_flight.run(repo, artifact_id, self.name, lambda: self._miss(
                repo, artifact_id, kargs, varargs, recorded_kargs, recorded_varargs, karg_hashes, vararg_hashes,
                proxies, hash_duration, repair=False, uncached=False,
            ), functools.partial(self._hit, repo))  # fmt: skip
        else:
            result = self._miss(
                repo, artifact_id, kargs, varargs, recorded_kargs, recorded_varargs, karg_hashes, vararg_hashes,
                proxies, hash_duration, repair=repair, uncached=not use_cache,
            )  # fmt: skip
        self._last_compute = result.artifact.compute_duration
        note_miss(self, repo, result.artifact, _perf() - t0)
        return result

    def artifact_id(self, karg_hashes: dict, vararg_hashes: tuple) -> str:
        """The artifact id of a call: hash(name, version or auto source hash, input hashes)
        (remembered per input hashes: calls repeat)."""
        version = self._key_version
        if version is None:
            version = self._key_version = self.source_hash  # version="auto": read once, at first use
        if self.input_hash_fn is None:  # name, version and hashes: plain str/int, keyed directly
            seen = (tuple(karg_hashes.items()), vararg_hashes)
            found = self._ids.get(seen)
            if found is None:
                key = ("provkit.artifact", self.name, version, tuple(sorted(karg_hashes.items())), vararg_hashes)
                found = hashing.plain_key(key) if self._plain_name else hashing.hash(key)
                if len(self._ids) >= _IDS_KEPT:
                    self._ids.clear()
                self._ids[seen] = found
            return found
        hashes = self.input_hash_fn({"kargs": karg_hashes, "varargs": vararg_hashes})
        items = tuple(sorted(hashes["kargs"].items()))
        return hashing.hash(("provkit.artifact", self.name, version, items, tuple(hashes["varargs"])))

    @property
    def version(self) -> int:
        """The recorded version (``version="auto"``: 31 bits of the source hash)."""
        if self._version is None:
            self._version = auto_version(self.source_hash)
        return self._version

    def _single_flight(self, repo: Repository) -> bool:
        if self.single_flight is False or not repo.write or current_batch() is not None:
            return False  # inside p.batch() rows wait for the batch's commit: a lease would commit them
        if settings.get_read_only() if self.read_only is None else self.read_only:
            return False
        return self.single_flight or single_flight.worth_a_lease(self._last_compute)

    @property
    def source_hash(self) -> str:
        """The hash of the function's source and its callees' (computed once per process,
        never per call), recorded with its artifacts."""
        if self._source_hash is None:
            self._source_hash = source_hash(self.fn)
        return self._source_hash

    def _hit(self, repo: Repository, artifact: Artifact) -> Any:
        seal = artifact._seal
        if seal is not None and seal.source_hash is not None and seal.source_hash != self.source_hash:
            if self._own_hash is None:  # artifacts recorded before callees counted have this one
                self._own_hash = own_source_hash(self.fn)
            if seal.source_hash != self._own_hash:
                check_source(self.name, self.version, seal.source_hash, self.source_hash)
        value = repo.proxy_value(artifact) if artifact.composite else repo.load_value(artifact)
        return ArtifactProxy(value, artifact)

    def _miss(self, repo: Repository, artifact_id: str, kargs: dict, varargs: tuple, recorded_kargs: dict,
              recorded_varargs: tuple, karg_hashes: dict, vararg_hashes: tuple, proxies: list,
              hash_duration: float, *, repair: bool, uncached: bool) -> Any:  # fmt: skip
        before = self._raw_hashes(
            kargs, varargs, recorded_kargs, recorded_varargs, karg_hashes, vararg_hashes, fresh=True
        )
        computed_at = datetime.now(timezone.utc)
        t0 = _perf()
        value = self.binder.call(self.fn, kargs, varargs)
        compute_duration = _perf() - t0
        after = self._raw_hashes(kargs, varargs, kargs, varargs, {}, (), fresh=True)
        modified = tuple(k for k in before if before[k] != after.get(k))
        if modified:
            raise ImpureFunctionError(
                f"The {self.fn_module}.{self.fn_name} function modified arguments: ({','.join(modified)})",
                arguments=modified,
            )
        read_only = settings.get_read_only() if self.read_only is None else self.read_only
        run_info = current_run_info()
        artifact = Artifact(
            artifact_id, "", self.name, version=self.version, fn_module=self.fn_module, fn_name=self.fn_name,
            inputs_json=summarize_inputs(recorded_kargs, recorded_varargs, karg_hashes),
            input_artifact_ids=list(dict.fromkeys(p.artifact.id if hashing.is_proxy(p) else p.id for p in proxies)),
            run_id=run_info["id"], custom_fields=self.custom_fields, load_kwargs=self.load_kwargs,
            dump_kwargs=self.dump_kwargs, compute_duration=compute_duration, hash_duration=hash_duration,
            computed_at=computed_at, repo=repo, run_info=run_info, persisted=not read_only, user=current_user(),
            task_key=current_task_key(),
        )  # fmt: skip
        artifact._inputs = {"kargs": recorded_kargs, "varargs": recorded_varargs}
        seal_of(artifact).source_hash = self.source_hash
        stored_inputs = (
            {"kargs": storable(recorded_kargs), "varargs": storable(recorded_varargs)} if proxies else artifact._inputs
        )
        if self.archive_file:
            return store_file(self, repo, artifact, value, stored_inputs, run_info, read_only, uncached, repair)
        if self.returns_composite:
            return store_composite(self, repo, artifact, value, stored_inputs, run_info, read_only, uncached)
        return store_value(
            self, repo, artifact, value, stored_inputs, run_info, read_only, repair=repair, uncached=uncached
        )

    def _raw_hashes(self, kargs: dict, varargs: tuple, recorded_kargs: dict, recorded_varargs: tuple,
                    karg_hashes: dict, vararg_hashes: tuple, *, fresh: bool = False) -> dict[str, str]:  # fmt: skip
        """Hashes of the arguments as passed, reusing those already computed.

        ``fresh`` re-hashes what proxies wrap too (after the call, to catch a function
        that mutated an artifact it was given)."""

        def content(value: Any) -> str:
            return hashing.hash(value.__wrapped__ if fresh and hashing.is_proxy(value) else value)

        out: dict[str, str] = {}
        for name, value in kargs.items():
            known = karg_hashes.get(name)
            if known is not None and recorded_kargs.get(name) is value and not (fresh and hashing.is_proxy(value)):
                out[name] = known
            else:
                try:
                    out[name] = content(value)
                except HashingError:
                    continue  # removed/ignored inputs need not be hashable
        for i, value in enumerate(varargs):
            same = i < len(vararg_hashes) and i < len(recorded_varargs) and recorded_varargs[i] is value
            out[f"*{i}"] = vararg_hashes[i] if same and not hashing.is_proxy(value) else content(value)
        return out


def _simple(args: tuple) -> bool:
    """Only ints (not bools) and short strs: for these, equal tuples mean equal keys."""
    for value in args:
        kind = type(value)
        if kind is int:
            if not -_BIG < value < _BIG:
                return False
        elif kind is not str or len(value) > 256:
            return False
    return True


def _rebuild_tracked(fn: Callable, options: dict, source: str | None) -> TrackedFunction:
    tracked = TrackedFunction(fn, **options)
    tracked._source_hash = source
    return tracked


def _check_serializers(name: str, serializer: Any, composite: bool) -> None:
    """Unknown serializer names fail at decoration (a ValueError, as in provenance)."""
    if serializer is None:
        return
    if composite and isinstance(serializer, Mapping):
        names = list(serializer.values())
    elif isinstance(serializer, str):
        names = [serializer]
    else:
        raise ConfigError(f"serializer of {name} must be a serializer name (or, with returns_composite, a dict)")
    for each in names:
        get_serializer(each)


def provenance(
    version: int | str = 0,
    repo: Repository | str | None = None,
    name: str | None = None,
    merge_defaults: bool | Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    input_hash_fn: Callable[[dict], dict] | None = None,
    remove: Iterable[str] | None = None,
    input_process_fn: Callable[[dict], dict] | None = None,
    archive_file: bool = False,
    delete_original_file: bool = False,
    preserve_file_ext: bool = False,
    returns_composite: bool = False,
    custom_fields: dict | None = None,
    serializer: str | None = None,
    load_kwargs: dict | None = None,
    dump_kwargs: dict | None = None,
    use_cache: bool | None = None,
    read_only: bool | None = None,
    tags: Iterable[str] | None = None,
    single_flight: bool | None = None,
) -> Callable[[Callable], Callable]:
    """Cache a function's results by value of its inputs and record their lineage.

    Returns values wrapped in ``ArtifactProxy``; see the README for every parameter.
    ``version="auto"`` makes the source the version: the artifact id is keyed by the hash
    of the function's source and of the functions and classes it calls in the same
    top-level package (for a script or top-level module: the modules in its folder),
    found statically through its globals and closure, recursively. Not seen: methods called
    on instances, functions passed as arguments or looked up by name, module constants,
    data files, other packages. The hash is read once per process, at the first call.
    ``single_flight=False`` lets every process that misses compute (no lease); None
    follows the global setting (``single_flight`` config key, on by default).
    ``@provenance`` without parentheses is the same as ``@provenance()``.
    """
    if callable(version):  # @provenance without parentheses: ``version`` is the function
        return provenance()(version)
    options = dict(locals())

    def decorator(fn: Callable) -> Callable:
        tracked = TrackedFunction(fn, **options)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = tracked(args, kwargs)
            if capturing():  # inside capture_set: join the set
                note_artifact(result.artifact.id)
            return result

        wrapper._provkit = tracked  # type: ignore[attr-defined]
        return wrapper

    return decorator


def ensure_proxies(*parameters: str) -> Callable[[Callable], Callable]:
    """Require the named parameters (all when none are named) to be ArtifactProxies."""

    def decorator(fn: Callable) -> Callable:
        binder = Binder(fn)
        unknown = [p for p in parameters if p not in binder.names]
        if unknown:
            raise ConfigError(f"ensure_proxies names unknown parameter(s) {unknown} of {fn.__qualname__}")
        checked = parameters or tuple(binder.names)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kargs, _ = binder.bind(args, kwargs)
            for name in checked:
                if name in kargs and not hashing.is_proxy(kargs[name]):
                    raise NotProxyError(
                        f"argument {name!r} of {fn.__qualname__} must be an ArtifactProxy, "
                        f"got {type(kargs[name]).__name__}",
                        argument=name,
                    )
            return fn(*args, **kwargs)

        return wrapper

    return decorator
