"""Lifecycle marks kept beside a repository's records: pins, retractions, damage.

A mark is (record id, kind, reason, user, time); kinds are ``pin`` (a gc root),
``retract`` (a record found to be wrong) and ``damaged`` (verify could not repair it).
The memory repository keeps marks in a dict; SQL repositories in the ``lifecycle_marks``
table (migration 0007), whose SQL lives here: the repository only hands over its engine.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from provkit.core.errors import ProvkitError

if TYPE_CHECKING:
    from provkit.storage.repos.base import Repository

__all__ = ["KINDS", "Mark", "MarkTable", "marks_for"]

KINDS = ("pin", "retract", "damaged")


@dataclass(frozen=True)
class Mark:
    """One mark on one record."""

    record_id: str
    kind: str
    reason: str
    user: str | None
    created_at: datetime


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ProvkitError(f"unknown mark kind {kind!r}: use one of {', '.join(KINDS)}")


class MarkTable:
    """Marks in memory (the base for the SQL table)."""

    def __init__(self) -> None:
        self._marks: dict[tuple[str, str], Mark] = {}
        self._lock = threading.Lock()
        #: bumped on every change made through this object (caches of derived data key on it)
        self.generation = 0

    def add(self, record_id: str, kind: str, reason: str, user: str | None) -> Mark:
        """Set (or replace) the mark ``kind`` on ``record_id``."""
        _check_kind(kind)
        mark = Mark(record_id, kind, reason, user, datetime.now(timezone.utc))
        with self._lock:
            self._marks[(record_id, kind)] = mark
            self.generation += 1
        return mark

    def remove(self, record_id: str, kind: str) -> bool:
        """Remove the mark; False when there was none."""
        _check_kind(kind)
        with self._lock:
            self.generation += 1
            return self._marks.pop((record_id, kind), None) is not None

    def remove_records(self, record_ids: list[str]) -> None:
        """Forget every mark of these records (they were deleted)."""
        gone = set(record_ids)
        with self._lock:
            for key in [k for k in self._marks if k[0] in gone]:
                del self._marks[key]
            self.generation += 1

    def of_kind(self, kind: str) -> dict[str, Mark]:
        """``{record_id: mark}`` of every mark of this kind."""
        _check_kind(kind)
        return {rid: m for (rid, k), m in list(self._marks.items()) if k == kind}

    def get(self, record_id: str, kind: str) -> Mark | None:
        return self._marks.get((record_id, kind))


class SqlMarkTable(MarkTable):
    """Marks in the ``lifecycle_marks`` table of a SQL repository's database."""

    def __init__(self, engine: Any) -> None:
        super().__init__()
        import sqlalchemy as sa

        self._sa = sa
        self._engine = engine
        meta = sa.MetaData()
        self.table = sa.Table(
            "lifecycle_marks", meta,
            sa.Column("record_id", sa.String(128), primary_key=True),
            sa.Column("kind", sa.String(16), primary_key=True),
            sa.Column("reason", sa.Text, nullable=False),
            sa.Column("user", sa.String(256)),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        )  # fmt: skip

    def add(self, record_id: str, kind: str, reason: str, user: str | None) -> Mark:
        _check_kind(kind)
        sa, t = self._sa, self.table
        mark = Mark(record_id, kind, reason, user, datetime.now(timezone.utc))
        row = {"record_id": record_id, "kind": kind, "reason": reason, "user": user, "created_at": mark.created_at}
        with self._engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.record_id == record_id, t.c.kind == kind))
            conn.execute(sa.insert(t), row)
        self.generation += 1
        return mark

    def remove(self, record_id: str, kind: str) -> bool:
        _check_kind(kind)
        sa, t = self._sa, self.table
        with self._engine.begin() as conn:
            result = conn.execute(sa.delete(t).where(t.c.record_id == record_id, t.c.kind == kind))
        self.generation += 1
        return bool(result.rowcount)

    def remove_records(self, record_ids: list[str]) -> None:
        sa, t = self._sa, self.table
        with self._engine.begin() as conn:
            # marks are few, deleted records may be millions: delete only those marked
            marked = set(conn.execute(sa.select(t.c.record_id).distinct()).scalars())
            gone = [r for r in record_ids if r in marked]
            for start in range(0, len(gone), 500):
                conn.execute(sa.delete(t).where(t.c.record_id.in_(gone[start : start + 500])))
        self.generation += 1

    def of_kind(self, kind: str) -> dict[str, Mark]:
        _check_kind(kind)
        sa, t = self._sa, self.table
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.kind == kind)).all()
        return {r.record_id: _mark(r) for r in rows}

    def get(self, record_id: str, kind: str) -> Mark | None:
        sa, t = self._sa, self.table
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.record_id == record_id, t.c.kind == kind)).first()
        return _mark(row) if row is not None else None


def _mark(row: Any) -> Mark:
    when = row.created_at
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return Mark(row.record_id, row.kind, row.reason, row.user, when)


def marks_for(repo: Repository) -> MarkTable:
    """The marks of ``repo`` (kept in its feature home), made on first use."""
    return repo.feature("lifecycle_marks", _make)


def _make(home: Repository) -> MarkTable:
    if home.backend == "memory":
        return MarkTable()
    if home.backend == "sql":
        return SqlMarkTable(home.engine)
    raise ProvkitError(f"{home!r} cannot hold lifecycle marks (pins, retractions)")
