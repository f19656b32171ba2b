"""explain a miss (argument, version, source, upstream recomputation), a hit, p.stats()
and the provkit logger; on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

import provkit as p
from lifecycle_helpers import kind_repo_fixture  # noqa: F401 - the kind_repo fixture
from provkit.storage.config import embedded_config

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def test_a_hit_names_the_artifact_and_keys_match_the_call(kind_repo):
    @p.provenance(name="e.f")
    def f(a, b=2, *rest, **kw):
        return a

    made = f(1, 3, 4, z=5)
    explanation = p.explain(f, 1, 3, 4, z=5)
    assert explanation.hit and explanation.artifact_id == made.artifact.id
    assert made.artifact.id in explanation.reason
    assert p.explain(f, 1, 3, 4, z=6).artifact_id == f(1, 3, 4, z=6).artifact.id  # same key as the call


def test_a_miss_names_the_changed_argument_with_old_and_new(kind_repo):
    @p.provenance(name="e.train")
    def train(data, lr=0.1, epochs=3):
        return float(np.sum(data)) * lr

    data = np.arange(1000.0)
    train(data, lr=0.1)
    explanation = p.explain(train, data, lr=0.01)
    assert not explanation.hit
    [diff] = explanation.nearest[0].differences
    assert (diff.what, diff.name, diff.old, diff.new) == ("argument", "lr", 0.1, 0.01)
    assert "argument 'lr': 0.1 -> 0.01" in explanation.reason
    big = p.explain(train, data + 1, lr=0.1)
    assert "argument 'data' has another value (hash" in big.reason


def test_a_miss_names_a_version_bump_and_a_source_change(kind_repo):
    @p.provenance(name="e.g", version=1)
    def g(x):
        return x + 1

    g(1)

    @p.provenance(name="e.g", version=2)
    def g2(x):
        return x + 1

    assert "version 1 -> 2 of e.g" in p.explain(g2, 1).reason

    @p.provenance(name="e.g", version=1)
    def g3(x):
        return x + 100  # edited without bumping the version

    e = p.explain(g3, 2)
    assert "the source of e.g changed" in e.reason and "argument 'x': 1 -> 2" in e.reason


def test_a_miss_follows_a_recomputed_input_upstream(kind_repo):
    @p.provenance(name="e.load")
    def load(path):
        return np.arange(10) * len(path)

    @p.provenance(name="e.fit")
    def fit(x, k=1):
        return float(x.sum()) * k

    fit(load("a.csv"))
    e = p.explain(fit, load("bb.csv"))
    [diff] = e.nearest[0].differences
    assert diff.what == "input" and diff.name == "x"
    [upstream] = diff.upstream
    assert (upstream.what, upstream.name, upstream.old, upstream.new) == ("argument", "path", "a.csv", "bb.csv")
    text = str(e)
    assert "recomputed" in text and 'argument \'path\': "a.csv" -> "bb.csv"' in text


def test_explain_rejects_plain_functions(kind_repo):
    with pytest.raises(p.ProvkitError, match="not a @provenance function"):
        p.explain(len, [1])


def test_stats_and_the_logger(kind_repo, caplog):
    @p.provenance(name="e.slow")
    def slow(i):
        return i * 2

    p.reset_stats()
    with caplog.at_level(logging.DEBUG, logger="provkit"):
        slow(1)
        slow(1)
        slow(2)
    s = p.stats()
    assert (s["hits"], s["misses"]) == (1, 2) and s["by_name"]["e.slow"] == {"hits": 1, "misses": 2}
    assert s["time_saved"] > 0
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("hit e.slow") for m in messages)
    assert any(m.startswith("miss e.slow") for m in messages)
    assert "e.slow: miss: argument 'i': 1 -> 2" in messages


def test_provkit_log_info_prints_miss_reasons(tmp_path):
    script = (
        f"import sys; sys.path.insert(0, {SRC!r})\n"
        "import provkit as p\n"
        "@p.provenance(name='e.env')\n"
        "def f(n):\n    return n\n"
        "f(1); f(2)\n"
    )
    env = {**os.environ, "PROVKIT_LOG": "info", "PROVKIT_HOME": str(tmp_path / "h")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "provkit INFO e.env: miss: argument 'n': 1 -> 2" in done.stderr
    env["PROVKIT_LOG"] = "loud"
    bad = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "PROVKIT_LOG must be" in bad.stderr


def test_explain_on_the_command_line(cli, tmp_path):
    p.load_config(embedded_config(str(tmp_path / "home")))

    @p.provenance(name="e.cli")
    def f(n, mode="fast"):
        return n

    f(1)
    second = f(1, mode="exact")
    text = cli("explain", second.artifact.id[:12]).stdout
    assert 'argument \'mode\': "fast" -> "exact"' in text
    data = json.loads(cli("explain", second.artifact.id, "--json").stdout)
    assert data["nearest"][0]["differences"][0]["name"] == "mode"
