"""Breadth-first walks over lineage edges (a repository's ``parents_of``/``children_of``)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["check_depth", "walk"]


def check_depth(depth: int | None) -> None:
    """A walk's depth is a non-negative int or None (no limit)."""
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 0):
        raise ValueError(f"depth must be a non-negative int or None, got {depth!r}")


def walk(start: str, neighbours: Callable[[list[str]], dict[str, list[str]]], depth: int | None) -> dict[str, int]:
    """Breadth-first distances from ``start`` (excluded); ``neighbours`` maps a frontier
    to each node's neighbours in one call."""
    check_depth(depth)
    seen: dict[str, int] = {}
    frontier = [start]
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        nxt = []
        for ids in neighbours(frontier).values():
            for node in ids:
                if node not in seen and node != start:
                    seen[node] = level
                    nxt.append(node)
        frontier = nxt
    return seen
