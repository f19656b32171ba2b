"""Rich display in Jupyter: artifacts show their record and lineage, sets their members."""

from __future__ import annotations

import html
import json
from typing import Any

from provkit.core.artifacts import Artifact
from provkit.core.errors import ProvkitError
from provkit.core.sets import ArtifactSet
from provkit.core.status import status_note
from provkit.interfaces.vis import visualize_lineage
from provkit.services.registry.records import Dataset, Execution

_ROWS = ("id", "name", "version", "kind", "user", "computed_at", "value_id", "run_id", "input_artifact_ids")


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return html.escape(text if len(text) <= 200 else text[:199] + "…")


def artifact_svg(artifact: Artifact, depth: int = 3) -> str:
    return visualize_lineage(artifact, depth=depth).svg()


def _status_html(record: Any, repo: Any = None) -> str:
    """A red line saying the record is retracted or tainted (empty when it is not)."""
    note = status_note(record, repo)
    return f"<div style='color:#b00020'><b>{html.escape(note)}</b></div>" if note else ""


def artifact_html(artifact: Artifact) -> str:
    rows = "".join(
        f"<tr><th style='text-align:left'>{k}</th><td>{_cell(getattr(artifact, k))}</td></tr>" for k in _ROWS
    )
    status = _status_html(artifact, artifact.repo)
    picture = ""
    try:
        picture = f"<div>{artifact_svg(artifact)}</div>"
    except ProvkitError:  # no `dot` program: the table alone still says everything
        picture = ""
    return f"<div><b>provkit.Artifact</b>{status}<table>{rows}</table>{picture}</div>"


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


def _table(title: str, rows: list[tuple[str, Any]]) -> str:
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows
        if v not in (None, "")
    )
    return f"<table><caption><b>{title}</b></caption>{body}</table>"


def execution_html(execution: Execution) -> str:
    rows = [("name", execution.name), ("id", execution.id), ("description", execution.description),
            ("site", execution.site), ("started", execution.start_time), ("creator", execution.creator),
            ("inputs", ", ".join(execution.input_ids))]  # fmt: skip
    return _table("Execution", rows)


def dataset_html(dataset: Dataset) -> str:
    rows = [("name", dataset.name), ("version", dataset.version), ("id", dataset.id), ("status", dataset.status),
            ("owner", f"{dataset.owner_type}/{dataset.owner}"), ("relpath", dataset.relpath),
            ("files", f"{dataset.nfiles} ({dataset.total_size:,} bytes, {dataset.data_org})"),
            ("keywords", ", ".join(dataset.keywords)), ("execution", dataset.execution_id),
            ("description", dataset.description)]  # fmt: skip
    return _status_html(dataset) + _table("Dataset", rows)


def record_svg(record: Execution | Dataset) -> str:
    return visualize_lineage(record)._repr_svg_()


def install() -> None:
    """Give the record types their Jupyter reprs (``import provkit`` does this)."""
    Artifact._repr_html_ = artifact_html
    Artifact._repr_svg_ = artifact_svg
    ArtifactSet._repr_html_ = set_html
    for record_type, to_html in ((Execution, execution_html), (Dataset, dataset_html)):
        record_type._repr_html_ = to_html
        record_type._repr_svg_ = record_svg
