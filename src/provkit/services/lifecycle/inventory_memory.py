"""The in-process side of gc and du: the same answers as ``inventory_sql`` for a
MemoryRepo, by walking its records in Python."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from provkit.services.lifecycle.rows import Inline, Row, input_blob_keys

__all__ = ["MemoryInventory"]


class MemoryInventory:
    """Lifecycle reads and deletes on a MemoryRepo."""

    def __init__(self, repo: Any) -> None:
        self.repo = repo

    def _row(self, rid: str) -> Row | None:
        entry = self.repo._records.get(rid)
        if entry is None:
            return None
        f, extra = entry
        vb, ib = extra["_value_bytes"], extra["_inputs_bytes"]
        fields = f["custom_fields"] if f.get("kind") == "files" else None
        return Row(rid, f["name"], f.get("user"), f.get("kind") or "cached", f["value_id"],
                   len(vb or b"") + len(ib or b""), vb is None, ib is None, f.get("added_at"), fields,
                   bool(f.get("composite")))  # fmt: skip

    def recent(self, since: datetime) -> set[str]:
        records = list(self.repo._records.items())
        return {rid for rid, (f, _) in records if f.get("added_at") and f["added_at"] >= since}

    def rows(self, ids: Iterable[str] | None = None, *, times: bool = True) -> Iterator[Row]:
        for rid in list(self.repo._records) if ids is None else ids:
            row = self._row(rid)
            if row is not None:
                yield row

    def inline_payloads(self) -> Iterator[Inline]:
        """Every record keeping value or inputs bytes inline."""
        for rid in list(self.repo._records):
            artifact = self.repo.lookup(rid)
            if artifact is not None and (artifact._value_bytes is not None or artifact._inputs_bytes is not None):
                yield Inline(rid, artifact.name, artifact.value_id, artifact.serializer, artifact.load_kwargs,
                             artifact._value_bytes, artifact._inputs_bytes, artifact._seal)  # fmt: skip

    def count(self) -> int:
        return len(self.repo._records)

    def input_blob_refs(self, exclude: set[str], store_keys: set[str]) -> set[str]:
        found: set[str] = set()
        store = self.repo.store
        for rid, (_, extra) in list(self.repo._records.items()):
            if rid in exclude:
                continue
            data = extra["_inputs_bytes"]
            if data is None and store is not None and rid in store_keys:
                data = store.get_bytes(rid)
            found |= input_blob_keys(data)
        return found

    def keep_set(
        self, roots: set[str], newer_than: datetime | None, keep_last: int | None, composites: Any
    ) -> set[str]:
        records = dict(self.repo._records)
        start = set(roots)
        if newer_than is not None:
            start |= {rid for rid, (f, _) in records.items() if f.get("added_at") and f["added_at"] >= newer_than}
        if keep_last:
            by_name: dict[str, list[tuple]] = {}
            for rid, (f, _) in records.items():
                by_name.setdefault(f["name"], []).append((f.get("computed_at"), f.get("added_at"), rid))
            for entries in by_name.values():
                entries.sort(key=lambda e: (e[0] is not None, e[0] or 0, e[1] or 0), reverse=True)
                start |= {e[2] for e in entries[:keep_last]}
        keep: set[str] = set()
        frontier = list(start)
        while frontier:
            fresh = [i for i in dict.fromkeys(frontier) if i not in keep]
            keep.update(fresh)
            nxt: list[str] = []
            for parents in self.repo.parents_of(fresh).values():
                nxt.extend(p for p in parents if p not in keep)
            kept_composites = [i for i in fresh if i in records and records[i][0].get("composite")]
            nxt.extend(m for m in composites(kept_composites) if m not in keep)
            frontier = nxt
        return keep

    def ancestors_of_new(self, since: datetime) -> set[str]:
        fresh = {
            rid for rid, (f, _) in list(self.repo._records.items()) if f.get("added_at") and f["added_at"] >= since
        }
        out = set(fresh)
        for rid in fresh:
            out |= set(self.repo.ancestors(rid))
        return out

    def referenced(self, key: str, since: datetime) -> bool:
        for rid in list(self.repo._records):
            row = self._row(rid)
            if row is None:
                continue
            if (row.value_blob and row.value_id == key) or (row.inputs_blob and rid == key):
                return True
            if row.custom_fields and key in (row.custom_fields.get("file_hashes") or {}).values():
                return True
            entry = self.repo._records.get(rid)
            if entry is not None and key in input_blob_keys(entry[1]["_inputs_bytes"]):
                return True
        return False

    def dangling_edges(self) -> list[tuple[str, str]]:
        records = self.repo._records
        return [
            (rid, pid) for rid, (f, _) in list(records.items()) for pid in f["input_artifact_ids"] if pid not in records
        ]

    def delete_rows(self, ids: list[str], before: datetime) -> list[str]:
        deleted = []
        with self.repo._lock:
            for rid in ids:
                entry = self.repo._records.get(rid)
                if entry is not None and (entry[0].get("added_at") is None or entry[0]["added_at"] < before):
                    del self.repo._records[rid]
                    deleted.append(rid)
        return deleted

    def delete_sets(self, set_ids: list[str]) -> None:
        with self.repo._lock:
            for sid in set_ids:
                self.repo._sets.pop(sid, None)
