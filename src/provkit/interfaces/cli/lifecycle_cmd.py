"""Commands for living with a repository: pin, unpin, gc, du (verify, retract, explain and
diff live in their own modules)."""

from __future__ import annotations

import typer

from provkit.interfaces.cli._app import app, err, print_json, say
from provkit.interfaces.cli._render import JSON_HELP, human_size, print_table


@app.command()
def pin(
    record_id: str = typer.Argument(..., help="Id (or a unique prefix) of an artifact or dataset"),
    reason: str = typer.Option(..., "--reason", help="Why it must be kept (shown by `provkit pins`)"),
) -> None:
    """Keep a result (and everything it was made from) through garbage collection."""
    import provkit as p
    from provkit.interfaces.cli._ids import resolve

    mark = p.pin(resolve(record_id), reason)
    say(f"pinned {mark.record_id}")


@app.command()
def unpin(record_id: str = typer.Argument(..., help="Id (or a unique prefix) of a pinned record")) -> None:
    """Remove a pin."""
    import provkit as p
    from provkit.interfaces.cli._ids import resolve

    full = resolve(record_id)
    if not p.unpin(full):
        raise ValueError(f"{full} is not pinned")
    say(f"unpinned {full}")


@app.command()
def pins(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List pinned records with their reasons."""
    import provkit as p

    found = sorted(p.pins().values(), key=lambda m: m.created_at)
    rows = [[m.record_id, m.reason, m.user or "", m.created_at.isoformat(timespec="seconds")] for m in found]
    if as_json:
        print_json([dict(zip(("id", "reason", "user", "pinned_at"), r)) for r in rows])
    else:
        print_table(["id", "reason", "user", "pinned"], rows, True, flex=("reason",))


def _label_filters(items: list[str]) -> list[dict] | None:
    if not items:
        return None
    filters = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set-label must look like key=value, got {item!r}")
        filters.append({key: value})
    return filters


@app.command()
def gc(
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Report what would go; delete nothing"),
    keep_newer: str = typer.Option(None, "--keep-newer", help="Also keep artifacts added within this age: 12h, 30d"),
    keep_last: int = typer.Option(None, "--keep-last", help="Also keep the newest N artifacts of each function name"),
    set_label: list[str] = typer.Option([], "--set-label", help="Only sets with this label are roots: name=release"),
    no_datasets: bool = typer.Option(False, "--no-datasets", help="Valid registry datasets are not roots"),
    grace: str = typer.Option("10m", help="Never touch rows or blobs written this recently (concurrent writers)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Delete what no root reaches (roots: pins, sets, valid datasets, --keep-newer, --keep-last)."""
    import provkit as p

    report = p.gc(dry_run=dry_run, keep_newer=keep_newer, keep_last=keep_last, set_labels=_label_filters(set_label),
                  datasets=not no_datasets, grace=grace)  # fmt: skip
    if as_json:
        print_json(report.to_dict())
        return
    rows = [[name, count, human_size(nbytes)] for name, (count, nbytes) in report.by_name.items()]
    if rows:
        print_table(["function", "rows", "bytes"], rows, True, flex=("function",))
    say(str(report) + f" in {report.seconds:.2f} s; roots: " + ", ".join(f"{k} {v}" for k, v in report.roots.items()))
    if report.recent_blobs_kept:
        err.print(f"{report.recent_blobs_kept} blobs newer than the grace period were kept", highlight=False)


@app.command()
def du(
    by: str = typer.Option("name", help="Group by name, user, label or age"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Bytes and counts of the repository by function name, user, label or age."""
    import provkit as p

    if by not in ("name", "user", "label", "age"):
        raise ValueError(f"unknown --by {by!r}: use name, user, label or age")
    usage = p.du()
    if as_json:
        print_json(usage)
        return
    rows = [[key, v["count"], human_size(v["bytes"])] for key, v in usage[f"by_{by}"].items()]
    total = usage["total"]
    rows.append(["(total)", total["count"], human_size(total["bytes"])])
    print_table([by, "count", "bytes"], rows, True, flex=(by,))
    if usage["orphan_blobs"]:
        say(f"{usage['orphan_blobs']} orphan blobs (no row names them): `provkit gc` removes them")


@app.command()
def verify(
    repair: bool = typer.Option(
        False, "--repair", help="Copy good copies over bad ones in a chained store; mark the rest"
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Re-hash every blob; report missing, corrupt and orphan blobs and rows whose inputs are gone."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    import provkit as p

    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=err, transient=True, disable=as_json) as bar:
        task = bar.add_task("verifying", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = p.verify(repair=repair, progress=progress)
    if as_json:
        print_json(report.to_dict())
    else:
        for problem in report.problems:
            state = " (repaired)" if problem.repaired else ""
            say(f"{problem.kind}: {problem.detail}{state}")
        rate = human_size(int(report.bytes_per_second))
        verdict = "ok" if report.ok else f"{len(report.problems)} problems"
        size = human_size(report.bytes)
        say(
            f"checked {report.rows} rows, {report.blobs} blob copies ({size}) "
            f"in {report.seconds:.2f} s, {rate}/s: {verdict}"
        )
    if not report.ok:
        left = sum(1 for x in report.problems if not x.repaired)
        raise p.ProvkitError(f"verify found {left} problem(s) left unrepaired")


@app.command()
def retract(
    record_id: str = typer.Argument(..., help="Id (or a unique prefix) of an artifact, file artifact or dataset"),
    reason: str = typer.Option(..., "--reason", help="What is wrong with it (shown wherever its taint shows)"),
) -> None:
    """Mark a record as wrong: everything built on it downstream becomes tainted."""
    import provkit as p
    from provkit.interfaces.cli._ids import resolve

    full = resolve(record_id)
    p.retract(full, reason)
    tainted = [rid for rid, root in p.tainted().items() if root == full and rid != full]
    say(f"retracted {full}; {len(tainted)} downstream records are tainted")


@app.command()
def unretract(record_id: str = typer.Argument(..., help="Id (or a unique prefix) of a retracted record")) -> None:
    """Clear a retraction (descendants with no other retracted ancestor are clean again)."""
    import provkit as p
    from provkit.interfaces.cli._ids import resolve

    full = resolve(record_id)
    if not p.unretract(full):
        raise ValueError(f"{full} is not retracted")
    say(f"unretracted {full}")


@app.command()
def explain(
    artifact_id: str = typer.Argument(..., help="Id (or a unique prefix) of an artifact"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Why an artifact was computed: what differs from the earlier artifacts of its function."""
    import provkit as p
    from provkit.interfaces.cli._ids import resolve

    explanation = p.explain_artifact(resolve(artifact_id))
    if as_json:
        print_json(explanation.to_dict())
        return
    for line in str(explanation).splitlines():
        say(line)


@app.command("diff")
def diff_cmd(
    a: str = typer.Argument(..., help="Id (or a unique prefix) of the first result"),
    b: str = typer.Argument(..., help="Id (or a unique prefix) of the second result"),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json, dot or svg (differing records filled)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Two results side by side through their lineage: the first points where they diverge."""
    import provkit as p
    from provkit.interfaces.cli._ids import resolve

    if fmt not in ("text", "json", "dot", "svg"):
        raise ValueError(f"unknown --format {fmt!r}: use text, json, dot or svg")
    result = p.diff(resolve(a), resolve(b))
    if as_json or fmt == "json":
        print_json(result.to_dict())
    elif fmt == "dot":
        print(result.to_dot())
    elif fmt == "svg":
        try:
            import graphviz
        except ImportError as exc:
            raise p.ConfigError("--format svg needs graphviz: pip install 'provkit[vis]'") from exc

        print(graphviz.Source(result.to_dot()).pipe(format="svg").decode())
    else:
        for line in str(result).splitlines():
            say(line)
