"""Registry commands: ``provkit register execution|dataset`` and ``provkit dataset ...``.

Listing datasets and executions is ``provkit ls --datasets`` / ``--executions``;
``show``, ``get`` and ``lineage`` take dataset and execution ids as well.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

from provkit.interfaces.cli._app import app, err, print_json, say
from provkit.interfaces.cli._render import JSON_HELP, human_size, print_table, short_id, timestamp

register_app = typer.Typer(no_args_is_help=True, help="Register executions and datasets.")
dataset_app = typer.Typer(no_args_is_help=True, help="Replace, delete and clean up datasets.")
app.add_typer(register_app, name="register")
app.add_typer(dataset_app, name="dataset")


def registry(owner: str | None = None, owner_type: str = "user") -> Any:
    import provkit as p

    return p.Registry(owner=owner, owner_type=owner_type)


@contextlib.contextmanager
def copy_progress(what: str) -> Iterator[Any]:
    """A rich progress bar (bytes, speed, time left) fed by the registry's callback."""
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(escape(what), total=None)  # names are data, not markup

        def advance(nbytes: int, total: int) -> None:
            bar.update(task, total=total, advance=nbytes)

        yield advance


def dataset_row(ds: Any) -> dict:
    return {
        "id": ds.id, "name": ds.name, "version": ds.version, "status": ds.status, "owner": ds.owner,
        "owner_type": ds.owner_type, "relpath": ds.relpath, "nfiles": ds.nfiles, "total_size": ds.total_size,
        "data_org": ds.data_org, "keywords": ds.keywords, "execution_id": ds.execution_id,
        "replace_iteration": ds.replace_iteration, "created": ds.created_at.isoformat() if ds.created_at else None,
        "creator": ds.creator, "description": ds.description, "location_type": ds.location_type, "url": ds.url,
    }  # fmt: skip


def execution_row(ex: Any) -> dict:
    return {
        "id": ex.id, "name": ex.name, "description": ex.description, "site": ex.site, "creator": ex.creator,
        "start_time": ex.start_time.isoformat() if ex.start_time else None, "inputs": ex.input_ids,
    }  # fmt: skip


def datasets_table(datasets: list[Any], wide: bool = False, extra: dict[str, list[str]] | None = None) -> None:
    """One row per dataset; ``extra`` adds columns (``{name: [cell per dataset]}``)."""
    extra = {k: v for k, v in (extra or {}).items() if not (wide and k in ("owner", "keywords"))}
    if wide:
        columns = ["id", "name", "version", "status", "owner", "relpath", "files", "bytes", "created", "keywords"]
    else:
        columns = ["id", "name", "version", "status", "relpath", "size", "created"]
    columns += list(extra)
    rows = []
    for ds in datasets:
        version = ds.version + (f"+r{ds.replace_iteration}" if ds.replace_iteration else "")
        if wide:
            rows.append([ds.id, ds.name, version, ds.status, f"{ds.owner_type}/{ds.owner}", ds.relpath, ds.nfiles,
                         f"{ds.total_size:,}", timestamp(ds.created_at, True), ", ".join(ds.keywords)])  # fmt: skip
        else:
            rows.append([short_id(ds.id, False), ds.name, version, ds.status, ds.relpath, human_size(ds.total_size),
                         timestamp(ds.created_at, False)[:10]])  # fmt: skip
        rows[-1] += [cells[len(rows) - 1] for cells in extra.values()]
    print_table(columns, rows, wide, flex=("name", "relpath", "owner", "keywords", "aliases", "execution", "site"))


def executions_table(executions: list[Any], wide: bool = False) -> None:
    columns = ["id", "name", "site", "creator", "started", "inputs"]
    rows = [[short_id(ex.id, wide), ex.name, ex.site or "", ex.creator or "", timestamp(ex.start_time, wide),
             ", ".join(ex.input_ids) if wide else len(ex.input_ids)] for ex in executions]  # fmt: skip
    print_table(columns, rows, wide, flex=("name", "site", "creator"))


def _emit_dataset(ds: Any, as_json: bool) -> None:
    if as_json:
        print_json(dataset_row(ds))
    else:
        say(ds.id)


@register_app.command("execution")
def register_execution(
    name: str = typer.Argument(..., help="Name of the pipeline stage"),
    description: str = typer.Option(None, help="What it does"),
    site: str = typer.Option(None, help="Where it ran (default: this host)"),
    configuration: str = typer.Option(None, help="A configuration file whose text is kept with it"),
    inputs: list[str] = typer.Option([], "--input", "-i", help="Id of an input dataset or artifact (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Record a pipeline stage and its input datasets; prints its id."""
    text = None
    if configuration is not None:
        with open(configuration, encoding="utf-8") as fh:
            text = fh.read()
    ex = registry().register_execution(name, description=description, site=site, configuration=text,
                                       input_datasets=inputs)  # fmt: skip
    print_json(execution_row(ex)) if as_json else say(ex.id)


@register_app.command("dataset")
def register_dataset(
    name: str = typer.Argument(..., help="Dataset name"),
    version: str = typer.Argument(..., help="X.Y.Z, or major / minor / patch to bump the latest"),
    old_location: str = typer.Option(None, "--old-location", help="File or folder to copy in (omit: already there)"),
    relpath: str = typer.Option(None, help="Path under <owner_type>/<owner>/ (default: the name)"),
    location_type: str = typer.Option(
        "dataregistry", "--location-type", help="dataregistry (copied in), external, dummy or meta_only"
    ),
    url: str = typer.Option(None, help="Where an external dataset is"),
    contact_email: str = typer.Option(None, "--contact-email", help="Who to ask about it"),
    execution_name: str = typer.Option(None, "--execution-name", help="Name of the execution recorded for it"),
    execution_site: str = typer.Option(None, "--execution-site", help="Where that execution ran"),
    execution_configuration: str = typer.Option(None, "--execution-config", help="A config file kept with it"),
    owner: str = typer.Option(None, help="Owner (default: you)"),
    owner_type: str = typer.Option("user", "--owner-type", help="user, group, project or production"),
    description: str = typer.Option(None, help="What it holds"),
    execution: str = typer.Option(None, "--execution", "-e", help="Id of the execution that made it"),
    inputs: list[str] = typer.Option([], "--input", "-i", help="Input dataset id; records an execution for it"),
    keywords: list[str] = typer.Option([], "--keyword", "-k", help="Keyword (repeatable)"),
    overwritable: bool = typer.Option(False, "--overwritable", help="Allow `provkit dataset replace` later"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Register a dataset, copying --old-location into the registry; prints its id."""
    reg = registry(owner, owner_type)
    with copy_progress(f"copying {name}") as progress:
        ds = reg.register_dataset(
            relpath or name, version, name=name, old_location=old_location, description=description,
            execution_id=execution, input_datasets=inputs, keywords=keywords, is_overwritable=overwritable,
            progress=progress, location_type=location_type, url=url, contact_email=contact_email,
            execution_name=execution_name, execution_site=execution_site,
            execution_configuration=execution_configuration,
        )  # fmt: skip
    _emit_dataset(ds, as_json)


@dataset_app.command("replace")
def replace_dataset(
    dataset_id: str = typer.Argument(..., help="Id (or a unique prefix) of the dataset to replace"),
    old_location: str = typer.Option(..., "--old-location", help="The new files (file or folder)"),
    description: str = typer.Option(None, help="A new description (default: keep the old one)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Replace an overwritable dataset's files; the old record stays as history."""
    from provkit.interfaces.cli._ids import resolve

    dataset_id = resolve(dataset_id)
    reg = registry()
    with copy_progress(f"copying {os.path.basename(old_location)}") as progress:
        ds = reg.replace_dataset(dataset_id, old_location, description=description, progress=progress)
    _emit_dataset(ds, as_json)


@dataset_app.command("delete")
def delete_dataset(
    dataset_id: str = typer.Argument(..., help="Id (or a unique prefix) of the dataset to delete"),
    force: bool = typer.Option(False, "--force", help="Delete even if others depend on it (files are kept)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Mark a dataset deleted and free its relpath; refuses if others were built from it."""
    from provkit.interfaces.cli._ids import resolve

    ds = registry().delete_dataset(resolve(dataset_id), force=force)
    print_json(dataset_row(ds)) if as_json else say(f"{ds.id} {ds.status}")


@dataset_app.command("cleanup")
def cleanup(
    older_than: float = typer.Option(24.0, help="Also drop pending registrations older than this many hours"),
) -> None:
    """Drop registrations left pending by crashed processes (and their files)."""
    for dataset_id in registry().cleanup(older_than * 3600):
        say(f"{dataset_id} discarded")


@dataset_app.command("show")
def show_dataset(
    dataset_id: str = typer.Argument(..., help="Id (or a unique prefix) of a dataset, or an alias"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Everything recorded about one dataset (as `provkit show`), retraction and taint included."""
    from provkit.interfaces.cli._ids import resolve

    dataset_id = resolve(dataset_id)
    if not dataset_id.startswith("ds_"):
        raise ValueError(f"{dataset_id} is not a dataset (use `provkit show`)")
    show_record(dataset_id, as_json)


def show_record(record_id: str, as_json: bool) -> None:
    """``provkit show`` for a dataset or an execution."""
    import provkit as p
    from provkit.services.lineage import get_record

    reg = registry()
    record = get_record(p.get_default_repo(), record_id)
    data = record.to_dict()
    data["dependents"] = reg.dependents(record.id)
    taint = p.taint_of(record.id)
    if taint is not None:  # retracted, or built on something retracted
        data["retracted" if taint.record_id == taint.retracted_id else "tainted"] = taint.describe()
    if record.kind == "dataset" and record.location:
        data["files_url"] = reg.url(record)
        data["url"] = record.url or data["files_url"]
    if as_json:
        print_json(data)
        return
    from provkit.interfaces.cli._render import field_table

    rows = []
    for key, value in data.items():
        if key == "manifest":
            value = f"{len(value)} files"
        rows.append((key, str(value) if value not in (None, "", [], {}) else ""))
    field_table(rows)


def get_dataset_files(dataset_id: str, to: str) -> None:
    """``provkit get`` for a dataset: copy its files (hash-checked) into ``to``."""
    reg = registry()
    with copy_progress(f"downloading {dataset_id[:14]}") as progress:
        path = reg.fetch(dataset_id, to, progress)
    say(path)
