"""provkit lineage ID: ancestors or descendants as a tree, JSON, DOT, SVG or PROV-JSON."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.tree import Tree

from provkit.interfaces.cli._app import app, out, print_json


@app.command()
def lineage(
    record_id: str = typer.Argument(..., help="Id (or a unique prefix) of an artifact, dataset or execution"),
    up: bool = typer.Option(True, "--up/--down", help="Ancestors (default) or descendants"),
    depth: int = typer.Option(None, help="How many steps (default: all)"),
    fmt: str = typer.Option("tree", "--format", "-f", help="tree, json, dot, svg or prov"),
) -> None:
    """What a record (artifact, dataset, execution) came from (--up) or what was built from it (--down)."""
    import provkit as p
    from provkit.interfaces.cli._ids import resolve
    from provkit.services import lineage as lin

    record_id = resolve(record_id)
    if fmt not in ("tree", "json", "dot", "svg", "prov"):
        raise ValueError(f"unknown --format {fmt!r}: use tree, json, dot, svg or prov")
    repo = p.get_default_repo()
    root = lin.get_record(repo, record_id)
    related = lin.ancestors(record_id, depth, repo) if up else lin.descendants(record_id, depth, repo)
    if fmt == "json":
        print_json({"id": record_id, "direction": "up" if up else "down", "related": related})
    elif fmt == "prov":
        if not up:
            raise ValueError("PROV export describes where a record came from: use --up")
        print(lin.to_prov_json(record_id, depth, repo))
    elif fmt in ("dot", "svg"):
        from provkit.interfaces.vis import visualize_lineage

        graph = visualize_lineage(root, depth, repo=repo, direction="up" if up else "down")
        print(graph.source if fmt == "dot" else graph.svg())
    else:
        tree = Tree(f"[bold]{escape(lin.describe(root))}[/bold]")
        for node, distance in sorted(related.items(), key=lambda kv: kv[1]):
            tree.add(f"{'↑' if up else '↓'}{distance} {escape(lin.describe(lin.get_record(repo, node)))}")
        out.print(tree)
