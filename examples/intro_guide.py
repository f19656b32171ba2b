"""The provenance intro guide, on provkit's embedded default (no server, no config).

Caching, proxies, artifact metadata, loading by id, a lineage picture and explicit
versioning. Run: python examples/intro_guide.py [--out DIR]
Artifacts go to $PROVKIT_HOME (default ~/.local/share/provkit); run it twice to see
every call come from the cache.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import provkit as p
import provkit.interfaces.vis as vis


@p.provenance()
def expensive_add(a, b):
    time.sleep(1)
    return a + b


@p.provenance()
def expensive_mult(a, b):
    time.sleep(1)
    return a * b


def timed(label, fn, *args):
    t0 = time.perf_counter()
    result = fn(*args)
    print(f"{label:<28} -> {result!r}  ({(time.perf_counter() - t0) * 1000:.1f} ms)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder for the lineage picture (default: a new temporary folder)")
    args = parser.parse_args()
    if args.out is None:
        args.out = tempfile.mkdtemp(prefix="provkit-intro-")
    os.makedirs(args.out, exist_ok=True)

    print(f"repository: {p.get_default_repo()!r}\n")
    print("1. Caching: the first call computes, the second is a cache hit")
    timed("expensive_add(4, 3)", expensive_add, 4, 3)
    result = timed("expensive_add(4, 3) again", expensive_add, 4, 3)

    print("\n2. The result is an ArtifactProxy: it behaves like 7 and carries its provenance")
    print(f"result + 3 = {result + 3}")
    artifact = result.artifact
    print(f"artifact           = {artifact!r}")
    print(f"fn_module, fn_name = {(artifact.fn_module, artifact.fn_name)}")
    print(f"inputs             = {artifact.inputs}")
    print(f"value_id           = {artifact.value_id}")
    run = artifact.run_info
    print(f"run: user={run['user']} host={run['host']['nodename']} git={run['git']}")

    print("\n3. Loading by id (e.g. an id a colleague sent you)")
    print(f"load_artifact -> {p.load_artifact(artifact.id)!r}")
    print(f"load_proxy    -> {p.load_proxy(artifact.id)!r}")

    print("\n4. Lineage across functions")
    a1, a2 = expensive_add(4, 3), timed("expensive_add(1, 1)", expensive_add, 1, 1)
    product = timed("expensive_mult(a1, a2)", expensive_mult, a1, a2)
    print(f"inputs of the product: {product.artifact.input_artifact_ids}")
    graph = vis.visualize_lineage(product)
    path = os.path.join(args.out, "provkit-intro-lineage.svg")
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(graph.svg())
        print(f"lineage picture written to {path}")
    except p.ProvkitError as exc:
        print(f"(no picture: {exc}); DOT source:\n{graph.source}")

    print("\n5. Versioning: bump version= when the code changes, or you get the old result")

    @p.provenance(name=f"{__name__}.expensive_add")
    def changed_add(a, b):
        return a + b + a + b + a

    timed("changed code, version 0", changed_add, 4, 3)

    @p.provenance(name=f"{__name__}.expensive_add", version=1)
    def versioned_add(a, b):
        time.sleep(1)
        return a + b + a + b + a

    timed("changed code, version 1", versioned_add, 4, 3)


if __name__ == "__main__":
    main()
