# Sourced by scripts/*.sh: the Python that runs provkit here, in $PY.
# $PYTHON if set; else the project's .venv (made by setup.sh on an externally-managed
# Python, e.g. Debian's); else python3.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -n "${PYTHON:-}" ]; then
    PY="$PYTHON"
elif [ -x "$ROOT/.venv/bin/python" ]; then
    PY="$ROOT/.venv/bin/python"
    export PATH="$ROOT/.venv/bin:$PATH"   # the `provkit` command the README's shell examples call
else
    PY="python3"
fi
# Where setup.sh keeps one venv per other Python 3.10-3.13 for the golden-hash test
# (tests/test_hashing.py reads the same variable).
GOLDEN_VENVS="${PROVKIT_GOLDEN_VENVS:-$HOME/.cache/provkit/golden-venvs}"
