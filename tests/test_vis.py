"""Lineage pictures with graphviz."""

from __future__ import annotations

import re
import shutil

import pytest

import provkit as p
import provkit.interfaces.vis as vis


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


def test_datasets_and_executions_are_drawn_with_their_artifacts(pipeline, tmp_path):
    result = pipeline[2]
    reg = p.Registry(owner="vis")
    source = tmp_path / "table.csv"
    source.write_text("a,b\n")
    ex = reg.register_execution("stage-1", input_datasets=[result])
    ds = reg.register_dataset("tables/t.csv", "2.1.0", old_location=source, execution_id=ex, name="table")
    source_text = vis.visualize_lineage(ds).source
    root_line = next(line for line in source_text.splitlines() if line.strip().startswith(ds.id))
    assert "shape=folder" in root_line and "#c0392b" in root_line, "the dataset is the marked root"
    assert "2.1.0" in root_line and ds.id[:14] in root_line and "user/vis/tables/t.csv" in root_line
    assert "stage-1" in source_text and "shape=ellipse" in source_text
    assert "expensive_mult" in source_text and "expensive_add" in source_text, "artifacts upstream are drawn"
    assert f"{ex.id} -> {ds.id}" in source_text and f"{result.artifact.id} -> {ex.id}" in source_text
    down = vis.visualize_lineage(result, direction="down").source
    assert ds.id in down and ex.id in down and "expensive_add" not in down, "downstream only"
    both = vis.visualize_lineage(ex, direction="both").source
    assert ds.id in both and result.artifact.id in both
    assert "<table>" in ds._repr_html_() and "table" in ds._repr_html_()
    assert "stage-1" in ex._repr_html_()
    if shutil.which("dot"):
        assert "<svg" in ds._repr_svg_() and "<svg" in ex._repr_svg_()
