"""Digests and keyed MACs of stored bytes, checked before anything is deserialized.

Every stored value (blob or inline), every stored inputs pickle and every large input
blob carries a ``Seal``: the xxh3-128 digest of its serialized bytes and, in a signed
repository, an HMAC-SHA256 over a context (what the bytes claim to be: value id,
serializer, load options) and the bytes. ``check`` runs before a serializer sees a
byte; a mismatch is a ``BlobCorruptError`` (an ``UntrustedValueError`` for a missing
or wrong MAC), which a decorated call turns into a recomputation.

The key is never in a config file: ``sign_key_env`` names the environment variable
holding it, and the key never appears in a repr, a log line or an error.
"""

from __future__ import annotations

import hmac
import json
import mmap
import os
from dataclasses import dataclass
from typing import Any

import xxhash

from provkit.core.errors import BlobCorruptError, ConfigError, UntrustedValueError

__all__ = ["Seal", "Signer", "digest", "file_digest", "signer_from_env", "value_context", "inputs_context"]

DIGEST_PREFIX = "xxh3:"
MAC_PREFIX = "hmac-sha256:"
_CHUNK = 8 << 20


@dataclass
class Seal:
    """What the repository row records about the stored bytes of one artifact."""

    value_digest: str | None = None
    value_mac: str | None = None
    inputs_digest: str | None = None
    inputs_mac: str | None = None
    source_hash: str | None = None

    def columns(self) -> dict[str, str | None]:
        return {
            "value_digest": self.value_digest,
            "value_mac": self.value_mac,
            "inputs_digest": self.inputs_digest,
            "inputs_mac": self.inputs_mac,
            "source_hash": self.source_hash,
        }


COLUMNS = tuple(Seal().columns())


def digest(data: Any) -> str:
    """Digest of a bytes-like object (no copy)."""
    return DIGEST_PREFIX + xxhash.xxh3_128_hexdigest(data)


def _mapped(path: str) -> Any:
    """A read-only memory map of a file (None for an empty file)."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return None
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def file_digest(path: str) -> str:
    """Digest of a file's bytes, read through a memory map (no copy)."""
    mapped = _mapped(path)
    if mapped is None:
        return digest(b"")
    with mapped:
        return digest(mapped)


def value_context(value_id: str, serializer: str, load_kwargs: Any) -> bytes:
    """What value bytes claim to be: signed with them, so a row cannot re-label them."""
    kwargs = json.dumps(load_kwargs or {}, sort_keys=True, default=str)
    return f"provkit-value\0{value_id}\0{serializer}\0{kwargs}".encode()


def inputs_context(artifact_id: str) -> bytes:
    return f"provkit-inputs\0{artifact_id}".encode()


def blob_input_context(key: str) -> bytes:
    return f"provkit-input-blob\0{key}".encode()


class Signer:
    """Keyed MACs (HMAC-SHA256) with a key read from the environment."""

    def __init__(self, key: bytes, env: str) -> None:
        if not key:
            raise ConfigError(f"sign_key_env: environment variable {env} is empty")
        self._key = key
        self.env = env

    def mac(self, context: bytes, data: Any) -> str:
        h = hmac.new(self._key, context + b"\0", "sha256")
        h.update(data)
        return MAC_PREFIX + h.hexdigest()

    def file_mac(self, context: bytes, path: str) -> str:
        mapped = _mapped(path)
        if mapped is None:
            return self.mac(context, b"")
        with mapped:
            return self.mac(context, mapped)

    def __repr__(self) -> str:
        return f"<Signer key from ${self.env}=***>"


def signer_from_env(env: str | None) -> Signer | None:
    """The signer for ``sign_key_env`` (None when signing is off)."""
    if env is None:
        return None
    if not isinstance(env, str) or not env:
        raise ConfigError(f"sign_key_env must name an environment variable, got {env!r}")
    key = os.environ.get(env)
    if key is None:
        raise ConfigError(f"sign_key_env: environment variable {env} is not set (it must hold the signing key)")
    return Signer(key.encode(), env)


def seal_bytes(signer: Signer | None, context: bytes, data: Any) -> tuple[str, str | None]:
    """(digest, mac) of bytes about to be stored."""
    return digest(data), signer.mac(context, data) if signer is not None else None


def seal_file(signer: Signer | None, context: bytes, path: str) -> tuple[str, str | None]:
    """(digest, mac) of a file about to be stored (one pass each, through a memory map)."""
    mapped = _mapped(path)
    if mapped is None:
        return seal_bytes(signer, context, b"")
    with mapped:
        return seal_bytes(signer, context, mapped)


def check(
    data: Any, recorded_digest: str | None, recorded_mac: str | None, signer: Signer | None, context: bytes, what: str
) -> None:
    """Raise unless ``data`` (bytes-like) is what the row recorded.

    Signed repositories require a MAC (a missing one is refused: the bytes may have been
    planted); unsigned ones check the digest when the row has one (older rows have none).
    """
    if signer is not None:
        if recorded_mac is None:
            raise UntrustedValueError(f"{what} carries no signature and this repository is signed: refused")
        if not hmac.compare_digest(signer.mac(context, data), recorded_mac):
            raise UntrustedValueError(f"{what} fails its signature check (tampered, or signed with another key)")
        return
    if recorded_digest is not None and digest(data) != recorded_digest:
        size = len(data)
        raise BlobCorruptError(f"{what} is corrupt: its {size} bytes do not match the recorded digest")


def check_file(
    path: str, recorded_digest: str | None, recorded_mac: str | None, signer: Signer | None, context: bytes, what: str
) -> None:
    """``check`` over a local file (through a memory map)."""
    if signer is None and recorded_digest is None:
        return
    mapped = _mapped(path)
    if mapped is None:
        check(b"", recorded_digest, recorded_mac, signer, context, what)
        return
    with mapped:
        check(mapped, recorded_digest, recorded_mac, signer, context, what)
