"""The command line of living with a repository: pin, unpin, pins, gc, du."""

from __future__ import annotations

import json

import numpy as np

import provkit as p
from provkit.storage.config import embedded_config


def _home_with_two_results(tmp_path):
    p.load_config(embedded_config(str(tmp_path / "home")))

    @p.provenance(name="cli.make")
    def make(i):
        return np.full(5000, float(i))

    return make(1), make(2)


def test_pin_gc_dry_run_and_du_on_the_command_line(cli, tmp_path):
    keep, _drop = _home_with_two_results(tmp_path)
    proc = cli("pin", keep.artifact.id[:10], "--reason", "in the paper")
    assert f"pinned {keep.artifact.id}" in proc.stdout
    listed = json.loads(cli("pins", "--json").stdout)
    assert [(x["id"], x["reason"]) for x in listed] == [(keep.artifact.id, "in the paper")]
    dry = cli("gc", "--dry-run", "--grace", "0")
    assert "cli.make" in dry.stdout and "would delete 1 rows, 1 blobs" in dry.stdout
    assert len(list(p.get_default_repo().artifact_ids())) == 2
    report = json.loads(cli("gc", "--grace", "0", "--json").stdout)
    assert report["rows"] == 1 and report["blobs"] == 1 and report["bytes"] >= 40000
    assert list(p.get_default_repo().artifact_ids()) == [keep.artifact.id]
    usage = json.loads(cli("du", "--json").stdout)
    assert usage["total"]["count"] == 1 and usage["by_name"]["cli.make"]["bytes"] >= 40000
    table = cli("du", "--by", "user").stdout
    assert "(total)" in table
    assert "unpinned" in cli("unpin", keep.artifact.id).stdout
    bad = cli("unpin", keep.artifact.id, ok=False)
    assert bad.returncode == 1 and "is not pinned" in bad.stderr
    assert "error" in cli("gc", "--keep-newer", "soon", ok=False).stderr
    assert "--by" in cli("du", "--by", "colour", ok=False).stderr
