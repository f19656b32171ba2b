"""Lease tables for single-flight: who is computing which artifact, until when.

One row per artifact being computed: ``owner`` (host:pid:token), ``heartbeat_at`` and
``expires_at`` (seconds since the epoch). A lease is taken with one statement, an
``INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at < now`` (a free or expired lease
is taken, a live one is not), kept alive by ``renew`` and given back by ``release``.
SQL repositories keep the rows in ``provkit_leases`` (revision 0008), so every process
and host sharing the database sees them; a memory repository keeps them in a dict.
This module owns that table's SQL; the repository only lends its engine.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import sqlalchemy as sa

from provkit.core.errors import RepoError
from provkit.storage.repos.base import Repository

__all__ = ["LeaseTable", "MemoryLeases", "SqlLeases", "leases_for"]

metadata = sa.MetaData()

leases = sa.Table(
    "provkit_leases",
    metadata,
    sa.Column("artifact_id", sa.String(128), primary_key=True),
    sa.Column("owner", sa.String(256), nullable=False),
    sa.Column("acquired_at", sa.Float, nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)


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


class SqlLeases:
    """Leases in the repository's database (``provkit_leases``)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        name = engine.dialect.name
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        elif name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:  # pragma: no cover - only the two supported dialects reach here
            raise RepoError(f"single-flight leases need SQLite or PostgreSQL, not {name!r}")
        stmt = insert(leases)
        taken = {c: stmt.excluded[c] for c in ("owner", "acquired_at", "heartbeat_at", "expires_at")}
        acquire = stmt.on_conflict_do_update(
            index_elements=["artifact_id"], set_=taken, where=leases.c.expires_at < stmt.excluded.acquired_at
        ).returning(leases.c.owner)  # a row back: taken (rowcount is not reliable here on every driver)
        # the one statement a miss adds: compiled once, run on a pooled DBAPI connection
        compiled = acquire.compile(dialect=engine.dialect)
        self._acquire_sql = str(compiled)
        positional = engine.dialect.paramstyle in ("qmark", "numeric", "format")
        self._acquire_keys = tuple(compiled.positiontup or ()) if positional else None

    def try_acquire(self, artifact_id: str, owner: str, now: float, ttl: float) -> bool:
        row = {"artifact_id": artifact_id, "owner": owner, "acquired_at": now, "heartbeat_at": now,
               "expires_at": now + ttl}  # fmt: skip
        conn = self.engine.raw_connection()  # from the pool and back: no connection held per thread
        try:
            cursor = conn.cursor()
            try:
                keys = self._acquire_keys
                cursor.execute(self._acquire_sql, tuple(row[k] for k in keys) if keys is not None else row)
                taken = cursor.fetchone() is not None
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                cursor.close()
        finally:
            conn.close()
        return taken

    def renew(self, owner: str, artifact_ids: list[str], now: float, ttl: float) -> None:
        stmt = (
            sa.update(leases)
            .where(leases.c.owner == owner, leases.c.artifact_id.in_(artifact_ids))
            .values(heartbeat_at=now, expires_at=now + ttl)
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def release(self, artifact_id: str, owner: str) -> None:
        self.release_many([artifact_id], owner)

    def release_many(self, artifact_ids: list[str], owner: str) -> None:
        """Give leases back, and sweep expired ones (left by processes that died)."""
        mine = sa.and_(leases.c.artifact_id.in_(artifact_ids), leases.c.owner == owner)
        stmt = sa.delete(leases).where(sa.or_(mine, leases.c.expires_at < time.time()))
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def holder(self, artifact_id: str) -> tuple[str, float] | None:
        stmt = sa.select(leases.c.owner, leases.c.expires_at).where(leases.c.artifact_id == artifact_id)
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        return (row[0], float(row[1])) if row is not None else None

    def count(self) -> int:
        """How many lease rows exist (live or expired)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(leases)).scalar() or 0)


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
        return SqlLeases(home.engine)
    raise RepoError(f"{home!r} cannot hold single-flight leases (backend {home.backend!r})")
