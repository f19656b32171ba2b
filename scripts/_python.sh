# Sourced by scripts/*.sh: the Python that runs provkit here, in $PY.
# $PYTHON (default python3), unless pip may not install into it (an externally-managed
# Python such as Debian's, PEP 668): then the project's .venv, which setup.sh makes.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
is_managed() {  # prints 1 when pip must not install into this Python and it is no venv
    "$1" -c 'import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
print(int(managed and sys.prefix == sys.base_prefix))' 2>/dev/null || echo 0
}
BASE_PY="${PYTHON:-python3}"
PY="$BASE_PY"
if command -v "$BASE_PY" >/dev/null && [ "$(is_managed "$BASE_PY")" = "1" ]; then
    PY="$ROOT/.venv/bin/python"
    export PATH="$ROOT/.venv/bin:$PATH"   # the `provkit` command the README's shell examples call
fi
# Where setup.sh keeps one venv per other Python 3.10-3.13 for the golden-hash test
# (tests/test_hashing.py reads the same variable).
GOLDEN_VENVS="${PROVKIT_GOLDEN_VENVS:-$HOME/.cache/provkit/golden-venvs}"
