"""The lineage graph: ancestors and descendants of any record, and PROV-JSON export.

Nodes are cached artifacts, file artifacts, registry executions and datasets. Edges
are "child was made from parent": an artifact's inputs / ``based_on``, a dataset's
execution (and writer parents), an execution's input datasets. SQL repositories
answer with one recursive query; the memory repository walks its records; both give
the same answer: ``{record_id: distance}`` (1 = direct parent or child).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from provkit.core.errors import ProvkitError
from provkit.services.registry.placement import tables_for
from provkit.services.registry.records import record_kind
from provkit.services.registry.tables import not_found
from provkit.storage.repos.graph import check_depth, walk

if TYPE_CHECKING:
    from provkit.core.artifacts import Artifact
    from provkit.storage.repos.base import Repository

__all__ = ["ancestors", "descendants", "walk", "to_prov_json", "get_record", "describe"]


def get_record(repo: Repository, record_id: str) -> Any:
    """The artifact, dataset or execution with ``record_id`` (not-found errors otherwise)."""
    kind = record_kind(record_id)
    if kind == "artifact":
        return repo.get_artifact(record_id)
    for home in repo.feature_homes():  # a working area first, then e.g. its production area
        tables = tables_for(home)
        found = tables.fetch_dataset(record_id) if kind == "dataset" else tables.fetch_execution(record_id)
        if found is not None:
            return found
    raise not_found(kind, record_id)


def describe(record: Any) -> str:
    """One line naming a record: kind, name, version or status, short id."""
    kind = getattr(record, "kind", "artifact")
    if kind == "dataset":
        return f"dataset {record.name} {record.version} [{record.status}] {record.id[:14]}"
    if kind == "execution":
        return f"execution {record.name} {record.id[:14]}"
    return f"{kind} {record.name} v{record.version} {record.id[:14]}"


def _repo_of(obj: Any, repo: Repository | None) -> tuple[str, Repository]:
    from provkit.core.artifacts import Artifact
    from provkit.core.hashing import is_proxy
    from provkit.storage.settings import get_default_repo

    if is_proxy(obj):
        obj = obj.artifact
    if isinstance(obj, Artifact):
        return obj.id, repo or obj.repo or get_default_repo()
    if getattr(obj, "kind", None) in ("dataset", "execution") and isinstance(getattr(obj, "id", None), str):
        return obj.id, repo or get_default_repo()
    if isinstance(obj, str):
        return obj, repo or get_default_repo()
    raise TypeError(f"lineage needs an artifact, dataset, execution, proxy or id, not {type(obj).__name__}")


def ancestors(obj: Any, depth: int | None = None, repo: Repository | None = None) -> dict[str, int]:
    """Everything ``obj`` was computed from, with distances (``depth`` limits the walk)."""
    artifact_id, repo = _repo_of(obj, repo)
    check_depth(depth)
    return repo.ancestors(artifact_id, depth)


def descendants(obj: Any, depth: int | None = None, repo: Repository | None = None) -> dict[str, int]:
    """Everything computed from ``obj``, with distances."""
    artifact_id, repo = _repo_of(obj, repo)
    check_depth(depth)
    return repo.descendants(artifact_id, depth)


def _prov_id(artifact_id: str) -> str:
    return f"provkit:{artifact_id}"


def to_prov_json(obj: Any, depth: int | None = None, repo: Repository | None = None) -> str:
    """W3C PROV-JSON for ``obj`` and its ancestors: artifacts and datasets as entities,
    decorated calls and registry executions as activities, what each used, what
    generated each entity, derivations and the responsible users."""
    try:
        from prov.model import ProvDocument
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ProvkitError("PROV export needs the prov package: pip install 'provkit[prov]'") from exc
    record_id, repo = _repo_of(obj, repo)
    ids = [record_id, *ancestors(record_id, depth, repo)]
    records = {i: get_record(repo, i) for i in ids}
    doc = ProvDocument()
    doc.add_namespace("provkit", "urn:provkit:")
    for record in records.values():
        kind = getattr(record, "kind", "")
        if kind == "execution":
            _prov_execution(doc, record, records)
        elif kind == "dataset":
            _prov_dataset(doc, record, records)
        else:
            _prov_artifact(doc, record, records)
    return doc.serialize(format="json")


def _agent(doc: Any, user: str | None) -> Any:
    return doc.agent(f"provkit:user-{user}", {"prov:label": user}) if user else None


def _prov_artifact(doc: Any, art: Artifact, records: dict) -> None:
    attributes = {"prov:label": art.name, "provkit:version": art.version, "provkit:kind": art.kind,
                  "provkit:value_id": art.value_id}  # fmt: skip
    entity = doc.entity(_prov_id(art.id), attributes)
    call = doc.activity(
        f"provkit:call-{art.id}",
        startTime=art.computed_at,
        other_attributes={"prov:label": f"{art.fn_module}.{art.fn_name}", "provkit:run_id": art.run_id or ""},
    )
    doc.wasGeneratedBy(entity, call)
    agent = _agent(doc, art.user)
    if agent is not None:
        doc.wasAssociatedWith(call, agent)
    for parent in _known(art.input_artifact_ids, records):
        doc.used(call, _prov_id(parent))
        doc.wasDerivedFrom(entity, _prov_id(parent))


def _prov_dataset(doc: Any, ds: Any, records: dict) -> None:
    attributes = {"prov:label": ds.name, "provkit:kind": "dataset", "provkit:version": ds.version,
                  "provkit:owner": f"{ds.owner_type}/{ds.owner}", "provkit:relpath": ds.relpath,
                  "provkit:status": ds.status, "provkit:content_hash": ds.content_hash or ""}  # fmt: skip
    entity = doc.entity(_prov_id(ds.id), attributes)
    if ds.execution_id in records:
        doc.wasGeneratedBy(entity, _prov_id(ds.execution_id), ds.created_at)
    for parent in _known(ds.parent_ids, records):
        doc.wasDerivedFrom(entity, _prov_id(parent))
    agent = _agent(doc, ds.creator)
    if agent is not None:
        doc.wasAttributedTo(entity, agent)


def _prov_execution(doc: Any, ex: Any, records: dict) -> None:
    attributes = {"prov:label": ex.name, "provkit:kind": "execution", "provkit:site": ex.site or ""}
    activity = doc.activity(_prov_id(ex.id), startTime=ex.start_time, other_attributes=attributes)
    for parent in _known(ex.input_ids, records):
        doc.used(activity, _prov_id(parent))
    agent = _agent(doc, ex.creator)
    if agent is not None:
        doc.wasAssociatedWith(activity, agent)


def _known(ids: Iterable[str], records: dict) -> list[str]:
    return [i for i in ids if i in records]
