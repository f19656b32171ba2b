"""Verify a repository: re-hash every blob (streaming), find missing, corrupt and orphan
blobs and rows whose inputs are gone; with ``repair`` copy good copies over bad ones in
a chained store, and mark what cannot be repaired (``damaged`` marks).

A value blob (and an inputs blob) is checked against the digest its row recorded (rows
older than digests are only checked for presence); a file artifact's file against its
content key; a value or inputs pickle kept inline in the row against its digest (and its
MAC in a signed repository). Each copy in each member of a chained store is hashed once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import xxhash

from provkit.core.errors import BlobCorruptError
from provkit.core.hashing import ALGORITHM_ID
from provkit.core.integrity import DIGEST_PREFIX, check, inputs_context, value_context
from provkit.services.lifecycle import blobs
from provkit.services.lifecycle.gc import _live_keys, inventory_for
from provkit.services.lifecycle.marks import marks_for
from provkit.services.lifecycle.pins import resolve_repo
from provkit.services.lifecycle.rows import Inline
from provkit.storage.blobstores.base import BlobStore
from provkit.storage.repos.base import Repository
from provkit.storage.repos.extensions import is_feature_record

__all__ = ["Problem", "VerifyReport", "verify"]

_CHUNK = 256 << 10  # small enough that each piece is hashed while still in the CPU cache


@dataclass
class Problem:
    """One thing wrong: ``kind`` is missing, corrupt, orphan or missing_input."""

    kind: str
    key: str
    record_id: str | None
    detail: str
    repaired: bool = False


@dataclass
class VerifyReport:
    rows: int = 0
    blobs: int = 0
    bytes: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is left wrong (repaired problems do not count)."""
        return all(p.repaired for p in self.problems)

    @property
    def bytes_per_second(self) -> float:
        return self.bytes / self.seconds if self.seconds > 0 else 0.0

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)

    def to_dict(self) -> dict:
        return {
            "ok": self.ok, "rows": self.rows, "blobs": self.blobs, "bytes": self.bytes, "seconds": self.seconds,
            "bytes_per_second": self.bytes_per_second,
            "problems": [p.__dict__ for p in self.problems],
        }  # fmt: skip


def _hash_copy(leaf: BlobStore, key: str, file_key: bool, progress: Callable[[int], None] | None) -> tuple[str, int]:
    """(digest, size) of one stored copy, streamed; the digest is a file key for files."""
    hasher = xxhash.xxh3_128(b"file:") if file_key else xxhash.xxh3_128()
    size = 0
    src = leaf.source(key)
    fh = open(src, "rb", buffering=0) if isinstance(src, str) else src  # noqa: SIM115 - closed below
    try:
        buf = bytearray(_CHUNK)
        view = memoryview(buf)
        while True:
            n = fh.readinto(view) if hasattr(fh, "readinto") else 0
            if not n:
                if not hasattr(fh, "readinto"):
                    data = fh.read()
                    hasher.update(data)
                    size += len(data)
                    if progress:
                        progress(len(data))
                break
            hasher.update(view[:n])
            size += n
            if progress:
                progress(n)
    finally:
        fh.close()
    prefix = ALGORITHM_ID if file_key else DIGEST_PREFIX
    return prefix + hasher.hexdigest(), size


def _expected(repo: Repository, row: Any, artifact: Any, store_keys: set[str]) -> list[tuple[str, str | None, bool]]:
    """(key, expected digest or None, is a file key) of each blob ``row`` names."""
    out: list[tuple[str, str | None, bool]] = []
    seal = artifact._seal if artifact is not None else None
    if row.value_blob and row.kind != "files":
        out.append((row.value_id, seal.value_digest if seal is not None else None, False))
    if row.inputs_blob and row.id in store_keys:  # the inputs pickle, too big to keep in the row
        out.append((row.id, seal.inputs_digest if seal is not None else None, False))
    if row.custom_fields:
        for key in (row.custom_fields.get("file_hashes") or {}).values():
            out.append((str(key), str(key).split(".", 1)[0], True))
    return out


def verify(
    repo: Repository | str | None = None,
    *,
    repair: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Check every blob and row of the repository; see the module docstring.

    ``progress(done_bytes, total_bytes)`` is called as bytes are hashed."""
    repo = resolve_repo(repo)
    t0 = time.perf_counter()
    report = VerifyReport()
    inventory = inventory_for(repo)
    store = repo.store
    leaves = [s for s in blobs.members(store) if s.read] if store is not None else []
    store_keys = set(blobs.iter_keys(store)) if store is not None else set()
    rows = list(inventory.rows())
    present_ids = {r.id for r in rows}
    wanted: dict[str, tuple[str | None, bool, str]] = {}  # key -> (digest, file key, a record naming it)
    for row in rows:
        report.rows += 1
        blobs_named = (row.value_blob and row.kind != "files") or (row.inputs_blob and row.id in store_keys)
        artifact = repo.lookup(row.id) if blobs_named else None  # its seal: the digests to expect
        for key, expected, file_key in _expected(repo, row, artifact, store_keys):
            if key not in wanted or wanted[key][0] is None:
                wanted[key] = (expected, file_key, row.id)
    for payload in inventory.inline_payloads():
        report.problems.extend(_check_inline(repo, payload))
    names = {r.id: r.name for r in rows}
    for child, parent in inventory.dangling_edges():
        if child in present_ids and parent not in present_ids and not _feature_exists(repo, parent):
            detail = f"{child} ({names[child]}) was made from {parent}, which is gone"
            report.problems.append(Problem("missing_input", parent, child, detail))
    total = sum(blobs.blob_size(store, k) for k in wanted if k in store_keys) if store is not None else 0
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    for key, (expected, file_key, record_id) in sorted(wanted.items()):
        holders = [leaf for leaf in leaves if leaf._exists(key)]
        if not holders:
            report.problems.append(Problem("missing", key, record_id, f"no store holds blob {key}"))
            continue
        good, bad = None, []
        for leaf in holders:
            got, size = _hash_copy(leaf, key, file_key, advance)
            report.blobs += 1
            report.bytes += size
            if expected is None or got == expected:
                good = good or leaf
            else:
                bad.append(leaf)
        for leaf in bad:
            problem = Problem("corrupt", key, record_id, f"blob {key} in {leaf!r} does not match its recorded digest")
            if repair and good is not None and leaf.write:
                leaf.copy_from(good, key, overwrite=True)
                problem.repaired = _hash_copy(leaf, key, file_key, None)[0] == expected
            report.problems.append(problem)
    for key in sorted(store_keys - _live_keys(inventory, set(), store_keys)):
        report.problems.append(Problem("orphan", key, None, f"blob {key} is named by no row (`provkit gc` removes it)"))
    if repair:
        marks = marks_for(repo)
        for problem in report.problems:
            if not problem.repaired and problem.record_id is not None and problem.kind in ("missing", "corrupt"):
                marks.add(problem.record_id, "damaged", problem.detail, None)
    report.seconds = time.perf_counter() - t0
    return report


def _check_inline(repo: Repository, payload: Inline) -> list[Problem]:
    """The value and inputs bytes kept in the row itself, against their recorded digests
    (and MACs in a signed repository)."""
    out = []
    seal = payload.seal
    value_ctx = value_context(payload.value_id, payload.serializer, payload.load_kwargs)
    parts = (("value", payload.value_bytes, seal.value_digest, seal.value_mac, value_ctx, payload.value_id),
             ("inputs", payload.inputs_bytes, seal.inputs_digest, seal.inputs_mac, inputs_context(payload.id),
              payload.id))  # fmt: skip
    for what, data, recorded, mac, context, key in parts:
        if data is None:
            continue
        try:
            check(data, recorded, mac, repo.signer, context, f"the inline {what} of {payload.id} ({payload.name})")
        except BlobCorruptError as exc:  # UntrustedValueError included
            out.append(Problem("corrupt", key, payload.id, str(exc)))
    return out


def _feature_exists(repo: Repository, record_id: str) -> bool:
    if not is_feature_record(record_id):
        return False
    from provkit.services.lineage import get_record

    try:
        get_record(repo, record_id)
    except Exception:
        return False
    return True
