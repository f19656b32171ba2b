#!/usr/bin/env bash
# Every test, exactly as CI runs it (.ci/run calls this): set up what is missing, lint, then
# the whole pytest suite. Arguments go to pytest (e.g. -x, -k name).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/_python.sh
"$PY" -m ruff check src tests bench examples
"$PY" -m ruff format --check src tests bench examples
# lint-imports: the layer contracts in pyproject.toml ([tool.importlinter])
"$PY" -c "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
exec "$PY" -m pytest -q "$@"
