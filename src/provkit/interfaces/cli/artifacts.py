"""Commands about artifacts: config, ls, find, show, get, upload."""

from __future__ import annotations

import json
import os
from typing import Any

import typer
from rich.progress import Progress

from provkit.interfaces.cli._app import app, out, print_json, say
from provkit.interfaces.cli._render import JSON_HELP, WIDE_HELP, field_table, print_table, short_id, timestamp


def _row(artifact: Any) -> dict:
    return {
        "id": artifact.id,
        "kind": artifact.kind,
        "name": artifact.name,
        "version": artifact.version,
        "user": artifact.user,
        "created": artifact.computed_at.isoformat() if artifact.computed_at else None,
        "based_on": list(artifact.input_artifact_ids),
        "labels": artifact.custom_fields.get("labels"),
        "files": artifact.custom_fields.get("file_relpaths"),
    }


def _table(artifacts: list[Any], wide: bool) -> None:
    if wide:
        columns = ["id", "kind", "name", "v", "user", "created", "based on", "labels", "files"]
    else:
        columns = ["id", "name", "v", "user", "created", "parents"]
    rows = []
    for a in artifacts:
        labels = a.custom_fields.get("labels") or {}
        shown = {k: v for k, v in labels.items() if v not in ("", None, {}, [])}
        row = [short_id(a.id, wide), a.name, a.version, a.user or "", timestamp(a.computed_at, wide),
               len(a.input_artifact_ids)]  # fmt: skip
        if wide:
            files = a.custom_fields.get("file_relpaths") or []
            row[4:6] = [row[4], ", ".join(a.input_artifact_ids)]
            row.insert(1, a.kind)
            row += [json.dumps(shown, default=str) if shown else "", ", ".join(files)]
        rows.append(row)
    print_table(columns, rows, wide, flex=("name", "user", "labels", "files"))


def _emit(artifacts: list[Any], as_json: bool, wide: bool = False) -> None:
    print_json([_row(a) for a in artifacts]) if as_json else _table(artifacts, wide)


@app.command()
def config() -> None:
    """Show where the repository lives and what is configured."""
    import provkit as p
    from provkit.core.masking import mask
    from provkit.interfaces.cli._app import env_home

    cfg = p.current_config().raw
    print_json(mask({"default_repo": repr(p.get_default_repo()), "provkit_home": env_home(), "config": cfg}))


@app.command("ls")
def ls(
    datasets: bool = typer.Option(False, "--datasets", "-d", help="List registry datasets instead of artifacts"),
    executions: bool = typer.Option(False, "--executions", "-x", help="List registry executions"),
    kind: str = typer.Option(None, help="cached or files"),
    name: str = typer.Option(None, help="Artifact, dataset or execution name ('*' a wildcard for datasets)"),
    user: str = typer.Option(None, help="Who made it"),
    datatype: str = typer.Option(None, help="labels.datatype of file artifacts"),
    owner: str = typer.Option(None, help="Datasets of this owner"),
    owner_type: str = typer.Option(None, "--owner-type", help="Datasets of this owner type"),
    keyword: str = typer.Option(None, help="Datasets with this keyword"),
    alias: str = typer.Option(None, help="Datasets this alias leads to"),
    location_type: str = typer.Option(None, "--location-type", help="dataregistry, external, dummy or meta_only"),
    execution_name: str = typer.Option(None, "--execution-name", help="Datasets whose execution has this name"),
    site: str = typer.Option(None, help="Datasets whose execution ran at this site"),
    query_mode: str = typer.Option("both", "--query-mode", help="Datasets of both areas, working or production"),
    columns: list[str] = typer.Option([], "--column", "-c", help="Add this dataset field as a column (repeatable)"),
    status: str = typer.Option(None, help="Datasets with this status (default: valid)"),
    show_all: bool = typer.Option(False, "--all", help="Datasets of every status (history too)"),
    limit: int = typer.Option(50, help="At most this many (newest first); 0 for all"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    wide: bool = typer.Option(False, "--wide", "-w", help=WIDE_HELP),
) -> None:
    """List artifacts (or --datasets / --executions), newest first, with filters."""
    import provkit as p
    from provkit.interfaces.cli.registry_cmd import dataset_row, datasets_table, execution_row, executions_table

    if datasets:
        from provkit.interfaces.cli.dataset_listing import dataset_query, extra_columns

        filters = {"owner": owner, "owner_type": owner_type, "keyword": keyword, "alias": alias,
                   "location_type": location_type, "execution_name": execution_name, "site": site}  # fmt: skip
        reg = p.Registry()
        query = dataset_query({**filters, "name": name, "status": status})
        found = reg.find_datasets(query, all_statuses=show_all, query_mode=query_mode, limit=limit or None)
        extra = extra_columns(filters, found, reg, columns)
        if as_json:
            rows = [dataset_row(d) for d in found]
            print_json([{**{k: v[i] for k, v in extra.items()}, **row} for i, row in enumerate(rows)])
        else:
            datasets_table(found, wide, extra)
        return
    if executions:
        runs = p.Registry().find_executions(name)[: limit or None]
        print_json([execution_row(e) for e in runs]) if as_json else executions_table(runs, wide)
        return
    query: dict = {}
    for key, value in (("kind", kind), ("name", name), ("user", user), ("labels.datatype", datatype)):
        if value is not None:
            query[key] = value
    _emit(list(p.find_artifacts(query, limit or None)), as_json, wide)


@app.command()
def find(
    query: str = typer.Argument(..., help="A Mongo-style query as JSON"),
    datasets: bool = typer.Option(False, "--datasets", "-d", help="Query registry datasets instead of artifacts"),
    show_all: bool = typer.Option(False, "--all", help="Datasets of every status (history too)"),
    limit: int = typer.Option(0, help="At most this many; 0 for all"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    wide: bool = typer.Option(False, "--wide", "-w", help=WIDE_HELP),
) -> None:
    """Find artifacts (or --datasets) by a query, e.g. '{"labels.datatype": "model"}'."""
    import provkit as p

    try:
        parsed = json.loads(query)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the query is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ValueError(f'the query must be a JSON object such as \'{{"name": "x"}}\', got {query!r}')
    if datasets:
        from provkit.interfaces.cli.registry_cmd import dataset_row, datasets_table

        found = p.Registry().find_datasets(parsed, all_statuses=show_all, limit=limit or None)
        print_json([dataset_row(d) for d in found]) if as_json else datasets_table(found, wide)
        return
    _emit(list(p.find_artifacts(parsed, limit or None)), as_json, wide)


@app.command()
def show(
    artifact_id: str = typer.Argument(
        ..., help="Id (or a unique prefix) of an artifact, dataset or execution, a dataset alias, or 'keywords'"
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Everything recorded about one artifact, dataset or execution."""
    import provkit as p
    from provkit.interfaces.cli._ids import resolve

    if artifact_id == "keywords":
        from provkit.interfaces.cli.curation_cmd import show_keywords

        show_keywords(as_json)
        return
    artifact_id = resolve(artifact_id)
    if artifact_id.startswith(("ds_", "ex_")):
        from provkit.interfaces.cli.registry_cmd import show_record

        show_record(artifact_id, as_json)
        return
    art = p.load_artifact(artifact_id)
    data = {**art.to_dict(), "run_info": art.run_info}
    data.pop("load_kwargs", None)
    taint = p.taint_of(artifact_id)
    if taint is not None:  # retracted, or built on something retracted
        data["retracted" if taint.record_id == taint.retracted_id else "tainted"] = taint.describe()
    if as_json:
        print_json(data)
        return
    rows = []
    for key, value in data.items():
        if key == "run_info" and value:
            value = {k: value.get(k) for k in ("user", "argv", "host", "git", "python")}
        rows.append((key, json.dumps(value, default=str) if not isinstance(value, str) else value))
    field_table(rows)


@app.command()
def get(
    artifact_id: str = typer.Argument(..., help="Id (or a unique prefix) of a file artifact or a dataset"),
    to: str = typer.Option(..., "--to", help="Directory to write into"),
) -> None:
    """Download a file artifact's or a dataset's files (or an archived file) into a directory."""
    import provkit as p
    from provkit.interfaces.cli._ids import resolve

    artifact_id = resolve(artifact_id)
    if artifact_id.startswith("ds_"):
        from provkit.interfaces.cli.registry_cmd import get_dataset_files

        get_dataset_files(artifact_id, to)
        return
    art = p.load_artifact(artifact_id)
    os.makedirs(to, exist_ok=True)
    value = art.value
    if isinstance(value, p.FileSet):
        with Progress(console=out, transient=True) as progress:
            task = progress.add_task("downloading", total=sum(value[r].size for r in value))
            for rel in value:
                dest = value[rel].download(to)
                progress.advance(task, value[rel].size)
                progress.console.print(_plain(dest), soft_wrap=True)
    elif isinstance(value, p.ArchivedFile):
        dest = value.copy_to(os.path.join(to, value.original_name or art.value_id))  # checked on the way
        say(dest)
    else:
        raise ValueError(f"{artifact_id} is a cached value ({type(value).__name__}), not files; use the Python API")


def _plain(value: Any) -> Any:
    from rich.text import Text

    return Text(str(value))


def _pairs(items: list[str], what: str) -> dict:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} must look like key=value, got {item!r}")
        pairs[key] = value
    return pairs


@app.command()
def upload(
    files: list[str] = typer.Argument(..., help="Files or folders to upload (folders: everything inside)"),
    label: list[str] = typer.Option([], "--label", "-l", help="ticket/project/datatype/dataset/description=VALUE"),
    info: list[str] = typer.Option([], "--info", help="free-form key=value (labels.infos)"),
    root: str = typer.Option(None, help="Relative paths from here (default: the files' common folder)"),
    based_on: list[str] = typer.Option([], "--based-on", help="Parent artifact id (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Upload files as one artifact with labels; prints its id."""
    import provkit as p

    labels = _pairs(label, "--label")
    labels["infos"] = _pairs(info, "--info")
    from provkit.interfaces.cli.registry_cmd import copy_progress

    with copy_progress("uploading") as progress:
        art = p.Files().upload(files, labels=labels, root=root, based_on=based_on, progress=progress)
    if as_json:
        print_json(_row(art.artifact))
    else:
        say(art.artifact.id)
