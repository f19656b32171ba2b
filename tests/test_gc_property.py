"""Property: over random graphs of artifacts, sets and pins, gc never deletes anything a
root reaches, and every row left afterwards loads (memory and SQLite)."""

from __future__ import annotations

import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import provkit as p
from lifecycle_helpers import config_for


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 10))
    parents = [draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else [] for i in range(n)]
    big = [draw(st.booleans()) for _ in range(n)]  # blob-stored or inline values
    shared = [draw(st.integers(0, 2)) for _ in range(n)]  # equal values share a blob
    sets = draw(st.lists(st.lists(st.integers(0, n - 1), min_size=1, max_size=4, unique=True), max_size=3))
    pins = draw(st.lists(st.integers(0, n - 1), max_size=3, unique=True))
    chosen = draw(st.lists(st.integers(0, 2), max_size=2, unique=True))  # which set labels are roots
    only_some = draw(st.booleans())
    return n, parents, big, shared, sets, pins, chosen, only_some


def _check(kind: str, graph) -> None:
    n, parents, big, shared, sets, pins, chosen, only_some = graph
    with tempfile.TemporaryDirectory() as root:
        p.load_config(config_for(kind, root))
        repo = p.get_default_repo()

        @p.provenance(name="prop.node")
        def node(i, big, shared, *inputs):
            return np.full(3000 if big else 3, float(shared))

        made = []
        for i in range(n):
            made.append(node(i, big[i], shared[i], *[made[j] for j in parents[i]]))
        set_ids = []
        for k, members in enumerate(sets):
            set_ids.append(p.create_set([made[j] for j in members], labels={"name": f"s{k}"}).id)
        for j in pins:
            p.pin(made[j], "kept")
        roots = {made[j].artifact.id for j in pins}
        for k, members in enumerate(sets):
            if not only_some or k in chosen:
                roots |= {made[j].artifact.id for j in members}
        reachable = set(roots)
        for r in roots:
            reachable |= set(repo.ancestors(r))
        labels = [{"name": f"s{k}"} for k in chosen] if only_some else None
        report = p.gc(grace=0, set_labels=labels)
        remaining = set(repo.artifact_ids())
        assert reachable <= remaining
        assert remaining == reachable  # and everything unreachable went
        assert report.rows == n - len({m.artifact.id for m in made} & reachable)
        for rid in remaining:
            value = repo.load_value(repo.get_artifact(rid))
            assert value.shape in ((3000,), (3,))
        if repo.store is not None:
            referenced = {repo.get_artifact(r).value_id for r in remaining}
            assert set(repo.store.keys()) <= referenced | remaining  # orphans went too


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_gc_property_memory(graph):
    _check("memory", graph)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_gc_property_sqlite(graph):
    _check("sqlite", graph)
