"""Garbage collection by reachability: keep what a root needs, delete the rest.

Roots are pins, members of artifact sets (all sets, or those whose labels match
``set_labels``), valid registry datasets, artifacts added within ``keep_newer`` and the
newest ``keep_last`` per function name. Everything a root was made from (inputs,
recursively; a composite's members) is kept. A run deletes rows first, then blobs no
row names any more (content-addressed blobs stay while one reference remains), then
orphan blobs and stale staging files.

Concurrency: rows and blobs written less than ``grace`` seconds before gc started are
never deleted, nor are rows that newer rows were made from (checked again just before
deleting). A blob is deleted with the take / re-check / put-back protocol of
``blobs.delete_unreferenced``, and writers check their blobs after committing a row, so
a writer reusing a blob that gc is deleting ends with its row *and* its blob.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from provkit.core.errors import PermissionDeniedError, ProvkitError
from provkit.services.lifecycle import blobs
from provkit.services.lifecycle.marks import marks_for
from provkit.services.lifecycle.pins import resolve_repo
from provkit.services.lifecycle.rows import keys_of
from provkit.storage.repos.base import Repository

__all__ = ["GcReport", "gc", "inventory_for", "parse_age"]

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(age: Any) -> float | None:
    """Seconds from a number, a timedelta or a string such as '90s', '12h', '30d', '2w'."""
    if age is None:
        return None
    if isinstance(age, timedelta):
        return age.total_seconds()
    if isinstance(age, (int, float)) and not isinstance(age, bool) and age >= 0:
        return float(age)
    match = _AGE.match(age) if isinstance(age, str) else None
    if match is None:
        raise ProvkitError(f"an age must be seconds or a string such as '12h', '30d' or '2w', got {age!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def inventory_for(repo: Repository) -> Any:
    """The lifecycle inventory of a memory or SQL repository."""
    if repo.backend == "sql":
        from provkit.services.lifecycle.inventory_sql import SqlInventory

        return SqlInventory(repo)
    if repo.backend == "memory":
        from provkit.services.lifecycle.inventory_memory import MemoryInventory

        return MemoryInventory(repo)
    members = getattr(repo, "repos", None)
    hint = f": run it on each member ({', '.join(repr(m) for m in members)})" if members else ""
    raise ProvkitError(f"gc, du and verify work on a memory or SQL repository, not {repo!r}{hint}")


@dataclass
class GcReport:
    """What a gc run deleted (or, dry, would delete)."""

    dry_run: bool
    roots: dict[str, int] = field(default_factory=dict)
    kept: int = 0
    rows: int = 0
    row_bytes: int = 0
    blobs: int = 0
    blob_bytes: int = 0
    orphan_blobs: int = 0
    orphan_bytes: int = 0
    recent_blobs_kept: int = 0
    sets: int = 0
    staging_files: int = 0
    by_name: dict[str, list[int]] = field(default_factory=dict)  # name -> [rows, bytes]
    deleted_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def bytes(self) -> int:
        return self.row_bytes + self.blob_bytes + self.orphan_bytes

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "deleted_ids"}
        out["bytes"] = self.bytes
        return out

    def __str__(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"gc {verb} {self.rows} rows, {self.blobs} blobs and {self.orphan_blobs} orphan blobs "
            f"({self.bytes} bytes); kept {self.kept} records"
        )


def _set_selected(labels: dict, filters: list[dict] | None) -> bool:
    if filters is None:
        return True
    return any(all(labels.get(k) == v for k, v in f.items()) for f in filters)


def _roots(repo: Repository, set_labels: list[dict] | None, datasets: bool, report: GcReport) -> tuple[set, list]:
    """Root ids (pins, set members, valid datasets) and the sets that are not roots."""
    roots: set[str] = set(marks_for(repo).of_kind("pin"))
    report.roots["pins"] = len(roots)
    loose_sets = []
    members = 0
    for artifact_set in repo._sets_named(None):
        if _set_selected(artifact_set.labels, set_labels):
            roots.update(artifact_set.artifact_ids)
            members += len(artifact_set.artifact_ids)
        else:
            loose_sets.append(artifact_set)
    report.roots["set_members"] = members
    if datasets:
        from provkit.services.registry.placement import tables_for

        valid = [d.id for d in tables_for(repo).find_datasets({"status": "valid"})]
        roots.update(valid)
        report.roots["datasets"] = len(valid)
    return roots, loose_sets


def _composite_members(repo: Repository) -> Any:
    def members(ids: list[str]) -> list[str]:
        out: list[str] = []
        for rid in ids:
            artifact = repo.lookup(rid)
            if artifact is not None:
                out.extend(str(m) for m in dict(repo.load_value(artifact)).values())
        return out

    return members


def gc(
    repo: Repository | str | None = None,
    *,
    dry_run: bool = False,
    keep_newer: Any = None,
    keep_last: int | None = None,
    set_labels: list[dict] | None = None,
    datasets: bool = True,
    grace: Any = 600,
    orphans: bool = True,
    staging_age: Any = 3600,
) -> GcReport:
    """Delete what no root reaches; see the module docstring. Returns a ``GcReport``.

    ``keep_newer``: also keep artifacts added within this age ('30d', seconds, timedelta);
    ``keep_last``: also keep the newest N artifacts of each function name;
    ``set_labels``: only sets whose labels contain one of these dicts are roots (others
    are deleted when a member goes); ``grace``: never touch rows or blobs written this
    recently (concurrent writers); ``dry_run``: report, delete nothing."""
    repo = resolve_repo(repo)
    if keep_last is not None and (not isinstance(keep_last, int) or isinstance(keep_last, bool) or keep_last < 0):
        raise ProvkitError(f"keep_last must be a non-negative int, got {keep_last!r}")
    if set_labels is not None and not all(isinstance(f, dict) for f in set_labels):
        raise ProvkitError(f"set_labels must be a list of label dicts, got {set_labels!r}")
    if not dry_run and not repo.delete_enabled:
        raise PermissionDeniedError(f"gc deletes records: enable delete on {repo!r} (delete: true), or use dry_run")
    t0 = time.perf_counter()
    report = GcReport(dry_run=dry_run)
    inventory = inventory_for(repo)
    now = datetime.now(timezone.utc)
    grace_s = parse_age(grace) or 0.0
    cutoff = now - timedelta(seconds=grace_s)  # rows and blobs newer than this are left alone
    newer = parse_age(keep_newer)
    roots, loose_sets = _roots(repo, set_labels, datasets, report)
    keep = inventory.keep_set(roots, now - timedelta(seconds=newer) if newer is not None else None, keep_last,
                              _composite_members(repo))  # fmt: skip
    doomed = [r for r in inventory.rows() if r.id not in keep and (r.added_at is None or r.added_at < cutoff)]
    if not dry_run:  # rows made since from a doomed row keep it (and its upstream)
        protected = inventory.ancestors_of_new(cutoff)
        doomed = [r for r in doomed if r.id not in protected]
    report.kept = inventory.count() - len(doomed)
    doomed_ids = {r.id for r in doomed}
    store = repo.store
    store_keys = set(blobs.iter_keys(store)) if store is not None else set()
    live = _live_keys(inventory, doomed_ids, store_keys)
    by_name: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    blob_keys: dict[str, str] = {}  # key -> name of the first doomed row naming it
    for row in doomed:
        by_name[row.name][0] += 1
        by_name[row.name][1] += row.inline_bytes
        report.row_bytes += row.inline_bytes
        for key in keys_of(row, store_keys):
            if key not in live and key in store_keys:
                blob_keys.setdefault(key, row.name)
    sizes = {key: blobs.blob_size(store, key) for key in blob_keys} if store is not None else {}
    for key, name in blob_keys.items():
        by_name[name][1] += sizes[key]
    orphan = sorted(store_keys - live - set(blob_keys)) if orphans else []
    doomed_set_ids = [s.id for s in loose_sets if s.artifact_ids & doomed_ids]
    report.sets = len(doomed_set_ids)
    report.by_name = dict(sorted(by_name.items()))
    report.rows = len(doomed)
    if dry_run:
        report.blobs = len(blob_keys)
        report.blob_bytes = sum(sizes.values())
        report.orphan_blobs = len(orphan)
        report.orphan_bytes = sum(blobs.blob_size(store, k) for k in orphan) if store is not None else 0
        report.deleted_ids = sorted(doomed_ids)
        report.seconds = time.perf_counter() - t0
        return report
    deleted = inventory.delete_rows(sorted(doomed_ids), cutoff)
    report.deleted_ids = deleted
    if len(deleted) != len(doomed):
        report.rows = len(deleted)
    marks_for(repo).remove_records(deleted)
    if doomed_set_ids:
        inventory.delete_sets(doomed_set_ids)
    if store is not None:
        _delete_blobs(store, inventory, blob_keys, orphan, sizes, cutoff, report)
        report.staging_files = blobs.sweep_staging(store, parse_age(staging_age) or 0.0)
    report.seconds = time.perf_counter() - t0
    return report


def _live_keys(inventory: Any, doomed: set[str], store_keys: set[str]) -> set[str]:
    """Blob keys named by rows gc keeps."""
    live: set[str] = set()
    for row in inventory.rows():
        if row.id not in doomed:
            live |= keys_of(row, store_keys)
    return live | inventory.input_blob_refs(doomed, store_keys)


def _delete_blobs(store: Any, inventory: Any, blob_keys: dict, orphan: list, sizes: dict, cutoff: datetime,
                  report: GcReport) -> None:  # fmt: skip
    limit = cutoff.timestamp()

    def referenced(key: str) -> bool:
        return inventory.referenced(key, cutoff)

    for key in blob_keys:
        mtime = blobs.blob_mtime(store, key)
        if mtime is not None and mtime >= limit:
            report.recent_blobs_kept += 1
            continue
        if blobs.delete_unreferenced(store, key, referenced):
            report.blobs += 1
            report.blob_bytes += sizes.get(key, 0)
    for key in orphan:
        mtime = blobs.blob_mtime(store, key)
        if mtime is not None and mtime >= limit:
            report.recent_blobs_kept += 1
            continue
        size = blobs.blob_size(store, key)
        if blobs.delete_unreferenced(store, key, referenced):
            report.orphan_blobs += 1
            report.orphan_bytes += size
