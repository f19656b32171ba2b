"""Lineage pictures with graphviz."""

from __future__ import annotations

import re
import shutil

import pytest

import provkit as p
import provkit.vis as vis


@pytest.fixture
def pipeline(any_repo):
    @p.provenance()
    def expensive_add(a, b):
        return a + b

    @p.provenance()
    def expensive_mult(a, b):
        return a * b

    a1, a2 = expensive_add(4, 3), expensive_add(1, 1)
    return a1, a2, expensive_mult(a1, a2)


def test_graph_has_every_ancestor_and_marks_the_root(pipeline):
    a1, a2, result = pipeline
    graph = vis.visualize_lineage(result)
    source = graph.source
    for proxy in (a1, a2, result):
        assert proxy.artifact.id in source
    assert re.search(rf'"?{a1.artifact.id}"? -> "?{result.artifact.id}"?', source)
    assert re.search(r"a=4", source), "literal inputs are drawn"
    assert ":" not in re.sub(r'(label|color)=("[^"]*"|<.*?>)', "", source.split("{", 1)[1]), "no graphviz ports"
    assert "#c0392b" in source  # the root is outlined
    assert "expensive_add" in source and "v0" in source


def test_depth_limits_the_graph(pipeline):
    a1, _, result = pipeline
    assert a1.artifact.id not in vis.visualize_lineage(result, depth=0).source


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the graphviz 'dot' program (installed by .ci/run)")
def test_renders_svg_for_jupyter(pipeline):
    svg = vis.visualize_lineage(pipeline[2])._repr_svg_()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    assert pipeline[2].artifact.id[:12] in svg


def test_accepts_ids_and_artifacts(pipeline):
    result = pipeline[2]
    assert vis.visualize_lineage(result.artifact.id).root_id == result.artifact.id
    assert vis.visualize_lineage(result.artifact).root_id == result.artifact.id
    with pytest.raises(TypeError):
        vis.visualize_lineage(3.5)


def test_artifacts_and_sets_render_in_jupyter(pipeline):
    a1, a2, result = pipeline
    page = result.artifact._repr_html_()
    assert "provkit.Artifact" in page and result.artifact.id in page and "expensive_mult" in page
    if shutil.which("dot"):
        assert "<svg" in page and "<svg" in result.artifact._repr_svg_()
    artifact_set = p.create_set([a1, a2], "pair")
    listing = artifact_set._repr_html_()
    assert a1.artifact.id in listing and "expensive_add" in listing and "pair" in listing
