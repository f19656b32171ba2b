#!/usr/bin/env bash
# The main job: set up what is missing, then run the intro guide on the embedded default
# repository ($PROVKIT_HOME, by default ~/.local/share/provkit). Arguments go to the guide
# (e.g. --out DIR for its lineage picture; default: a fresh temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
source scripts/_python.sh
exec "$PY" examples/intro_guide.py "$@"
