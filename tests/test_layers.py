"""The package's one-way layers: no import cycle at all, and nothing imports upwards.

Counts every import grimp sees, including those made inside functions; only imports under
``if TYPE_CHECKING:`` (annotations) are left out. ``lint-imports`` (run by scripts/test.sh)
checks the finer contracts in pyproject.toml.
"""

from __future__ import annotations

import subprocess
import sys

import grimp
import pytest

LAYERS = ("core", "storage", "services", "interfaces")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("provkit", cache_dir=None, exclude_type_checking_imports=True)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_anywhere_in_provkit(graph):
    edges = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    assert _cycles(edges) == []


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_lives_in_a_layer(graph):
    outside = {m for m in graph.modules if _layer(m) is None}
    # the public namespace, `python -m provkit` and the old-path aliases sit above the layers
    assert outside == {"provkit", "provkit.__main__", "provkit._aliases"}


def test_no_module_imports_a_layer_above_its_own(graph):
    upward = []
    for module in graph.modules:
        mine = _layer(module)
        for imported in graph.find_modules_directly_imported_by(module):
            theirs = _layer(imported)
            if mine is not None and (theirs is None or theirs > mine) and imported != "provkit":
                upward.append(f"{module} -> {imported}")
            if mine is not None and mine < LAYERS.index("interfaces") and imported == "provkit":
                upward.append(f"{module} -> provkit")
    assert upward == []


def test_import_contracts_hold():
    """lint-imports with the contracts in pyproject.toml (layers, independence, forbidden)."""
    lint_imports = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    done = subprocess.run(
        [sys.executable, "-c", lint_imports],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_old_module_paths_are_the_new_modules():
    """Documented and pickled paths still import, as the very same module objects."""
    from provkit.artifacts import ArtifactRef
    from provkit.repos.sql.postgres import PostgresRepo

    import provkit
    import provkit.core.artifacts
    import provkit.interfaces.vis
    import provkit.services.lineage
    import provkit.storage.repos.sql.postgres

    assert provkit.vis is provkit.interfaces.vis
    assert provkit.lineage is provkit.services.lineage
    assert ArtifactRef is provkit.core.artifacts.ArtifactRef
    assert PostgresRepo is provkit.storage.repos.sql.postgres.PostgresRepo
    assert provkit.storage.repos.sql.postgres.__spec__.name == "provkit.storage.repos.sql.postgres"


def test_the_readme_layout_names_every_module():
    """The README's Layout section draws the tree as it is: each layer's modules and folders."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text()
    layout = text[text.index("## Layout") : text.index("\n## ", text.index("## Layout") + 1)]
    package = root / "src" / "provkit"
    missing = []
    for layer in LAYERS:
        assert f"{layer}/" in layout
        for entry in sorted((package / layer).iterdir()):
            name = entry.name if entry.suffix == ".py" else f"{entry.name}/"
            if entry.name.startswith("_") or entry.name == "__pycache__" or entry.suffix not in (".py", ""):
                continue
            if name not in layout:
                missing.append(f"{layer}/{name}")
    assert missing == []
