"""Writing and reading a repository's stored bytes, sealed and checked before use.

Writing records a ``Seal`` (digest, and MAC in a signed repository) of exactly the
bytes that went to the store or into the row. Reading checks those bytes before a
serializer sees them; in a signed repository the bytes are read into memory once and
deserialized from there, so what was checked is what gets unpickled.
"""

from __future__ import annotations

import io
import os
import tempfile
from typing import TYPE_CHECKING, Any

from xxhash import xxh3_128_hexdigest as _hexdigest

from provkit.core import file_cache
from provkit.core.errors import BlobCorruptError, BlobMissingError, SerializationError, UntrustedValueError
from provkit.core.integrity import (
    DIGEST_PREFIX,
    Seal,
    blob_input_context,
    check,
    check_file,
    digest,
    file_digest,
    inputs_context,
    seal_bytes,
    seal_file,
    value_context,
)
from provkit.core.serializers import Serializer, get_serializer
from provkit.storage.blobstores.base import BlobStore
from provkit.storage.blobstores.chained import ChainedStore

if TYPE_CHECKING:
    from provkit.core.artifacts import Artifact
    from provkit.storage.repos.base import Repository

#: serializers whose reader takes an in-memory file (the built-ins); others get a private temp file
_IN_MEMORY = frozenset({"joblib", "cloudpickle", "json", "npy", "pd_df_parquet", "pd_series_parquet", "file"})


def seal_of(artifact: Artifact) -> Seal:
    seal = artifact._seal
    if seal is None:
        seal = artifact._seal = Seal()
    return seal


def _value_ctx(artifact: Artifact) -> bytes:
    return value_context(artifact.value_id, artifact.serializer, artifact.load_kwargs)


def _what(artifact: Artifact, store: Any = None) -> str:
    where = f" in {store!r}" if store is not None else ""
    return f"value {artifact.value_id} of artifact {artifact.id} ({artifact.name}){where}"


# ---- writing ------------------------------------------------------------------------


def _existing_digest(store: BlobStore, key: str) -> str:
    """Digest of a blob already in the store (written by another artifact with this value)."""
    src = store.source(key)
    if isinstance(src, str):
        return file_digest(src)
    with src:
        return digest(src.read())


def store_value(repo: Repository, artifact: Artifact, value: Any, estimated: int, repair: bool) -> None:
    """Serialize ``value`` inline or to the blob store, recording its seal."""
    serializer = get_serializer(artifact.serializer)
    kwargs = artifact.dump_kwargs or {}
    store, signer, seal = repo.store, repo.signer, seal_of(artifact)
    ctx = _value_ctx(artifact)
    # a signed repository trusts no blob it did not just write: it always rewrites
    rewrite = repair or signer is not None
    try:
        if store is not None and estimated > repo.inline_max_bytes:
            if rewrite or not store.exists(artifact.value_id):
                with store.staged(artifact.value_id, overwrite=rewrite) as path:
                    serializer.dump(value, path, **kwargs)
                    seal.value_digest, seal.value_mac = seal_file(signer, ctx, path)
            else:
                seal.value_digest, seal.value_mac = _existing_digest(store, artifact.value_id), None
            return
        data = serializer.to_bytes(value, **kwargs)
    except SerializationError:
        raise
    except Exception as exc:
        raise SerializationError(
            f"serializer {serializer.name!r} could not write the value of {artifact.name} "
            f"({type(value).__qualname__}): {exc}",
            serializer=serializer.name,
        ) from exc
    seal.value_digest, seal.value_mac = seal_bytes(signer, ctx, data)
    if len(data) <= repo.inline_max_bytes or store is None:
        artifact._value_bytes = data
    elif rewrite or not store.exists(artifact.value_id):
        store.put_bytes(artifact.value_id, data, overwrite=rewrite)
    else:
        seal.value_digest = _existing_digest(store, artifact.value_id)


def store_file(repo: Repository, artifact: Artifact, path: str, repair: bool) -> None:
    """Store a file's bytes as the value (its value id is its content hash)."""
    seal = seal_of(artifact)
    seal.value_digest, seal.value_mac = seal_file(repo.signer, _value_ctx(artifact), path)
    store = repo.store
    if store is None:
        with open(path, "rb") as fh:
            artifact._value_bytes = fh.read()
        return
    rewrite = repair or repo.signer is not None
    if rewrite or not store.exists(artifact.value_id):
        store.put_file(artifact.value_id, path, overwrite=rewrite)


def seal_inputs(repo: Repository, artifact: Artifact, payload: bytes) -> None:
    seal = seal_of(artifact)
    seal.inputs_digest, seal.inputs_mac = seal_bytes(repo.signer, inputs_context(artifact.id), payload)


def store_input_blob(repo: Repository, store: BlobStore, key: str, value: Any) -> tuple:
    """Write a large input once (by content key); the persistent id carries its seal."""
    signer = repo.signer
    ctx = blob_input_context(key)
    if signer is None and store.exists(key):
        return ("blob", key, _existing_digest(store, key), None)
    with store.staged(key, overwrite=signer is not None) as path:
        get_serializer("joblib").dump(value, path)
        sealed = seal_file(signer, ctx, path)
    return ("blob", key, *sealed)


# ---- reading ------------------------------------------------------------------------


def _from_memory(serializer: Serializer, data: bytes, kwargs: dict) -> Any:
    if serializer.name in _IN_MEMORY:
        return serializer.load(io.BytesIO(data), **kwargs)
    fd, path = tempfile.mkstemp(prefix="provkit-verified-")  # 0600, ours alone
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return serializer.load(path, **kwargs)
    finally:
        os.unlink(path)


def deserialize(read: Any, what: str, key: str | None) -> Any:
    """Run a reader; a failure on bytes (truncated, garbage) is a BlobCorruptError."""
    try:
        return read()
    except (ImportError, AttributeError, MemoryError, BlobCorruptError, BlobMissingError):
        raise
    except Exception as exc:
        raise BlobCorruptError(f"{what} cannot be read back ({type(exc).__name__}: {exc})", key=key) from exc


def read_checked(repo: Repository, artifact: Artifact, store: BlobStore, serializer: Serializer) -> Any:
    """Load the value blob from one store, checked against the artifact's seal first."""
    key, kwargs, signer = artifact.value_id, artifact.load_kwargs or {}, repo.signer
    seal = seal_of(artifact)
    what = _what(artifact, store)
    src = store.source(key)
    if serializer.name == "file" and not isinstance(src, str):  # a verified copy in the managed cache
        src = file_cache.fetch(key, src, what)
    if isinstance(src, str) and (signer is None or serializer.name == "file"):
        check_file(src, seal.value_digest, seal.value_mac, signer, _value_ctx(artifact), what)
        return deserialize(lambda: serializer.load(src, **kwargs), what, key)
    data = _read_all(src)
    check(data, seal.value_digest, seal.value_mac, signer, _value_ctx(artifact), what)
    return deserialize(lambda: _from_memory(serializer, data, kwargs), what, key)


#: small inline values of immutable types, by their stored bytes: (serializer, digest, value)
_LOADED: dict[bytes, tuple[str, str, Any]] = {}
_LOADED_MAX_ENTRIES, _LOADED_MAX_BYTES = 1024, 512
_IMMUTABLE = frozenset({int, float, complex, str, bytes, bool, type(None)})


def _immutable(value: Any) -> bool:
    kind = type(value)
    if kind is tuple or kind is frozenset:
        return all(type(item) in _IMMUTABLE for item in value)
    return kind in _IMMUTABLE


def _keep(data: bytes, serializer: str, value: Any) -> None:
    if len(data) <= _LOADED_MAX_BYTES and _immutable(value):
        if len(_LOADED) >= _LOADED_MAX_ENTRIES:
            _LOADED.clear()
        _LOADED[data] = (serializer, digest(data), value)


def load_value(repo: Repository, artifact: Artifact) -> Any:
    """The artifact's value: inline bytes or the first good copy of its blob.

    A corrupt copy in a chained store is skipped and replaced from a good one. Small
    inline values of immutable types (numbers, strings, tuples of them) are kept by their
    bytes once read and checked: the same bytes with the same digest give the same value
    (equal bytes under another recorded digest are checked, and refused, as usual)."""
    data = artifact._value_bytes
    seal = artifact._seal or seal_of(artifact)
    if type(data) is bytes and repo.signer is None:  # the cache-hit hot path, kept lean
        kept = _LOADED.get(data)
        if kept is not None and kept[0] == artifact.serializer and not artifact.load_kwargs:
            recorded = seal.value_digest
            if recorded is None or recorded == kept[1]:
                return kept[2]
    serializer = get_serializer(artifact.serializer)
    kwargs = artifact.load_kwargs or {}
    if data is not None:
        recorded = seal.value_digest
        if repo.signer is not None or (recorded is not None and recorded != DIGEST_PREFIX + _hexdigest(data)):
            what = "inline " + _what(artifact)
            check(data, seal.value_digest, seal.value_mac, repo.signer, _value_ctx(artifact), what)
        try:
            value = serializer.from_bytes(data, **kwargs)
        except Exception:
            what = "inline " + _what(artifact)
            return deserialize(lambda: serializer.from_bytes(data, **kwargs), what, artifact.value_id)
        if type(data) is bytes and repo.signer is None and not kwargs:
            _keep(data, artifact.serializer, value)
        return value
    key = artifact.value_id
    store = repo.store
    if store is None:
        raise BlobMissingError(f"{repo!r} has no blob store for value {key}", key=key)
    chain = store if isinstance(store, ChainedStore) else None
    candidates = list(chain.stores_with(key)) if chain is not None else [store]
    corrupt: list[BlobStore] = []
    errors: list[BlobCorruptError] = []
    for candidate in candidates:
        try:
            value = read_checked(repo, artifact, candidate, serializer)
        except BlobMissingError:
            continue
        except BlobCorruptError as exc:
            corrupt.append(candidate)
            errors.append(exc)
            continue
        if seal.value_digest is None and not repo._matches(value, artifact, serializer):
            corrupt.append(candidate)  # an older row without a digest: check by value id
            continue
        if serializer.name == "file":
            value._value_id, value._artifact_name = artifact.value_id, artifact.name
        if chain is not None:
            chain.copy_back(key, candidate)
            for bad in corrupt:
                chain.replace_bad_copy(key, bad, candidate)
        return value
    if corrupt:
        cls = UntrustedValueError if errors and all(isinstance(e, UntrustedValueError) for e in errors) else None
        detail = "".join(f" [{e}]" for e in errors)
        message = f"{_what(artifact)} is corrupt in {corrupt!r}: its content no longer matches its value id{detail}"
        raise (cls or BlobCorruptError)(message, key=key)
    raise BlobMissingError(f"{_what(artifact)} is missing from {store!r}", key=key)


def inputs_bytes(repo: Repository, artifact: Artifact) -> bytes | None:
    """The stored inputs pickle (inline or blob), checked; None when none was stored."""
    data = artifact._inputs_bytes
    if data is None:
        if repo.store is None or not repo.store.exists(artifact.id):
            return None
        data = repo.store.get_bytes(artifact.id)
    seal = seal_of(artifact)
    what = f"stored inputs of artifact {artifact.id} ({artifact.name})"
    check(data, seal.inputs_digest, seal.inputs_mac, repo.signer, inputs_context(artifact.id), what)
    return data


def load_input_blob(repo: Repository, pid: tuple) -> Any:
    """A large input referenced from an inputs pickle, checked against the seal it carries."""
    key = pid[1]
    recorded_digest, recorded_mac = (pid[2], pid[3]) if len(pid) >= 4 else (None, None)
    store = repo.store
    assert store is not None
    what = f"stored input blob {key}"
    src = store.source(key)
    data = _read_all(src)
    check(data, recorded_digest, recorded_mac, repo.signer, blob_input_context(key), what)
    joblib = get_serializer("joblib")
    return deserialize(lambda: joblib.load(io.BytesIO(data)), what, key)


def _read_all(src: Any) -> bytes:
    """All bytes of a store source: a local path or an open binary stream (closed after)."""
    if isinstance(src, str):
        with open(src, "rb") as fh:
            return fh.read()
    with src:
        return src.read()
