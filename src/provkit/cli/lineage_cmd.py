"""provkit lineage ID: ancestors or descendants as a tree, JSON, DOT, SVG or PROV-JSON."""

from __future__ import annotations

import typer
from rich.tree import Tree

from ._app import app, out, print_json


@app.command()
def lineage(
    artifact_id: str,
    up: bool = typer.Option(True, "--up/--down", help="Ancestors (default) or descendants"),
    depth: int = typer.Option(None, help="How many steps (default: all)"),
    fmt: str = typer.Option("tree", "--format", "-f", help="tree, json, dot, svg or prov"),
) -> None:
    """What an artifact came from (--up) or what was built from it (--down)."""
    import provkit as p
    from provkit import lineage as lin

    root = p.load_artifact(artifact_id)
    related = lin.ancestors(root, depth) if up else lin.descendants(root, depth)
    if fmt == "json":
        print_json({"id": artifact_id, "direction": "up" if up else "down", "related": related})
    elif fmt == "prov":
        if not up:
            raise ValueError("PROV export describes where a record came from: use --up")
        print(lin.to_prov_json(root, depth))
    elif fmt in ("dot", "svg"):
        from provkit.vis import visualize_lineage

        graph = visualize_lineage(root, depth)
        print(graph.source if fmt == "dot" else graph.svg())
    elif fmt == "tree":
        repo = root.repo
        tree = Tree(f"[bold]{root.name}[/bold] v{root.version} {root.id[:14]}")
        for node, distance in sorted(related.items(), key=lambda kv: kv[1]):
            art = repo.get_artifact(node)
            tree.add(f"{'↑' if up else '↓'}{distance} {art.name} v{art.version} {art.id[:14]} ({art.kind})")
        out.print(tree)
    else:
        raise ValueError(f"unknown --format {fmt!r}: use tree, json, dot, svg or prov")
