"""Rich display in Jupyter: artifacts show their record and lineage, sets their members."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from .errors import ProvkitError

if TYPE_CHECKING:
    from .artifacts import Artifact
    from .sets import ArtifactSet

_ROWS = ("id", "name", "version", "kind", "user", "computed_at", "value_id", "run_id", "input_artifact_ids")


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return html.escape(text if len(text) <= 200 else text[:199] + "…")


def artifact_svg(artifact: Artifact, depth: int = 3) -> str:
    from .vis import visualize_lineage

    return visualize_lineage(artifact, depth=depth).svg()


def artifact_html(artifact: Artifact) -> str:
    rows = "".join(
        f"<tr><th style='text-align:left'>{k}</th><td>{_cell(getattr(artifact, k))}</td></tr>" for k in _ROWS
    )
    picture = ""
    try:
        picture = f"<div>{artifact_svg(artifact)}</div>"
    except ProvkitError:  # no `dot` program: the table alone still says everything
        picture = ""
    return f"<div><b>provkit.Artifact</b><table>{rows}</table>{picture}</div>"


def set_html(artifact_set: ArtifactSet) -> str:
    rows = []
    repo = artifact_set.repo
    for artifact_id in sorted(artifact_set.artifact_ids):
        name = ""
        if repo is not None:
            found = repo.lookup(artifact_id)
            name = found.name if found is not None else "(missing)"
        rows.append(f"<tr><td>{html.escape(artifact_id)}</td><td>{html.escape(name)}</td></tr>")
    labels = _cell(artifact_set.labels)
    return (
        f"<div><b>provkit.ArtifactSet</b> {html.escape(artifact_set.id)} labels={labels} "
        f"({len(artifact_set)} artifacts)<table><tr><th>id</th><th>name</th></tr>{''.join(rows)}</table></div>"
    )
