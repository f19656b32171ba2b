"""Registry records in SQL (SQLite or PostgreSQL), next to the artifacts.

Atomicity comes from constraints, not from locks: ``uq_datasets_version`` makes two
concurrent bumps collide (the loser retries with the next version) and the unique
``live_key`` column makes two live datasets on one relpath impossible. Lineage edges
go to ``artifact_inputs`` so one recursive query walks artifacts and registry records.
"""

from __future__ import annotations

import random
import time
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from provkit.core.errors import RegistryError
from provkit.services.registry import sql_schema as registry_schema
from provkit.services.registry.records import Dataset, Execution, bump_version, parse_version
from provkit.services.registry.tables import RegistryTables, _taken, _version_exists, live_key, not_found
from provkit.storage.repos.sql import schema
from provkit.storage.repos.sql.repo import edge_neighbours
from provkit.storage.repos.sql.rows import from_json, utc

_DATASET_FIELDS = [f.name for f in dataclass_fields(Dataset)]
_EXECUTION_FIELDS = [f.name for f in dataclass_fields(Execution)]
_JSON_FIELDS = ("keywords", "manifest", "provenance", "parent_ids", "input_ids", "history")
_RETRIES = 50


def _decode(row: Any, names: list[str]) -> dict:
    out = {}
    for name in names:
        value = row._mapping[name]
        if name in _JSON_FIELDS:
            value = from_json(value)
        elif name.endswith(("_at", "_time", "_date")):
            value = utc(value)
        out[name] = value
    return out


class SqlRegistryTables(RegistryTables):
    """The ``executions`` and ``datasets`` tables of a SqlRepo's database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    # ---- executions ---------------------------------------------------------------
    def insert_execution(self, execution: Execution) -> None:
        row = execution.to_dict()
        with self._engine.begin() as conn:
            conn.execute(sa.insert(registry_schema.executions), row)
            self._edges(conn, execution.id, execution.input_ids)

    def _edges(self, conn: sa.Connection, child: str, parents: list[str]) -> None:
        rows = [{"artifact_id": child, "input_artifact_id": p} for p in dict.fromkeys(parents)]
        if rows:
            conn.execute(sa.insert(schema.artifact_inputs), rows)

    def fetch_execution(self, execution_id: str) -> Execution | None:
        table = registry_schema.executions
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(table).where(table.c.id == execution_id)).first()
        return Execution(**_decode(row, _EXECUTION_FIELDS)) if row is not None else None

    def executions(self, name: str | None = None) -> list[Execution]:
        table = registry_schema.executions
        stmt = sa.select(table).order_by(table.c.created_at.desc(), table.c.id)
        if name is not None:
            stmt = stmt.where(table.c.name == name)
        with self._engine.connect() as conn:
            return [Execution(**_decode(row, _EXECUTION_FIELDS)) for row in conn.execute(stmt)]

    # ---- datasets -----------------------------------------------------------------
    def _row(self, dataset: Dataset, claim: bool) -> dict:
        row = dataset.to_dict()
        row["version_major"], row["version_minor"], row["version_patch"] = parse_version(dataset.version)
        row["live_key"] = live_key(dataset.owner_type, dataset.owner, dataset.relpath) if claim else None
        return row

    def reserve(self, dataset: Dataset, bump: str | None, *, claim_relpath: bool) -> Dataset:
        key = live_key(dataset.owner_type, dataset.owner, dataset.relpath)
        table = registry_schema.datasets
        for attempt in range(_RETRIES):
            if claim_relpath:
                holder = self.live_holder(key)
                if holder is not None:
                    raise _taken(dataset.relpath, holder)
            candidate = dataset
            if bump is not None:
                candidate = replace(dataset, version=bump_version(self._latest(dataset), bump))
            candidate = replace(candidate, status="pending")
            try:
                with self._engine.begin() as conn:
                    conn.execute(sa.insert(table), self._row(candidate, claim_relpath))
                return candidate
            except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
                if isinstance(exc, sa.exc.OperationalError) and "locked" not in str(exc):
                    raise
                if bump is None and self._version_taken(candidate):
                    raise _version_exists(candidate) from None
                time.sleep(random.uniform(0, 0.01 * (1 + attempt)))  # lost a race: look again
        raise RegistryError(f"could not reserve dataset {dataset.name!r} after {_RETRIES} attempts (heavy contention)")

    def _latest(self, dataset: Dataset) -> tuple[int, int, int] | None:
        t = registry_schema.datasets
        stmt = (
            sa.select(t.c.version_major, t.c.version_minor, t.c.version_patch)
            .where(t.c.name == dataset.name, t.c.owner == dataset.owner, t.c.owner_type == dataset.owner_type)
            .order_by(t.c.version_major.desc(), t.c.version_minor.desc(), t.c.version_patch.desc())
            .limit(1)
        )
        with self._engine.connect() as conn:
            row = conn.execute(stmt).first()
        return tuple(row) if row is not None else None  # type: ignore[return-value]

    def _version_taken(self, dataset: Dataset) -> bool:
        major, minor, patch = parse_version(dataset.version)
        t = registry_schema.datasets
        stmt = sa.select(t.c.id).where(
            t.c.name == dataset.name, t.c.owner == dataset.owner, t.c.owner_type == dataset.owner_type,
            t.c.version_major == major, t.c.version_minor == minor, t.c.version_patch == patch,
            t.c.replace_iteration == dataset.replace_iteration,
        )  # fmt: skip
        with self._engine.connect() as conn:
            return conn.execute(stmt.limit(1)).first() is not None

    def commit(self, dataset_id: str, fields: dict, *, replaces: str | None = None, by: str | None = None,
               at: datetime | None = None) -> Dataset:  # fmt: skip
        t = registry_schema.datasets
        with self._engine.begin() as conn:
            if replaces is not None:
                old_key = conn.execute(sa.select(t.c.live_key).where(t.c.id == replaces)).scalar()
                conn.execute(
                    sa.update(t).where(t.c.id == replaces).values(
                        status="replaced", replaced_by=dataset_id, status_changed_at=at, status_changed_by=by,
                        live_key=None,
                    )
                )  # fmt: skip
                fields = {**fields, "live_key": old_key}
            conn.execute(sa.update(t).where(t.c.id == dataset_id).values(**fields, status="valid"))
            row = conn.execute(sa.select(t).where(t.c.id == dataset_id)).first()
            done = Dataset(**_decode(row, _DATASET_FIELDS))
            parents = [done.execution_id] if done.execution_id else []
            self._edges(conn, dataset_id, parents + list(done.parent_ids))
        return done

    def claim_replacement(self, old_id: str, new_id: str) -> bool:
        t = registry_schema.datasets
        stmt = (
            sa.update(t)
            .where(t.c.id == old_id, t.c.status == "valid", t.c.replaced_by.is_(None))
            .values(replaced_by=new_id)
        )
        with self._engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    def release_replacement(self, old_id: str, new_id: str) -> None:
        t = registry_schema.datasets
        stmt = (
            sa.update(t)
            .where(t.c.id == old_id, t.c.status == "valid", t.c.replaced_by == new_id)
            .values(replaced_by=None)
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)

    def discard(self, dataset_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(registry_schema.datasets).where(registry_schema.datasets.c.id == dataset_id))

    def retire(self, dataset_id: str, status: str, *, by: str | None, at: datetime, location: str | None) -> None:
        t = registry_schema.datasets
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(t).where(t.c.id == dataset_id).values(
                    status=status, status_changed_by=by, status_changed_at=at, location=location, live_key=None
                )
            )  # fmt: skip

    def set_location(self, dataset_id: str, location: str | None) -> None:
        t = registry_schema.datasets
        with self._engine.begin() as conn:
            conn.execute(sa.update(t).where(t.c.id == dataset_id).values(location=location))

    def update_dataset(self, dataset_id: str, changes: dict, entries: list[dict]) -> Dataset:
        t = registry_schema.datasets
        with self._engine.begin() as conn:
            stmt = sa.select(t.c.history).where(t.c.id == dataset_id)
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update()  # two modifications at once both land in the history
            history = conn.execute(stmt).scalar()
            if history is None:
                raise not_found("dataset", dataset_id)
            history = [*from_json(history), *entries]
            conn.execute(sa.update(t).where(t.c.id == dataset_id).values(**changes, history=history))
            row = conn.execute(sa.select(t).where(t.c.id == dataset_id)).first()
        return Dataset(**_decode(row, _DATASET_FIELDS))

    def fetch_dataset(self, dataset_id: str) -> Dataset | None:
        t = registry_schema.datasets
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == dataset_id)).first()
        return Dataset(**_decode(row, _DATASET_FIELDS)) if row is not None else None

    def query_datasets(self, query: dict, limit: int | None = None) -> list[Dataset]:
        from provkit.services.query_sql import compile_query
        from provkit.services.registry.query import sql_dataset_fields

        t = registry_schema.datasets
        dialect = self._engine.dialect.name
        where = compile_query(query, sql_dataset_fields(dialect), dialect)
        stmt = sa.select(t).where(where).order_by(t.c.created_at.desc(), t.c.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._engine.connect() as conn:
            return [Dataset(**_decode(row, _DATASET_FIELDS)) for row in conn.execute(stmt)]

    def live_holder(self, key: str) -> Dataset | None:
        t = registry_schema.datasets
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.live_key == key)).first()
        return Dataset(**_decode(row, _DATASET_FIELDS)) if row is not None else None

    # ---- edges --------------------------------------------------------------------
    def parents_of(self, ids: list[str]) -> dict[str, list[str]]:
        return self._neighbours(ids, up=True)

    def children_of(self, ids: list[str]) -> dict[str, list[str]]:
        return self._neighbours(ids, up=False)

    def _neighbours(self, ids: list[str], *, up: bool) -> dict[str, list[str]]:
        return edge_neighbours(self._engine, ids, up=up)
