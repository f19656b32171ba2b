"""Finding artifacts: the query schema of an artifact, and ``find`` into a DataFrame.

A query addresses an artifact as this document (dotted paths reach into JSON):

    id, name, version, fn_module, fn_name, value_id, run_id, serializer, composite,
    computed_at (alias creation_time), added_at,
    custom_fields.*, inputs.*  (the recorded inputs summary), run.*  (run info),
    based_on  (the ids of its input artifacts; an array),
    kind ('cached' or 'files'), user (alias username: who made it; see ``as_user``),
    tags (= custom_fields.tags), host / hostname (= run.host.nodename),
    labels.* and file_relpaths (file artifacts: = custom_fields.labels / .file_relpaths)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from provkit.services.query import Fields, matcher
from provkit.storage.repos.extensions import use_query_compiler
from provkit.storage.settings import get_default_repo

if TYPE_CHECKING:
    import pandas as pd

    from provkit.core.artifacts import Artifact
    from provkit.storage.repos.base import Repository

__all__ = ["find", "find_artifacts", "ARTIFACT_FIELDS", "ArtifactQuery", "artifact_document", "sql_artifact_fields"]

_COLUMNS = ("id", "name", "version", "fn_module", "fn_name", "value_id", "run_id", "serializer", "composite",
            "computed_at", "added_at", "kind", "user")  # fmt: skip
#: Value types of the columns (time fields take datetimes, dates or ISO-8601 strings)
_TYPES = {"version": "int", "composite": "bool", "computed_at": "time", "added_at": "time",
          **{c: "str" for c in ("id", "name", "fn_module", "fn_name", "value_id", "run_id", "serializer", "kind",
                                "user")}}  # fmt: skip
_ALIASES = {
    "creation_time": "computed_at",
    "tags": "custom_fields.tags",
    "username": "user",
    "host": "run.host.nodename",
    "hostname": "run.host.nodename",
    "labels": "custom_fields.labels",
    "file_relpaths": "custom_fields.file_relpaths",
    "inputs_json": "inputs",
}

#: File-artifact labels: always strings, indexed in SQL with the newest-first order (migrations 0004, 0010)
LABEL_PATHS = frozenset(
    f"custom_fields.labels.{name}" for name in ("ticket", "project", "datatype", "dataset", "description")
)

#: The schema the Python evaluator uses (names only; SQL repos build their own).
ARTIFACT_FIELDS = Fields(
    columns={c: None for c in _COLUMNS},
    json={"custom_fields": None, "inputs": None, "run": None},
    arrays={"based_on": lambda condition: None},
    aliases=dict(_ALIASES),
    types=dict(_TYPES),
)


def sql_artifact_fields() -> Fields:
    """The schema for SQL repositories: columns, JSON columns, the run join, lineage edges."""
    import sqlalchemy as sa

    from provkit.storage.repos.sql import schema

    a, runs, edges = schema.artifacts, schema.runs, schema.artifact_inputs
    run_info = sa.select(runs.c.info).where(runs.c.id == a.c.run_id).scalar_subquery()

    def based_on(condition: Any) -> Any:
        # IN (not a correlated EXISTS) so the planner starts from the input_artifact_id index
        return a.c.id.in_(sa.select(edges.c.artifact_id).where(condition(edges.c.input_artifact_id)))

    return Fields(
        columns={c: a.c[c] for c in _COLUMNS},
        json={"custom_fields": a.c.custom_fields, "inputs": a.c.inputs_json, "run": run_info},
        arrays={"based_on": based_on},
        aliases=dict(_ALIASES),
        text_paths=LABEL_PATHS,
        types=dict(_TYPES),
    )


def artifact_document(artifact: Artifact, run_info: dict | None = None) -> dict:
    """The document a query sees for ``artifact`` (for the Python evaluator)."""
    return {
        **{c: getattr(artifact, c) for c in _COLUMNS},
        "custom_fields": artifact.custom_fields,
        "inputs": artifact.inputs_json,
        "run": run_info if run_info is not None else (artifact.run_info or {}),
        "based_on": list(artifact.input_artifact_ids),
    }


class ArtifactQuery:
    """A Mongo-style artifact query, checked once, that any repository can run
    (``Repository.find`` compiles dicts with this)."""

    def __init__(self, query: Any) -> None:
        self.query = query
        self._matches = matcher(query, ARTIFACT_FIELDS)  # raises QueryError when malformed

    def matches(self, artifact: Artifact) -> bool:
        return self._matches(artifact_document(artifact))

    def sql_where(self, dialect: str) -> Any:
        from provkit.services.query_sql import compile_query

        return compile_query(self.query, sql_artifact_fields(), dialect)


use_query_compiler(ArtifactQuery)


def find_artifacts(
    query: Mapping | None = None, limit: int | None = None, repo: Repository | None = None
) -> Iterator[Artifact]:
    """Artifacts matching ``query``, newest first; ``limit`` caps the count (no cap by default)."""
    repo = repo or get_default_repo()
    query = dict(query or {})
    for rewrite in _query_rewriters:  # features' own query keys (retraction: "retracted", "tainted")
        query = rewrite(query, repo)
    return repo.find(query, limit)


_query_rewriters: list[Callable[[dict, Repository], Any]] = []


def register_query_rewriter(rewrite: Callable[[dict, Repository], Any]) -> None:
    """Have ``find_artifacts`` pass queries through ``rewrite(query, repo)`` first."""
    _query_rewriters.append(rewrite)


def find(query: Mapping | None = None, limit: int | None = None, repo: Repository | None = None) -> pd.DataFrame:
    """Artifacts matching ``query`` as a DataFrame indexed by artifact id, newest first."""
    import pandas as pd

    rows = []
    runs: dict[str | None, dict] = {}  # artifacts of one run share its record: read it once
    for artifact in find_artifacts(query, limit, repo):
        if artifact.run_id not in runs:
            runs[artifact.run_id] = artifact.run_info or {}
        run = runs[artifact.run_id]
        rows.append(
            {
                "artifact_id": artifact.id,
                "creation_time": artifact.computed_at,
                "name": artifact.name,
                "version": artifact.version,
                "username": artifact.user,
                "hostname": (run.get("host") or {}).get("nodename"),
                "argv": " ".join(run.get("argv") or []),
                "based_on": list(artifact.input_artifact_ids),
                "kind": artifact.kind,
                "labels": artifact.custom_fields.get("labels", {}),
                "file_relpaths": artifact.custom_fields.get("file_relpaths", []),
                "tags": artifact.tags,
                "custom_fields": artifact.custom_fields,
                "inputs": artifact.inputs_json,
                "value_id": artifact.value_id,
                "run_id": artifact.run_id,
            }
        )
    return pd.DataFrame(rows, columns=_FRAME_COLUMNS).set_index("artifact_id")


_FRAME_COLUMNS = [
    "artifact_id", "creation_time", "username", "file_relpaths", "argv", "based_on", "hostname", "labels",
    "run_id", "name", "version", "kind", "tags", "custom_fields", "inputs", "value_id",
]  # fmt: skip
