"""Single-flight leases in the repository's database: the ``provkit_leases`` table
(created by migration 0008) and the statements on it."""

from __future__ import annotations

import time

import sqlalchemy as sa

from provkit.core.errors import RepoError

__all__ = ["SqlLeases", "leases"]

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
