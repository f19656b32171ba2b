"""Disk usage of a repository: bytes and counts by function name, user, label and age."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from provkit.services.lifecycle import blobs
from provkit.services.lifecycle.gc import inventory_for
from provkit.services.lifecycle.pins import resolve_repo
from provkit.services.lifecycle.rows import keys_of, labels_of
from provkit.storage.repos.base import Repository

__all__ = ["AGE_BUCKETS", "du"]

#: (label, upper bound in days) of the age groups du reports
AGE_BUCKETS = (("<1d", 1), ("1-7d", 7), ("7-30d", 30), ("30-365d", 365), (">1y", None))


def _age(added: datetime | None, now: datetime) -> str:
    if added is None:
        return "unknown"
    days = (now - added).total_seconds() / 86400
    for label, bound in AGE_BUCKETS:
        if bound is None or days < bound:
            return label
    return AGE_BUCKETS[-1][0]


def du(repo: Repository | str | None = None) -> dict[str, Any]:
    """``{"total": {...}, "by_name": {name: {"count", "bytes"}}, "by_user", "by_label", "by_age"}``.

    A blob shared by several artifacts is counted once, for the first artifact seen."""
    repo = resolve_repo(repo)
    inventory = inventory_for(repo)
    store = repo.store
    store_keys = set(blobs.iter_keys(store)) if store is not None else set()
    now = datetime.now(timezone.utc)
    groups: dict[str, dict[str, dict[str, int]]] = {
        g: defaultdict(lambda: {"count": 0, "bytes": 0}) for g in ("by_name", "by_user", "by_label", "by_age")
    }
    seen: set[str] = set()
    total = {"count": 0, "bytes": 0, "blobs": 0}
    for row in inventory.rows():
        size = row.inline_bytes
        for key in keys_of(row, store_keys):
            if key in store_keys and key not in seen:
                seen.add(key)
                size += blobs.blob_size(store, key)
        total["count"] += 1
        total["bytes"] += size
        targets = [("by_name", row.name), ("by_user", row.user or "(unknown)"), ("by_age", _age(row.added_at, now))]
        targets += [("by_label", label) for label in labels_of(row)]
        for group, key in targets:
            groups[group][key]["count"] += 1
            groups[group][key]["bytes"] += size
    total["blobs"] = len(seen)
    orphans = store_keys - seen
    out: dict[str, Any] = {"total": total, "orphan_blobs": len(orphans)}
    for group, entries in groups.items():
        out[group] = dict(sorted(entries.items(), key=lambda kv: -kv[1]["bytes"]))
    return out
