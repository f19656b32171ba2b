"""Lineage pictures with graphviz: ``visualize_lineage(proxy_or_artifact)``.

The result renders as SVG in Jupyter (``_repr_svg_``), and offers ``.source`` (DOT),
``.svg()`` and ``.render(path, format)``. Needs the ``graphviz`` extra and the ``dot``
program (Debian package ``graphviz``).
"""

from __future__ import annotations

import contextlib
import html
from typing import Any

from .artifacts import Artifact
from .errors import ArtifactNotFoundError, ProvkitError
from .hashing import is_proxy

__all__ = ["visualize_lineage", "LineageGraph", "lineage_artifacts"]

_ROOT_COLOR = "#c0392b"


def _as_artifact(obj: Any) -> Artifact:
    if is_proxy(obj):
        return obj.artifact
    if isinstance(obj, Artifact):
        return obj
    if isinstance(obj, str):
        from .artifacts import load_artifact

        return load_artifact(obj)
    raise TypeError(f"visualize_lineage needs an ArtifactProxy, Artifact or artifact id, got {type(obj).__name__}")


def lineage_artifacts(root: Artifact, depth: int | None = None) -> dict[str, Artifact]:
    """The root and its ancestors (up to ``depth`` levels), by id.

    Walks with ``lineage.walk`` from the root's own parent list (so an artifact that was
    never stored, e.g. under read_only, still shows its inputs)."""
    from .lineage import walk

    repo = root.repo
    if repo is None:
        return {root.id: root}

    def parents(frontier: list[str]) -> dict[str, list[str]]:
        known = {root.id: list(root.input_artifact_ids)} if root.id in frontier else {}
        rest = [i for i in frontier if i != root.id]
        return {**known, **(repo.parents_of(rest) if rest else {})}

    found: dict[str, Artifact] = {root.id: root}
    for artifact_id in walk(root.id, parents, depth):
        try:
            found[artifact_id] = repo.get_artifact(artifact_id)
        except ArtifactNotFoundError:
            continue  # an input recorded in another repository: drawn without it
    return found


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


def visualize_lineage(obj: Any, depth: int | None = None, show_values: bool = True) -> LineageGraph:
    """Draw the artifact behind ``obj`` and everything upstream of it."""
    try:
        import graphviz
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ProvkitError("visualize_lineage needs graphviz: pip install 'provkit[vis]'") from exc
    root = _as_artifact(obj)
    artifacts = lineage_artifacts(root, depth)
    dot = graphviz.Digraph(
        "lineage", graph_attr={"rankdir": "LR"}, node_attr={"fontname": "Helvetica", "fontsize": "10"}
    )
    for artifact in artifacts.values():
        label = f"<<b>{html.escape(artifact.name)}</b><br/>v{artifact.version} · {artifact.id[:12]}"
        if show_values and artifact._value_bytes is not None and artifact.repo is not None:
            with contextlib.suppress(ProvkitError):
                label += f"<br/><i>{html.escape(_short(repr(artifact.repo.load_value(artifact))))}</i>"
        label += ">"
        style = {"color": _ROOT_COLOR, "penwidth": "2.5"} if artifact.id == root.id else {}
        dot.node(artifact.id, label=label, shape="box", style="rounded", **style)
        by_input: dict[str, list[str]] = {}
        for arg, summary in artifact.inputs_json.items():
            items = summary if arg == "__varargs" else [summary]
            for item in items:
                if isinstance(item, dict) and "id" in item and item["id"] in artifacts:
                    by_input.setdefault(item["id"], []).append(arg)
                elif arg != "__varargs" and not (isinstance(item, dict) and "id" in item):
                    node = f"{artifact.id}__arg_{arg}"
                    dot.node(node, label=f"{arg}={_short(repr(item), 30)}", shape="plaintext", fontcolor="#555555")
                    dot.edge(node, artifact.id, color="#999999")
        for input_id in artifact.input_artifact_ids:
            if input_id in artifacts:
                dot.edge(input_id, artifact.id, label=", ".join(by_input.get(input_id, [])))
    return LineageGraph(dot, root.id)
