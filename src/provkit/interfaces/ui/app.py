"""The pages of ``provkit ui``: a Starlette app over one repository, read-only.

Stable addresses: ``/search?q=<JSON query>``, ``/artifacts/<id>`` (``/files/<id>`` too),
``/sets/<id>``, ``/datasets/<id or name>``, ``/executions/<id>``,
``/lineage/<id>?depth=N&direction=up|down|both``. Every value is HTML-escaped by the
templates; errors never show the repository's address or credentials.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from provkit.core.errors import ArtifactNotFoundError, QueryError, RecordNotFoundError, SetNotFoundError
from provkit.interfaces.ui import details, search_data
from provkit.interfaces.ui.guard import Guard

__all__ = ["create_app"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_log = logging.getLogger("provkit.ui")
_NOT_FOUND = (ArtifactNotFoundError, RecordNotFoundError, SetNotFoundError)
_CHUNK = 1 << 20


def _templates() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.join(_HERE, "templates")),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )  # fmt: skip
    env.globals.update(record_url=details.record_url, urlencode=urlencode, python_line=details.python_line,
                       cli_lines=details.cli_lines, KINDS=search_data.KINDS)  # fmt: skip
    env.filters["when"] = lambda t: t.strftime("%Y-%m-%d %H:%M:%S") if t is not None else ""
    env.filters["size"] = _size
    env.filters["short"] = lambda text, n=14: text if text is None or len(text) <= n else text[:n] + "…"
    env.filters["tojson_pretty"] = lambda v: __import__("json").dumps(v, indent=2, default=str, sort_keys=True)
    return env


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


class _Pages:
    """The route handlers, bound to one repository."""

    def __init__(self, repo: Any) -> None:
        self.repo = repo
        self.env = _templates()

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    def registry(self) -> Any:
        from provkit.services.registry import Registry

        return Registry(self.repo)

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/search", status_code=302)

    def search(self, request: Request) -> Response:
        form = search_data.parse_form(request.query_params)
        page, status = None, 200
        if form.error is None:
            try:
                page = search_data.run_search(form, self.repo)
            except QueryError as exc:
                form.error, status = str(exc), 400
        else:
            status = 400
        return self.render("search.html", status, form=form, page=page, title="Search")

    def artifact(self, request: Request) -> Response:
        artifact = self.repo.get_artifact(request.path_params["id"])
        info = details.artifact_info(artifact)
        kind = "archived" if info.archived else artifact.kind
        return self.render("artifact.html", info=info, a=artifact, inputs=details.input_rows(artifact.inputs_json),
                           files=details.file_rows(artifact) if artifact.kind == "files" else [],
                           kind=kind, title=f"{artifact.name} v{artifact.version}")  # fmt: skip

    def artifact_value(self, request: Request) -> Response:
        artifact = self.repo.get_artifact(request.path_params["id"])
        text = repr(artifact.value)
        shown = text[: details.PREVIEW_BYTES]
        return self.render("preview.html", title=f"value of {artifact.name}", back=f"/artifacts/{artifact.id}",
                           relpath=None, preview={"kind": "text", "text": shown, "truncated": len(text) > len(shown)},
                           raw=None)  # fmt: skip

    def _stored_file(self, artifact_id: str, relpath: str) -> Any:
        artifact = self.repo.get_artifact(artifact_id)
        if artifact.kind == "files":
            if relpath not in (artifact.custom_fields.get("file_relpaths") or []):
                raise ArtifactNotFoundError(f"artifact {artifact_id} has no file {relpath!r}", artifact_id=artifact_id)
            return artifact, artifact.value[relpath].open("rb")
        if artifact.serializer == details.FILE_SERIALIZER:
            return artifact, artifact.value.open("rb")
        raise ArtifactNotFoundError(f"artifact {artifact_id} holds no files", artifact_id=artifact_id)

    def artifact_file(self, request: Request) -> Response:
        artifact_id, relpath = request.path_params["id"], request.path_params["relpath"]
        _, stream = self._stored_file(artifact_id, relpath)
        return _download(stream, relpath, request.query_params.get("inline") == "1")

    def artifact_preview(self, request: Request) -> Response:
        artifact_id, relpath = request.path_params["id"], request.path_params["relpath"]
        artifact, stream = self._stored_file(artifact_id, relpath)
        raw = f"/artifacts/{artifact_id}/files/{relpath}"
        kind = details.preview_kind(relpath)
        shown = {"kind": "image"} if kind == "image" else details.preview(relpath, details.read_head(stream))
        if kind == "image":
            stream.close()
        return self.render("preview.html", title=relpath, back=f"/artifacts/{artifact.id}", relpath=relpath,
                           preview=shown, raw=raw)  # fmt: skip

    def files_alias(self, request: Request) -> Response:
        return RedirectResponse(f"/artifacts/{request.path_params['id']}", status_code=301)

    def artifact_set(self, request: Request) -> Response:
        found = self.repo.get_set(request.path_params["id"])
        members = sorted(found.artifact_ids)
        start = _int(request.query_params.get("start"), "start", 0, len(members))
        shown = [(i, self.repo.lookup(i)) for i in members[start : start + search_data.MAX_LIMIT // 2]]
        return self.render("set.html", s=found, members=shown, start=start, total=len(members),
                           step=search_data.MAX_LIMIT // 2, title=f"set {found.name or found.id[:14]}")  # fmt: skip

    def dataset(self, request: Request) -> Response:
        registry = self.registry()
        ds = self._dataset(registry, request.path_params["id"])
        history = registry.find_datasets(name=ds.name, owner=ds.owner, owner_type=ds.owner_type,
                                         all_statuses=True, limit=search_data.MAX_LIMIT)  # fmt: skip
        return self.render("dataset.html", ds=ds, history=history, files=details.dataset_files(ds),
                           title=f"{ds.name} {ds.version}")  # fmt: skip

    def _dataset(self, registry: Any, key: str) -> Any:
        if key.startswith("ds_"):
            return registry.get_dataset(key)
        found = registry.find_datasets(name=key, limit=search_data.MAX_LIMIT)  # a name works as an alias
        if not found:
            raise RecordNotFoundError(f"no dataset {key!r}", record_id=key)
        owners = {(d.owner_type, d.owner) for d in found}
        if len(owners) > 1:
            shown = ", ".join(sorted(f"{t}/{o}" for t, o in owners))
            raise QueryError(f"several owners have a dataset named {key!r} ({shown}): use its id")
        return max(found, key=lambda d: (d.version_tuple, d.replace_iteration))

    def dataset_file(self, request: Request) -> Response:
        registry = self.registry()
        ds = registry.get_dataset(request.path_params["id"])
        relpath = request.path_params["relpath"]
        stream = details.open_dataset_file(registry, ds, relpath)
        if request.url.path.startswith(f"/datasets/{ds.id}/preview/"):
            shown = details.preview(relpath, details.read_head(stream)) if details.preview_kind(relpath) != "image" \
                else {"kind": "image"}  # fmt: skip
            return self.render("preview.html", title=relpath, back=f"/datasets/{ds.id}", relpath=relpath,
                               preview=shown, raw=f"/datasets/{ds.id}/files/{relpath}")  # fmt: skip
        return _download(stream, relpath, request.query_params.get("inline") == "1")

    def execution(self, request: Request) -> Response:
        registry = self.registry()
        ex = registry.get_execution(request.path_params["id"])
        outputs = registry.find_datasets(execution_id=ex.id, all_statuses=True, limit=search_data.MAX_LIMIT)
        run = (self.repo.get_run(ex.run_id) or {}) if ex.run_id else {}
        return self.render("execution.html", ex=ex, outputs=outputs, run=run, title=f"execution {ex.name}")

    def lineage(self, request: Request) -> Response:
        record_id = request.path_params["id"]
        depth = _int(request.query_params.get("depth"), "depth", 3, details.MAX_DEPTH)
        direction = request.query_params.get("direction") or "up"
        if direction not in ("up", "down", "both"):
            raise QueryError(f"direction must be up, down or both, got {direction!r}")
        info = details.lineage_info(self.repo, record_id, depth, direction)
        svg, svg_error = None, None
        if info["total"] <= 500:
            svg, svg_error = _lineage_svg(self.repo, info["root"], depth, direction)
        return self.render("lineage.html", info=info, depth=depth, direction=direction, svg=svg,
                           svg_error=svg_error, record_id=record_id, title=f"lineage of {record_id[:14]}")  # fmt: skip

    async def static_missing(self, request: Request) -> Response:
        return Response(status_code=404)


def _lineage_svg(repo: Any, root: Any, depth: int, direction: str) -> tuple[str | None, str | None]:
    """The lineage picture (graphviz SVG, nodes linking to their pages), or why there is none."""
    from provkit.core.errors import ProvkitError

    try:
        from provkit.interfaces.vis import visualize_lineage

        graph = visualize_lineage(root, depth, show_values=False, repo=repo, direction=direction,
                                  link=details.record_url)  # fmt: skip
        svg = graph.svg()
    except (ProvkitError, ImportError) as exc:
        return None, f"no picture: {exc}"
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg, None


def _int(text: str | None, what: str, default: int, maximum: int) -> int:
    if text in (None, ""):
        return default
    if not text.isdigit() or int(text) > maximum:
        raise QueryError(f"{what} must be a whole number from 0 to {maximum}, got {text!r}")
    return int(text)


def _download(stream: Any, relpath: str, inline: bool) -> Response:
    name = relpath.rsplit("/", 1)[-1]
    media = details.content_type(relpath)
    inline = inline and media in details.IMAGE_TYPES.values()
    quoted = name.replace("\\", "_").replace('"', "_")
    disposition = f'{"inline" if inline else "attachment"}; filename="{quoted}"'

    def chunks() -> Any:
        with stream as fh:
            while block := fh.read(_CHUNK):
                yield block

    return StreamingResponse(chunks(), media_type=media if inline else "application/octet-stream",
                             headers={"content-disposition": disposition})  # fmt: skip


def create_app(repo: Any = None, token: str | None = None) -> Any:
    """The ASGI app serving ``repo`` (default: the configured default repository),
    read-only; with ``token``, every request must carry it (see ``guard``)."""
    from provkit.storage.settings import get_default_repo

    pages = _Pages(repo if repo is not None else get_default_repo())

    def sync(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            from starlette.concurrency import run_in_threadpool

            try:
                return await run_in_threadpool(handler, request)
            except _NOT_FOUND as exc:
                section = request.url.path.split("/")[1]
                what = {"lineage": "record", "sets": "artifact set"}.get(section, section.rstrip("s") or "page")
                return pages.render("error.html", 404, title="Not found", message=f"No {what} "
                                    f"{request.path_params.get('id', '')!r} in this repository.",
                                    detail=_safe(exc))  # fmt: skip
            except (QueryError, ValueError) as exc:
                return pages.render("error.html", 400, title="Bad request", message=_safe(exc), detail=None)
            except Exception as exc:  # reported to the visitor by type, to the server log in full
                _log.exception("provkit ui: %s failed", request.url.path)
                return pages.render(
                    "error.html",
                    500,
                    title="Server error",
                    detail=None,
                    message=f"The page failed ({type(exc).__name__}); the server log has details.",
                )

        return endpoint

    routes = [
        Route("/", pages.home),
        Route("/search", sync(pages.search)),
        Route("/artifacts/{id}", sync(pages.artifact)),
        Route("/artifacts/{id}/value", sync(pages.artifact_value)),
        Route("/artifacts/{id}/files/{relpath:path}", sync(pages.artifact_file)),
        Route("/artifacts/{id}/preview/{relpath:path}", sync(pages.artifact_preview)),
        Route("/files/{id}", pages.files_alias),
        Route("/sets/{id}", sync(pages.artifact_set)),
        Route("/datasets/{id}", sync(pages.dataset)),
        Route("/datasets/{id}/files/{relpath:path}", sync(pages.dataset_file)),
        Route("/datasets/{id}/preview/{relpath:path}", sync(pages.dataset_file)),
        Route("/executions/{id}", sync(pages.execution)),
        Route("/lineage/{id}", sync(pages.lineage)),
        Mount("/static", StaticFiles(directory=os.path.join(_HERE, "static")), name="static"),
    ]
    app = Starlette(routes=routes)
    return Guard(app, token)


def _safe(exc: BaseException) -> str | None:
    """A not-found message without the repository's description (which names its database)."""
    text = " ".join(str(exc).split())
    cut = text.find(" in <")
    return text[:cut] if cut >= 0 else text
