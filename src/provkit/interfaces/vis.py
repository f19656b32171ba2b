"""Lineage pictures with graphviz: ``visualize_lineage(proxy_or_artifact)``.

The result renders as SVG in Jupyter (``_repr_svg_``), and offers ``.source`` (DOT),
``.svg()`` and ``.render(path, format)``. Needs the ``graphviz`` extra and the ``dot``
program (Debian package ``graphviz``).
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable
from typing import Any

from provkit.core.artifacts import Artifact
from provkit.core.errors import ArtifactNotFoundError, ProvkitError
from provkit.core.hashing import is_proxy

__all__ = ["visualize_lineage", "LineageGraph", "lineage_artifacts", "lineage_records"]

_ROOT_COLOR = "#c0392b"


def _root(obj: Any, repo: Any = None) -> tuple[Any, Any]:
    """The record to draw (artifact, dataset or execution) and the repository it is in."""
    from provkit.storage.settings import get_default_repo

    if is_proxy(obj):
        obj = obj.artifact
    if isinstance(obj, Artifact):
        return obj, repo or obj.repo
    if getattr(obj, "kind", None) in ("dataset", "execution"):
        return obj, repo or get_default_repo()
    if isinstance(obj, str):
        from provkit.services.lineage import get_record

        repo = repo or get_default_repo()
        return get_record(repo, obj), repo
    raise TypeError(f"visualize_lineage needs an artifact, proxy, dataset, execution or id, got {type(obj).__name__}")


def _parent_ids(record: Any) -> list[str]:
    kind = getattr(record, "kind", None)
    if kind == "dataset":
        return ([record.execution_id] if record.execution_id else []) + list(record.parent_ids)
    if kind == "execution":
        return list(record.input_ids)
    return list(record.input_artifact_ids)


def lineage_records(root: Any, repo: Any, depth: int | None = None, direction: str = "up") -> dict[str, Any]:
    """The root and its ancestors (``up``), descendants (``down``) or both, up to
    ``depth`` levels, of any kind, by id.

    Walks up with ``lineage.walk`` from the root's own parent list (so an artifact that
    was never stored, e.g. under read_only, still shows its inputs)."""
    from provkit.core.errors import RecordNotFoundError
    from provkit.services.lineage import get_record, walk

    if repo is None:
        return {root.id: root}

    def parents(frontier: list[str]) -> dict[str, list[str]]:
        known = {root.id: _parent_ids(root)} if root.id in frontier else {}
        rest = [i for i in frontier if i != root.id]
        return {**known, **(repo.parents_of(rest) if rest else {})}

    if direction not in ("up", "down", "both"):
        raise ValueError(f"direction must be 'up', 'down' or 'both', got {direction!r}")
    related: dict[str, int] = {}
    if direction in ("up", "both"):
        related.update(walk(root.id, parents, depth))
    if direction in ("down", "both"):
        related.update(walk(root.id, repo.children_of, depth))
    found: dict[str, Any] = {root.id: root}
    for record_id in related:
        try:
            found[record_id] = get_record(repo, record_id)
        except (ArtifactNotFoundError, RecordNotFoundError):
            continue  # recorded in another repository: drawn without it
    return found


def lineage_artifacts(root: Artifact, depth: int | None = None) -> dict[str, Any]:
    """The root artifact and everything upstream of it, by id."""
    return lineage_records(root, root.repo, depth)


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class LineageGraph:
    """A lineage picture; shows itself as SVG in notebooks."""

    def __init__(self, digraph: Any, root_id: str) -> None:
        self.digraph = digraph
        self.root_id = root_id

    @property
    def source(self) -> str:
        return self.digraph.source

    def svg(self) -> str:
        try:
            return self.digraph.pipe(format="svg", encoding="utf-8")
        except Exception as exc:  # graphviz.ExecutableNotFound and friends
            raise ProvkitError(f"rendering lineage needs the graphviz 'dot' program ({exc})") from exc

    def _repr_svg_(self) -> str:
        return self.svg()

    def render(self, path: str, format: str = "svg") -> str:  # noqa: A002 - graphviz's name
        return self.digraph.render(outfile=path, format=format, cleanup=True)

    def __repr__(self) -> str:
        return f"<LineageGraph of {self.root_id}>"


def visualize_lineage(
    obj: Any,
    depth: int | None = None,
    show_values: bool = True,
    repo: Any = None,
    direction: str = "up",
    link: Callable[[str], str] | None = None,
) -> LineageGraph:
    """Draw a record (artifact, proxy, dataset, execution or id) and its neighbourhood:
    everything upstream (``direction="up"``), downstream (``"down"``) or both; artifacts
    as boxes, datasets as folders, executions as ellipses, the record itself in red.
    ``link(record_id)`` gives each node a URL (SVG output: the node is a link)."""
    try:
        import graphviz
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ProvkitError("visualize_lineage needs graphviz: pip install 'provkit[vis]'") from exc
    root, repo = _root(obj, repo)
    records = lineage_records(root, repo, depth, direction)
    dot = graphviz.Digraph(
        "lineage", graph_attr={"rankdir": "LR"}, node_attr={"fontname": "Helvetica", "fontsize": "10"}
    )
    for record in records.values():
        style = {"color": _ROOT_COLOR, "penwidth": "2.5"} if record.id == root.id else {}
        if link is not None:
            style = {**style, "URL": link(record.id), "target": "_top", "tooltip": record.id}
        kind = getattr(record, "kind", None)
        if kind in ("dataset", "execution"):
            _registry_node(dot, record, style)
            for parent in _parent_ids(record):
                if parent in records:
                    dot.edge(parent, record.id)
        else:
            _artifact_node(dot, record, records, show_values, style)
    return LineageGraph(dot, root.id)


def _registry_node(dot: Any, record: Any, style: dict) -> None:
    name = html.escape(record.name)
    if record.kind == "dataset":
        label = (f"<<b>{name}</b><br/>{record.version} · {record.id[:14]}"
                 f"<br/><i>{html.escape(record.owner_type)}/{html.escape(record.owner)}/"
                 f"{html.escape(_short(record.relpath))}</i>")  # fmt: skip
        if record.status != "valid":
            label += f"<br/>[{record.status}]"
        dot.node(record.id, label=label + ">", shape="folder", **style)
    else:
        when = record.start_time.strftime("%Y-%m-%d %H:%M") if record.start_time else ""
        dot.node(record.id, label=f"<<b>{name}</b><br/>{record.id[:14]}<br/>{when}>", shape="ellipse", **style)


def _artifact_node(dot: Any, artifact: Artifact, records: dict, show_values: bool, style: dict) -> None:
    label = f"<<b>{html.escape(artifact.name)}</b><br/>v{artifact.version} · {artifact.id[:12]}"
    if show_values and artifact._value_bytes is not None and artifact.repo is not None:
        with contextlib.suppress(ProvkitError):
            label += f"<br/><i>{html.escape(_short(repr(artifact.repo.load_value(artifact))))}</i>"
    dot.node(artifact.id, label=label + ">", shape="box", style="rounded", **style)
    by_input: dict[str, list[str]] = {}
    for arg, summary in artifact.inputs_json.items():
        items = summary if arg == "__varargs" else [summary]
        for item in items:
            if isinstance(item, dict) and "id" in item and item["id"] in records:
                by_input.setdefault(item["id"], []).append(arg)
            elif arg != "__varargs" and not (isinstance(item, dict) and "id" in item):
                node = f"{artifact.id}__arg_{arg}"
                dot.node(node, label=f"{arg}={_short(repr(item), 30)}", shape="plaintext", fontcolor="#555555")
                dot.edge(node, artifact.id, color="#999999")
    for input_id in artifact.input_artifact_ids:
        if input_id in records:
            dot.edge(input_id, artifact.id, label=", ".join(by_input.get(input_id, [])))
