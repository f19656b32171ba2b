"""The lineage graph: ancestors and descendants of any artifact, and PROV-JSON export.

Edges are "child was computed from parent" (``input_artifact_ids`` / ``based_on``),
for cached results and file artifacts alike. SQL repositories answer with one recursive
query; the memory repository walks its records; both give the same answer:
``{artifact_id: distance}`` (1 = direct parent or child).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .errors import ProvkitError

if TYPE_CHECKING:
    from .artifacts import Artifact
    from .repos.base import Repository

__all__ = ["ancestors", "descendants", "walk", "to_prov_json"]


def _check_depth(depth: int | None) -> None:
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 0):
        raise ValueError(f"depth must be a non-negative int or None, got {depth!r}")


def walk(start: str, neighbours: Callable[[list[str]], dict[str, list[str]]], depth: int | None) -> dict[str, int]:
    """Breadth-first distances from ``start`` (excluded); ``neighbours`` maps a frontier
    to each node's neighbours in one call."""
    _check_depth(depth)
    seen: dict[str, int] = {}
    frontier = [start]
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        nxt = []
        for ids in neighbours(frontier).values():
            for node in ids:
                if node not in seen and node != start:
                    seen[node] = level
                    nxt.append(node)
        frontier = nxt
    return seen


def _repo_of(obj: Any, repo: Repository | None) -> tuple[str, Repository]:
    from .artifacts import Artifact
    from .hashing import is_proxy
    from .settings import get_default_repo

    if is_proxy(obj):
        obj = obj.artifact
    if isinstance(obj, Artifact):
        return obj.id, repo or obj.repo or get_default_repo()
    if isinstance(obj, str):
        return obj, repo or get_default_repo()
    raise TypeError(f"lineage needs an artifact, a proxy or an artifact id, not {type(obj).__name__}")


def ancestors(obj: Any, depth: int | None = None, repo: Repository | None = None) -> dict[str, int]:
    """Everything ``obj`` was computed from, with distances (``depth`` limits the walk)."""
    artifact_id, repo = _repo_of(obj, repo)
    _check_depth(depth)
    return repo.ancestors(artifact_id, depth)


def descendants(obj: Any, depth: int | None = None, repo: Repository | None = None) -> dict[str, int]:
    """Everything computed from ``obj``, with distances."""
    artifact_id, repo = _repo_of(obj, repo)
    _check_depth(depth)
    return repo.descendants(artifact_id, depth)


def _prov_id(artifact_id: str) -> str:
    return f"provkit:{artifact_id}"


def to_prov_json(obj: Any, depth: int | None = None, repo: Repository | None = None) -> str:
    """W3C PROV-JSON for ``obj`` and its ancestors: entities, the calls that generated
    them (activities), what each call used, derivations and the responsible users."""
    try:
        from prov.model import ProvDocument
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ProvkitError("PROV export needs the prov package: pip install 'provkit[prov]'") from exc
    artifact_id, repo = _repo_of(obj, repo)
    ids = [artifact_id, *ancestors(artifact_id, depth, repo)]
    records: dict[str, Artifact] = {i: repo.get_artifact(i) for i in ids}
    doc = ProvDocument()
    doc.add_namespace("provkit", "urn:provkit:")
    for art in records.values():
        attributes = {
            "prov:label": art.name,
            "provkit:version": art.version,
            "provkit:kind": art.kind,
            "provkit:value_id": art.value_id,
        }
        entity = doc.entity(_prov_id(art.id), attributes)
        call = doc.activity(
            f"provkit:call-{art.id}",
            startTime=art.computed_at,
            other_attributes={"prov:label": f"{art.fn_module}.{art.fn_name}", "provkit:run_id": art.run_id or ""},
        )
        doc.wasGeneratedBy(entity, call)
        if art.user:
            agent = doc.agent(f"provkit:user-{art.user}", {"prov:label": art.user})
            doc.wasAssociatedWith(call, agent)
        for parent in _known(art.input_artifact_ids, records):
            doc.used(call, _prov_id(parent))
            doc.wasDerivedFrom(entity, _prov_id(parent))
    return doc.serialize(format="json")


def _known(ids: Iterable[str], records: dict) -> list[str]:
    return [i for i in ids if i in records]
