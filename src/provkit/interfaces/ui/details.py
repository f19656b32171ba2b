"""What the detail and lineage pages show, read with the Python API's own functions."""

from __future__ import annotations

import csv
import io
import json
import mimetypes
import posixpath
from dataclasses import dataclass
from typing import Any

from provkit.core.errors import ArtifactNotFoundError, RecordNotFoundError
from provkit.core.files import FILE_SERIALIZER

__all__ = ["record_url", "artifact_info", "input_rows", "file_rows", "preview", "lineage_info", "MAX_DEPTH",
           "IMAGE_TYPES", "dataset_files", "open_dataset_file", "python_line", "cli_lines"]  # fmt: skip

MAX_DEPTH = 20
#: Shown inline (an <img>); anything else downloads as an attachment
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp"}  # fmt: skip
_TEXT = {".txt", ".md", ".log", ".yaml", ".yml", ".py", ".toml", ".ini", ".cfg", ".sh", ".rst", ".html", ".xml",
         ".svg"}  # fmt: skip
PREVIEW_BYTES = 64 * 1024
PREVIEW_ROWS = 50


def record_url(record_id: str) -> str:
    """The page of an artifact, dataset or execution id."""
    if record_id.startswith("ds_"):
        return f"/datasets/{record_id}"
    if record_id.startswith("ex_"):
        return f"/executions/{record_id}"
    return f"/artifacts/{record_id}"


def python_line(kind: str, record_id: str) -> str:
    if kind == "dataset":
        return f'p.Registry().load("{record_id}")'
    if kind == "execution":
        return f'p.Registry().get_execution("{record_id}")'
    if kind == "set":
        return f'p.load_set_by_id("{record_id}")'
    return f'p.load_proxy("{record_id}")'


def cli_lines(kind: str, record_id: str) -> list[str]:
    if kind == "set":
        return []
    lines = [f"provkit show {record_id}"]
    if kind in ("files", "dataset", "archived"):
        lines.append(f"provkit get {record_id} --to ./{record_id[:14]}")
    return lines


@dataclass
class ArtifactInfo:
    artifact: Any
    run: dict
    archived: bool
    timings: list[tuple[str, Any]]
    custom: dict


def artifact_info(artifact: Any) -> ArtifactInfo:
    run = artifact.run_info or {}
    names = (("compute", "compute_duration"), ("hashing inputs", "hash_duration"),
             ("hashing the value", "value_id_duration"))  # fmt: skip
    timings = [(label, getattr(artifact, attr)) for label, attr in names if getattr(artifact, attr) is not None]
    custom = {
        k: v for k, v in artifact.custom_fields.items() if k not in ("file_sizes", "file_hashes", "file_relpaths")
    }
    return ArtifactInfo(artifact, run, artifact.serializer == FILE_SERIALIZER and artifact.kind != "files", timings,
                        custom)  # fmt: skip


def input_rows(inputs_json: dict) -> list[tuple[str, str | None, str]]:
    """(argument, linked record id or None, shown text) for each recorded input."""
    rows = []
    for arg, summary in inputs_json.items():
        items = summary if arg in ("__varargs", "based_on") and isinstance(summary, list) else [summary]
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                rows.append((arg, item["id"], str(item.get("name") or item["id"])))
            elif arg == "based_on" and isinstance(item, str):
                rows.append((arg, item, item))
            else:
                rows.append((arg, None, json.dumps(item, default=str)))
    return rows


def file_rows(artifact: Any) -> list[dict]:
    """relpath, size, hash of each file of a file artifact (from its record: no blob read)."""
    fields = artifact.custom_fields
    sizes, hashes = fields.get("file_sizes") or {}, fields.get("file_hashes") or {}
    return [{"relpath": r, "size": sizes.get(r), "hash": hashes.get(r), "kind": preview_kind(r)}
            for r in fields.get("file_relpaths") or []]  # fmt: skip


def preview_kind(relpath: str) -> str:
    ext = posixpath.splitext(relpath)[1].lower()
    if ext in IMAGE_TYPES:
        return "image"
    if ext in (".csv", ".tsv"):
        return "table"
    if ext == ".json":
        return "json"
    if ext in _TEXT:
        return "text"
    return ""


def content_type(relpath: str) -> str:
    return IMAGE_TYPES.get(posixpath.splitext(relpath)[1].lower()) or (
        mimetypes.guess_type(relpath)[0] or "application/octet-stream")  # fmt: skip


def preview(relpath: str, head: bytes) -> dict:
    """What a preview page shows of the first bytes of a file: rows, pretty JSON or text."""
    kind = preview_kind(relpath)
    text = head[:PREVIEW_BYTES].decode("utf-8", errors="replace")
    truncated = len(head) > PREVIEW_BYTES
    if kind == "table":
        delimiter = "\t" if relpath.lower().endswith(".tsv") else ","
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[: PREVIEW_ROWS + 1]
        return {"kind": "table", "rows": rows, "truncated": truncated or len(rows) > PREVIEW_ROWS}
    if kind == "json" and not truncated:
        try:
            return {"kind": "text", "text": json.dumps(json.loads(text), indent=2)[:PREVIEW_BYTES], "truncated": False}
        except ValueError:
            pass
    return {"kind": kind or "text", "text": text, "truncated": truncated}


def read_head(stream: Any) -> bytes:
    with stream as fh:
        return fh.read(PREVIEW_BYTES + 1)


def _file_name(dataset: Any) -> str:
    return posixpath.basename(dataset.location or dataset.relpath)


def dataset_files(dataset: Any) -> list[dict]:
    """relpath, size, hash of each file (a one-file dataset's file is named by its location)."""
    rows = []
    for rel, entry in sorted(dataset.manifest.items()):
        shown = rel or _file_name(dataset)
        rows.append(
            {"relpath": shown, "size": entry.get("size"), "hash": entry.get("hash"), "kind": preview_kind(shown)}
        )
    return rows


def open_dataset_file(registry: Any, dataset: Any, relpath: str) -> Any:
    """A binary stream of one file of a dataset (RecordNotFoundError if it has no such file)."""
    if dataset.data_org == "file" and relpath == _file_name(dataset):
        relpath = ""
    if relpath not in dataset.manifest or dataset.location is None:
        raise RecordNotFoundError(f"dataset {dataset.id} has no file {relpath!r}", record_id=dataset.id)
    area = registry.area
    path = area.path(dataset.location) if dataset.data_org == "file" else area.path(dataset.location, relpath)
    return area.fs.open(path, "rb")


def lineage_info(repo: Any, record_id: str, depth: int, direction: str, limit: int = 500) -> dict:
    """The related records of a lineage page, from ``lineage.ancestors`` / ``descendants``."""
    from provkit.services import lineage

    root = lineage.get_record(repo, record_id)
    related: dict[str, tuple[str, int]] = {}
    if direction in ("up", "both"):
        related.update({i: ("↑", d) for i, d in lineage.ancestors(record_id, depth, repo).items()})
    if direction in ("down", "both"):
        related.update({i: ("↓", d) for i, d in lineage.descendants(record_id, depth, repo).items()})
    rows = []
    for rid, (arrow, distance) in sorted(related.items(), key=lambda kv: (kv[1][1], kv[1][0], kv[0]))[:limit]:
        try:
            record = lineage.get_record(repo, rid)
        except (ArtifactNotFoundError, RecordNotFoundError):
            record = None
        rows.append({"id": rid, "arrow": arrow, "distance": distance, "record": record,
                     "kind": getattr(record, "kind", "?") if record is not None else "elsewhere"})  # fmt: skip
    return {"root": root, "rows": rows, "total": len(related), "shown": len(rows)}
