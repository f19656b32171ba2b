"""Two results side by side through their lineage: where they diverge.

``diff(a, b)`` compares how ``a`` and ``b`` were made (artifacts, file artifacts or
datasets): function version and source, argument values, input files, run environment
(packages, git commit), following inputs that differ upstream. The *divergence points*
are the deepest differences: where the two lineages first part. ``to_dot()`` draws both
lineages in one graphviz picture with the differing records filled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provkit.core.artifacts import record_id_of
from provkit.services.lifecycle.compare import Difference, compare, facts_of
from provkit.services.lifecycle.pins import resolve_repo
from provkit.storage.repos.base import Repository

__all__ = ["LineageDiff", "diff"]


@dataclass
class LineageDiff:
    """The differences between two records, as a tree following inputs upstream."""

    a: str
    b: str
    differences: list[Difference]
    repo: Any = field(repr=False, default=None)

    @property
    def same(self) -> bool:
        return not self.differences

    def divergences(self) -> list[tuple[tuple[str, ...], Difference]]:
        """The deepest differences with the path of (old -> new) input pairs leading to them."""
        out: list[tuple[tuple[str, ...], Difference]] = []

        def walk(diffs: list[Difference], path: tuple[str, ...]) -> None:
            for d in diffs:
                if d.upstream:
                    walk(d.upstream, (*path, f"{d.old_id} -> {d.new_id}"))
                else:
                    out.append((path, d))

        walk(self.differences, ())
        return out

    def differing_ids(self) -> set[str]:
        """Records whose making differs (the two results and the inputs on divergence paths)."""
        ids = {self.a, self.b} if self.differences else set()

        def walk(diffs: list[Difference]) -> None:
            for d in diffs:
                ids.update(i for i in (d.old_id, d.new_id) if i)
                walk(d.upstream)

        walk(self.differences)
        return ids

    def to_dict(self) -> dict:
        return {
            "a": self.a, "b": self.b, "same": self.same,
            "divergences": [{"path": list(path), **d.to_dict()} for path, d in self.divergences()],
            "differences": [d.to_dict() for d in self.differences],
        }  # fmt: skip

    def __str__(self) -> str:
        if self.same:
            return f"{self.a} and {self.b} were made the same way"
        lines = [f"{self.a} vs {self.b}:"]
        for d in self.differences:
            lines.extend(d.lines(1))
        lines.append("first divergence points:")
        for path, d in self.divergences():
            lines.append("  * " + d.detail + (f"  (via {' / '.join(p[:14] + '…' for p in path)})" if path else ""))
        return "\n".join(lines)

    def to_dot(self) -> str:
        """Both lineages in one graphviz DOT picture; differing records are filled."""
        from provkit.services.lineage import describe, get_record

        repo = self.repo
        marked = self.differing_ids()
        nodes: set[str] = {self.a, self.b}
        edges: set[tuple[str, str]] = set()
        for root in (self.a, self.b):
            up = repo.ancestors(root)
            nodes.update(up)
        for child, parents in repo.parents_of(sorted(nodes)).items():
            for parent in parents:
                if parent in nodes:
                    edges.add((parent, child))
        lines = ["digraph lineage_diff {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
        for node in sorted(nodes):
            try:
                label = describe(get_record(repo, node))
            except Exception:
                label = f"missing {node[:14]}"
            style = ', style=filled, fillcolor="#f4a6a6"' if node in marked else ""
            if node in (self.a, self.b):
                style += ", penwidth=2"
            lines.append(f"  {json.dumps(node)} [label={json.dumps(label)}{style}];")
        for parent, child in sorted(edges):
            lines.append(f"  {json.dumps(parent)} -> {json.dumps(child)};")
        lines.append("}")
        return "\n".join(lines)


def diff(a: Any, b: Any, repo: Repository | str | None = None, *, env: bool = True) -> LineageDiff:
    """Compare two results (proxies, Artifacts, datasets or ids) through their lineage."""
    from provkit.services.lineage import get_record

    repo = resolve_repo(repo)
    ia, ib = record_id_of(a), record_id_of(b)
    ra, rb = get_record(repo, ia), get_record(repo, ib)
    differences = compare(repo, facts_of(repo, ra), facts_of(repo, rb), env=env)
    return LineageDiff(ia, ib, differences, repo)
