"""``version="auto"``: the version is the hash of the function's source and of its callees
in the same package (issue 14); the recorded source hash covers the callees too."""

from __future__ import annotations

import functools
import importlib
import sys
import textwrap
import warnings

import pytest

import provkit as p
import provkit.services.decorator as decorator_module
from lifecycle_helpers import kind_repo_fixture  # noqa: F401 - the kind_repo fixture
from provkit.core import source_check
from provkit.core.source_deps import callee_sources

STEPS = """
import numpy as np
import provkit as p
from {pkg} import helpers
from {pkg}.helpers import Scaler

@p.provenance(version={version!r})
def step(x):
    return helpers.clean(x) + int(np.sum([x])) + Scaler().k
"""

HELPERS = """
def _inner(x):
    return x * {factor}

def clean(x):
    return _inner(x)

class Scaler:
    k = {k}
"""


def _write(root, pkg, *, factor=1, k=0, version="auto"):
    folder = root / pkg
    folder.mkdir(exist_ok=True)
    (folder / "__init__.py").write_text("")
    (folder / "helpers.py").write_text(textwrap.dedent(HELPERS.format(factor=factor, k=k)))
    (folder / "steps.py").write_text(textwrap.dedent(STEPS.format(pkg=pkg, version=version)))


def _load(pkg):
    """Import (or re-import after an edit) the helpers, then the steps module."""
    importlib.invalidate_caches()
    for name in (f"{pkg}.helpers", f"{pkg}.steps"):
        if name in sys.modules:
            importlib.reload(sys.modules[name])
        else:
            importlib.import_module(name)
    return sys.modules[f"{pkg}.steps"]


@pytest.fixture
def pkg_root(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("autopkg")]:
        del sys.modules[name]


def test_editing_a_callee_in_the_same_package_recomputes_and_explain_says_so(kind_repo, pkg_root):
    _write(pkg_root, "autopkg_a", factor=2)
    steps = _load("autopkg_a")
    first = steps.step(5)
    assert first == 10 + 5 and steps.step(5).artifact.id == first.artifact.id  # a hit
    recorded = kind_repo.get_artifact(first.artifact.id)
    assert recorded.version == steps.step._provkit.version and recorded.version != 0
    assert p.explain(steps.step, 5).hit

    _write(pkg_root, "autopkg_a", factor=3)  # _inner, a callee of a callee, changed
    steps = _load("autopkg_a")
    explanation = p.explain(steps.step, 5)
    assert not explanation.hit
    assert 'the source of autopkg_a.steps.step changed (version="auto"' in explanation.reason, explanation.reason
    [diff] = explanation.nearest[0].differences
    assert diff.what == "source"
    second = steps.step(5)
    assert second == 15 + 5, "computed again with the new callee"
    assert second.artifact.id != first.artifact.id and second.artifact.version != first.artifact.version

    _write(pkg_root, "autopkg_a", factor=3, k=100)  # a class it uses changed
    assert _load("autopkg_a").step(5) == 120


def test_a_callee_in_another_package_is_not_tracked(pkg_root):
    _write(pkg_root, "autopkg_b")
    steps = _load("autopkg_b")
    names = [name for name, _ in callee_sources(steps.step._provkit.fn)]
    assert names == ["autopkg_b.helpers.Scaler", "autopkg_b.helpers._inner", "autopkg_b.helpers.clean"]
    assert not any(n.startswith("numpy") for n in names)


def test_a_top_level_module_tracks_the_modules_beside_it(pkg_root):
    (pkg_root / "autopkg_side.py").write_text("def side(x):\n    return x\n")
    (pkg_root / "autopkg_main.py").write_text(
        "import json\nfrom autopkg_side import side\n\ndef f(x):\n    return side(json.dumps(x))\n"
    )
    main = importlib.import_module("autopkg_main")
    assert [name for name, _ in callee_sources(main.f)] == ["autopkg_side.side"]


def test_a_fixed_version_warns_when_a_callee_changed(any_repo, pkg_root, monkeypatch):
    monkeypatch.setattr(source_check, "_warned", set())  # once per process: once per repository here
    _write(pkg_root, "autopkg_c", factor=2, version=0)
    first = _load("autopkg_c").step(5)
    _write(pkg_root, "autopkg_c", factor=3, version=0)
    steps = _load("autopkg_c")
    with pytest.warns(p.SourceChangedWarning, match="autopkg_c.steps.step"):
        again = steps.step(5)
    assert again.artifact.id == first.artifact.id and again == 15, "same version: the old result (and a warning)"


def test_the_source_is_read_once_not_per_call(any_repo, monkeypatch):
    calls = []
    real = decorator_module.source_hash

    def counting(fn):
        calls.append(fn)
        return real(fn)

    monkeypatch.setattr(decorator_module, "source_hash", counting)

    @p.provenance(version="auto")
    def f(x):
        return x

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # provkit's warnings, not unrelated garbage's
        for i in range(5):
            f(i % 2)
    assert len(calls) == 1


def test_version_must_be_an_int_or_auto():
    with pytest.raises(p.ConfigError, match='int or "auto"'):

        @p.provenance(version="latest")
        def f(x):
            return x


def test_decorated_callees_are_followed_to_their_own_source():
    @p.provenance(name="va.inner")
    def inner(x):
        return x + 1

    def deco(f):
        @functools.wraps(f)
        def wrapper(*args):
            return f(*args)

        return wrapper

    @deco
    def wrapped(x):
        return x * 2

    def outer(x):
        return inner(x) + wrapped(x)

    found = dict(callee_sources(outer))
    assert sorted(name.rsplit(".", 1)[-1] for name in found) == ["inner", "wrapped"]
    assert any("return x + 1" in source for source in found.values()), "the @provenance function's own source"
    assert any("return x * 2" in source for source in found.values()), "the function under functools.wraps"


def test_artifacts_recorded_before_callees_counted_do_not_warn(any_repo, pkg_root, monkeypatch):
    from provkit.core.source_check import own_source_hash

    monkeypatch.setattr(source_check, "_warned", set())
    _write(pkg_root, "autopkg_d", factor=2, version=0)
    steps = _load("autopkg_d")
    tracked = steps.step._provkit
    old_style = own_source_hash(tracked.fn)
    assert tracked.source_hash != old_style, "it has callees"
    made = steps.step(5)
    if hasattr(any_repo, "engine"):  # record it as an older provkit did: the own source only
        with any_repo.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE artifacts SET source_hash = ? WHERE id = ?", (old_style, made.artifact.id))
    else:
        any_repo._records[made.artifact.id][1]["_seal"].source_hash = old_style
    assert any_repo.get_artifact(made.artifact.id)._seal.source_hash == old_style
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # provkit's warnings, not unrelated garbage's
        assert steps.step(5) == 15
    _write(pkg_root, "autopkg_d", factor=2, version=0)
    (pkg_root / "autopkg_d" / "steps.py").write_text(
        (pkg_root / "autopkg_d" / "steps.py").read_text().replace("+ Scaler().k", "+ Scaler().k + 0")
    )
    with pytest.warns(p.SourceChangedWarning):  # the function itself changed: warned as before
        _load("autopkg_d").step(5)
    # and explain does not call the hashing scheme a source change
    _write(pkg_root, "autopkg_d", factor=2, version=0)
    explanation = p.explain(_load("autopkg_d").step, 6)
    assert "source" not in explanation.reason and "argument 'x': 5 -> 6" in explanation.reason, explanation.reason
