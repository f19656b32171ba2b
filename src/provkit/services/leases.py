"""Lease tables for single-flight: who is computing which artifact, until when.

One row per artifact being computed: ``owner`` (host:pid:token), ``heartbeat_at`` and
``expires_at`` (seconds since the epoch). A lease is taken with one statement, an
``INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at < now`` (a free or expired lease
is taken, a live one is not), kept alive by ``renew`` and given back by ``release``.
SQL repositories keep the rows in ``provkit_leases`` (revision 0008), so every process
and host sharing the database sees them; a memory repository keeps them in a dict.
``leases_sql.py`` owns that table's SQL; the repository only lends its engine.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from provkit.core.errors import RepoError
from provkit.storage.repos.base import Repository

__all__ = ["LeaseTable", "MemoryLeases", "leases_for"]


class LeaseTable(Protocol):
    """What single-flight needs from a repository's leases."""

    def try_acquire(self, artifact_id: str, owner: str, now: float, ttl: float) -> bool:
        """Take the lease if it is free or expired; True if ``owner`` holds it now."""

    def renew(self, owner: str, artifact_ids: list[str], now: float, ttl: float) -> None:
        """Push back the expiry of leases ``owner`` holds."""

    def release(self, artifact_id: str, owner: str) -> None:
        """Give the lease back (only if ``owner`` still holds it)."""

    def release_many(self, artifact_ids: list[str], owner: str) -> None:
        """Give several leases back at once (and delete expired leases of dead processes)."""

    def holder(self, artifact_id: str) -> tuple[str, float] | None:
        """(owner, expires_at) of the lease on ``artifact_id``, or None."""


class MemoryLeases:
    """Leases of a memory repository (in this process)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def try_acquire(self, artifact_id: str, owner: str, now: float, ttl: float) -> bool:
        with self._lock:
            found = self._rows.get(artifact_id)
            if found is not None and found[1] >= now:
                return False
            self._rows[artifact_id] = (owner, now + ttl)
            return True

    def renew(self, owner: str, artifact_ids: list[str], now: float, ttl: float) -> None:
        with self._lock:
            for artifact_id in artifact_ids:
                found = self._rows.get(artifact_id)
                if found is not None and found[0] == owner:
                    self._rows[artifact_id] = (owner, now + ttl)

    def release(self, artifact_id: str, owner: str) -> None:
        with self._lock:
            found = self._rows.get(artifact_id)
            if found is not None and found[0] == owner:
                del self._rows[artifact_id]

    def release_many(self, artifact_ids: list[str], owner: str) -> None:
        for artifact_id in artifact_ids:
            self.release(artifact_id, owner)
        now = time.time()
        with self._lock:
            for artifact_id in [i for i, (_, expires) in self._rows.items() if expires < now]:
                del self._rows[artifact_id]

    def holder(self, artifact_id: str) -> tuple[str, float] | None:
        with self._lock:
            return self._rows.get(artifact_id)

    def count(self) -> int:
        with self._lock:
            return len(self._rows)


def leases_for(repo: Repository) -> LeaseTable:
    """The lease table of ``repo`` (in its feature home), made on first use."""
    return repo.feature("leases", _make)


def _make(home: Repository) -> LeaseTable:
    if home.backend == "memory":
        return MemoryLeases()
    if home.backend == "sql":
        from provkit.services.leases_sql import SqlLeases  # SQLAlchemy only when a SQL repo needs it

        return SqlLeases(home.engine)
    raise RepoError(f"{home!r} cannot hold single-flight leases (backend {home.backend!r})")
