"""Two scripts defining ``__main__.f`` with different code: the second one is warned (issue 11)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import provkit as p

SCRIPT = """
import logging, warnings
import provkit as p
logging.basicConfig(level=logging.WARNING, format="LOG %(name)s %(message)s")

@p.provenance()
def f(x):
    return x {op} 1

print("RESULT", f(10), f(10), f(11))
"""


def _run(tmp_path, op: str, name: str) -> subprocess.CompletedProcess:
    script = tmp_path / name
    script.write_text(textwrap.dedent(SCRIPT.format(op=op)))
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=120,
        env={**__import__("os").environ, "PROVKIT_HOME": str(tmp_path / "home")},
    )  # fmt: skip


def test_main_redefined_with_other_source_warns_once_per_process(tmp_path):
    first = _run(tmp_path, "+", "one.py")
    assert "RESULT 11 11 12" in first.stdout and "SourceChangedWarning" not in first.stderr
    second = _run(tmp_path, "*", "two.py")
    assert "RESULT 11 11 12" in second.stdout, "the same name and version share results (as documented)"
    assert second.stderr.count(": SourceChangedWarning:") == 1, second.stderr
    assert "two.py" in second.stderr, "the warning points at the call in the script"
    assert second.stderr.count("LOG provkit __main__.f (version 0)") == 1, "and one log line"
    assert "bump @provenance(version=...)" in second.stderr and "filterwarnings" in second.stderr
    same_again = _run(tmp_path, "+", "three.py")
    assert "SourceChangedWarning" not in same_again.stderr, "the source that made the results: no warning"


def test_source_hash_is_recorded_and_same_source_is_silent(any_repo):
    @p.provenance()
    def g(x):
        return x

    made = g(1)
    recorded = any_repo.get_artifact(made.artifact.id)._seal.source_hash
    assert recorded is not None and recorded.startswith("src:")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # provkit's warnings, not unrelated garbage's
        g(1)
